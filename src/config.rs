//! Configuration from the environment, validated once at start.
//!
//! Every error names the variable, the field path inside it and the problem. Unknown fields are
//! errors: a typo such as `expect_stauts` must not silently turn a safety check off.

use crate::types::{AliasName, FunctionRef};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use wildmatch::WildMatch;

pub const TARGETS_VAR: &str = "DEPLOYER_TARGETS";
pub const ALIAS_VAR: &str = "DEPLOYER_ALIAS";
pub const TOPIC_VAR: &str = "DEPLOYER_TOPIC_ARN";
pub const TIMEOUT_VAR: &str = "DEPLOYER_UPDATE_TIMEOUT_SECS";
pub const PARALLEL_VAR: &str = "DEPLOYER_MAX_PARALLEL";
pub const DRY_RUN_VAR: &str = "DEPLOYER_DRY_RUN";
pub const NOTIFY_SKIPPED_VAR: &str = "DEPLOYER_NOTIFY_SKIPPED";
pub const KEEP_VERSIONS_VAR: &str = "DEPLOYER_KEEP_VERSIONS";

const DEFAULT_ALIAS: &str = "live";
const DEFAULT_TIMEOUT_SECS: u64 = 600;
const DEFAULT_MAX_PARALLEL: usize = 4;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{variable}{path}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    /// Where inside the variable, e.g. `[0].smoke.expect_status`; empty for a scalar variable.
    pub path: String,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable,
            path: path.into(),
            problem: crate::event::bounded(problem.into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub targets: Vec<Target>,
    pub alias: AliasName,
    pub topic_arn: Option<String>,
    pub update_timeout: Duration,
    pub max_parallel: usize,
    /// ECR events are only reported on, never acted on (manual payloads choose for themselves).
    pub dry_run: bool,
    /// Also notify skips, duplicates and dry runs.
    pub notify_skipped: bool,
}

/// One repository and the functions that run its images.
#[derive(Debug, Clone)]
pub struct Target {
    pub repository: String,
    pub functions: Vec<FunctionRef>,
    pub tags: Vec<String>,
    pub allow_untagged: bool,
    pub alias: AliasName,
    pub smoke: Smoke,
    /// 0 = never prune; otherwise how many published versions to keep (>= 2).
    pub keep_versions: u32,
    /// The account whose ECR registry holds the images (a central registry). `None`: the
    /// deployer's own account.
    pub registry_account: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Smoke {
    pub payload: Value,
    /// `None`: only check that the function did not error.
    pub expect_status: Option<Vec<u16>>,
}

impl Default for Smoke {
    fn default() -> Self {
        Self {
            payload: default_smoke_payload(),
            expect_status: default_expect_status(),
        }
    }
}

impl Target {
    /// Why a push with this tag is not for this target, or `None` when it is.
    pub fn tag_mismatch(&self, tag: Option<&str>) -> Option<String> {
        match tag {
            None if self.allow_untagged => None,
            None => Some(format!(
                "image pushed without a tag and repository {:?} does not set allow_untagged",
                self.repository
            )),
            Some(t) if self.tags.iter().any(|p| WildMatch::new(p).matches(t)) => None,
            Some(t) => Some(format!(
                "tag {t:?} matches none of {:?} configured for repository {:?}",
                self.tags, self.repository
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    repository: String,
    functions: Vec<String>,
    #[serde(default = "default_tags")]
    tags: Vec<String>,
    #[serde(default)]
    allow_untagged: bool,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    smoke: RawSmoke,
    #[serde(default)]
    keep_versions: Option<u32>,
    #[serde(default)]
    registry_account: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmoke {
    #[serde(default = "default_smoke_payload")]
    payload: Value,
    #[serde(default = "default_expect_status")]
    expect_status: Option<Vec<u16>>,
}

impl Default for RawSmoke {
    fn default() -> Self {
        Self {
            payload: default_smoke_payload(),
            expect_status: default_expect_status(),
        }
    }
}

fn default_tags() -> Vec<String> {
    vec!["*".to_owned()]
}

fn default_smoke_payload() -> Value {
    serde_json::json!({"httpMethod": "GET", "path": "/api/v1/health"})
}

fn default_expect_status() -> Option<Vec<u16>> {
    Some(vec![200])
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let alias = match get(ALIAS_VAR) {
            Some(a) => AliasName::parse(&a).map_err(|p| ConfigError::new(ALIAS_VAR, "", p))?,
            None => AliasName::parse(DEFAULT_ALIAS).expect("the default alias name is valid"),
        };
        let raw = get(TARGETS_VAR).ok_or_else(|| {
            ConfigError::new(
                TARGETS_VAR,
                "",
                "is not set: it must be a JSON array of {\"repository\": ..., \"functions\": [...]}",
            )
        })?;
        let keep_default = parse_number(&get, KEEP_VERSIONS_VAR, 0, 0, 10_000)?;
        if keep_default == 1 {
            return Err(ConfigError::new(
                KEEP_VERSIONS_VAR,
                "",
                "must be 0 (never prune) or at least 2: keeping one version would leave nothing to roll back to",
            ));
        }
        let targets = parse_targets(&raw, &alias, keep_default as u32)?;
        let topic_arn = match get(TOPIC_VAR).filter(|s| !s.is_empty()) {
            Some(arn) => {
                Some(check_topic_arn(&arn).map_err(|p| ConfigError::new(TOPIC_VAR, "", p))?)
            }
            None => None,
        };
        let timeout_secs =
            parse_number(&get, TIMEOUT_VAR, DEFAULT_TIMEOUT_SECS as usize, 1, 86_400)?;
        let max_parallel = parse_number(&get, PARALLEL_VAR, DEFAULT_MAX_PARALLEL, 1, 64)?;
        let dry_run = parse_bool(&get, DRY_RUN_VAR)?;
        let notify_skipped = parse_bool(&get, NOTIFY_SKIPPED_VAR)?;
        Ok(Self {
            dry_run,
            notify_skipped,
            targets,
            alias,
            topic_arn,
            update_timeout: Duration::from_secs(timeout_secs as u64),
            max_parallel,
        })
    }

    /// Targets whose repository is `repository`.
    pub fn targets_for(&self, repository: &str) -> Vec<&Target> {
        self.targets
            .iter()
            .filter(|t| t.repository == repository)
            .collect()
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ConfigError::new(
            var,
            "",
            format!("{other:?} is not a boolean: use true or false"),
        )),
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    let n: usize = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(var, "", format!("{raw:?} is not a whole number")))?;
    if !(min..=max).contains(&n) {
        return Err(ConfigError::new(
            var,
            "",
            format!("{n} is out of range: it must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

fn parse_targets(
    raw: &str,
    default_alias: &AliasName,
    default_keep: u32,
) -> Result<Vec<Target>, ConfigError> {
    let de = &mut serde_json::Deserializer::from_str(raw);
    let raws: Vec<RawTarget> = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            String::new()
        } else {
            path_suffix(&path)
        };
        ConfigError::new(TARGETS_VAR, path, e.into_inner().to_string())
    })?;
    if raws.is_empty() {
        return Err(ConfigError::new(
            TARGETS_VAR,
            "",
            "is an empty array: configure at least one repository",
        ));
    }
    let mut targets = Vec::with_capacity(raws.len());
    // A function may appear only once per repository: two entries would give it two smoke tests
    // and two aliases for the same push, and which one wins would be an accident of ordering.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (i, r) in raws.into_iter().enumerate() {
        let at = |field: &str| format!("[{i}].{field}");
        check_repository(&r.repository)
            .map_err(|p| ConfigError::new(TARGETS_VAR, at("repository"), p))?;
        if r.functions.is_empty() {
            return Err(ConfigError::new(
                TARGETS_VAR,
                at("functions"),
                "must not be empty",
            ));
        }
        let mut functions = Vec::with_capacity(r.functions.len());
        for (j, f) in r.functions.iter().enumerate() {
            let f = FunctionRef::parse(f)
                .map_err(|p| ConfigError::new(TARGETS_VAR, at(&format!("functions[{j}]")), p))?;
            if !seen.insert((r.repository.clone(), f.name().to_owned())) {
                return Err(ConfigError::new(
                    TARGETS_VAR,
                    at(&format!("functions[{j}]")),
                    format!(
                        "function {:?} is listed more than once for repository {:?}",
                        f.name(),
                        r.repository
                    ),
                ));
            }
            functions.push(f);
        }
        if r.tags.is_empty() {
            return Err(ConfigError::new(
                TARGETS_VAR,
                at("tags"),
                "must not be empty (leave it out to accept every tag)",
            ));
        }
        for (j, t) in r.tags.iter().enumerate() {
            check_tag_pattern(t)
                .map_err(|p| ConfigError::new(TARGETS_VAR, at(&format!("tags[{j}]")), p))?;
        }
        let alias = match &r.alias {
            Some(a) => {
                AliasName::parse(a).map_err(|p| ConfigError::new(TARGETS_VAR, at("alias"), p))?
            }
            None => default_alias.clone(),
        };
        if let Some(codes) = &r.smoke.expect_status {
            if codes.is_empty() {
                return Err(ConfigError::new(
                    TARGETS_VAR,
                    at("smoke.expect_status"),
                    "must not be empty (use null to check only that the function did not error)",
                ));
            }
            if let Some(bad) = codes.iter().find(|c| !(100..=599).contains(*c)) {
                return Err(ConfigError::new(
                    TARGETS_VAR,
                    at("smoke.expect_status"),
                    format!("{bad} is not an HTTP status code (100 to 599)"),
                ));
            }
        }
        if let Some(acct) = r
            .registry_account
            .as_deref()
            .filter(|a| !crate::types::is_account(a))
        {
            return Err(ConfigError::new(
                TARGETS_VAR,
                at("registry_account"),
                format!("{acct:?} is not a 12-digit AWS account id"),
            ));
        }
        let keep_versions = r.keep_versions.unwrap_or(default_keep);
        if keep_versions == 1 {
            return Err(ConfigError::new(
                TARGETS_VAR,
                at("keep_versions"),
                "must be 0 (never prune) or at least 2: keeping one version would leave nothing to roll back to",
            ));
        }
        targets.push(Target {
            repository: r.repository,
            functions,
            tags: r.tags,
            allow_untagged: r.allow_untagged,
            alias,
            smoke: Smoke {
                payload: r.smoke.payload,
                expect_status: r.smoke.expect_status,
            },
            keep_versions,
            registry_account: r.registry_account,
        });
    }
    Ok(targets)
}

/// serde_path_to_error prints `[0].smoke.expect_status`; a leading field gets a dot so the
/// variable name and the path read as one expression.
fn path_suffix(path: &str) -> String {
    if path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

/// ECR repository names: 2-256 characters, lowercase components separated by `.`, `_`, `-`, `/`.
pub fn check_repository(name: &str) -> Result<(), String> {
    let ok_chars = name.bytes().all(|b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b'/')
    });
    let sep = |c: char| matches!(c, '.' | '_' | '-' | '/');
    if !(2..=256).contains(&name.len())
        || !ok_chars
        || name.starts_with(sep)
        || name.ends_with(sep)
        || name.contains("//")
    {
        return Err(format!(
            "{name:?} is not an ECR repository name (2-256 characters: lowercase letters, digits, '.', '_', '-', '/')"
        ));
    }
    Ok(())
}

/// Tag globs: ECR tag characters plus `*` and `?`.
fn check_tag_pattern(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 128 {
        return Err(format!(
            "{p:?} is not a tag pattern: it must be 1 to 128 characters"
        ));
    }
    if !p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'*' | b'?'))
    {
        return Err(format!(
            "{p:?} is not a tag pattern: only tag characters (letters, digits, '.', '_', '-') and the wildcards '*' and '?' are allowed"
        ));
    }
    Ok(())
}

fn check_topic_arn(arn: &str) -> Result<String, String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name]
            if !partition.is_empty()
                && !region.is_empty()
                && crate::types::is_account(account)
                && !name.is_empty() =>
        {
            Ok(arn.to_owned())
        }
        _ => Err(format!(
            "{arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_fill_everything_but_repository_and_functions() {
        let c = load(&[(
            TARGETS_VAR,
            r#"[{"repository":"api","functions":["api-dev"]}]"#,
        )])
        .unwrap();
        assert_eq!(c.alias.as_str(), "live");
        assert_eq!(c.update_timeout, Duration::from_secs(600));
        assert_eq!(c.max_parallel, 4);
        assert_eq!(c.topic_arn, None);
        let t = &c.targets[0];
        assert_eq!(t.tags, vec!["*"]);
        assert!(!t.allow_untagged);
        assert_eq!(t.alias.as_str(), "live");
        assert_eq!(t.keep_versions, 0);
        assert_eq!(t.smoke, Smoke::default());
        assert_eq!(t.smoke.payload["path"], "/api/v1/health");
        assert_eq!(t.smoke.expect_status, Some(vec![200]));
    }

    #[test]
    fn explicit_values_are_kept() {
        let c = load(&[
            (
                TARGETS_VAR,
                r#"[{"repository":"team/api","functions":["arn:aws:lambda:eu-west-1:123456789012:function:a","b"],
                    "tags":["v*","release-?"],"allow_untagged":true,"alias":"prod",
                    "smoke":{"payload":{"ping":1},"expect_status":null},"keep_versions":5}]"#,
            ),
            (ALIAS_VAR, "current"),
            (TOPIC_VAR, "arn:aws:sns:eu-west-1:123456789012:deploys"),
            (TIMEOUT_VAR, "900"),
            (PARALLEL_VAR, "8"),
        ])
        .unwrap();
        let t = &c.targets[0];
        assert_eq!(c.alias.as_str(), "current");
        assert_eq!(t.alias.as_str(), "prod");
        assert_eq!(t.functions[0].name(), "a");
        assert_eq!(t.smoke.expect_status, None);
        assert_eq!(t.smoke.payload, serde_json::json!({"ping":1}));
        assert_eq!(t.keep_versions, 5);
        assert_eq!(c.update_timeout, Duration::from_secs(900));
        assert_eq!(c.max_parallel, 8);
        assert!(c.topic_arn.is_some());
        // Targets without their own settings inherit DEPLOYER_ALIAS and DEPLOYER_KEEP_VERSIONS.
        let c = load(&[
            (TARGETS_VAR, r#"[{"repository":"api","functions":["f"]},{"repository":"web","functions":["w"],"keep_versions":0}]"#),
            (ALIAS_VAR, "current"),
            (KEEP_VERSIONS_VAR, "10"),
        ])
        .unwrap();
        assert_eq!(c.targets[0].alias.as_str(), "current");
        assert_eq!(c.targets[0].keep_versions, 10);
        assert_eq!(
            c.targets[1].keep_versions, 0,
            "an explicit 0 wins over the default"
        );
    }

    #[test]
    fn tag_matching_uses_globs_and_the_untagged_switch() {
        let c = load(&[(
            TARGETS_VAR,
            r#"[{"repository":"api","functions":["f"],"tags":["v*","rc-?"]}]"#,
        )])
        .unwrap();
        let t = &c.targets[0];
        assert_eq!(t.tag_mismatch(Some("v1.2.3")), None);
        assert_eq!(t.tag_mismatch(Some("rc-1")), None);
        assert!(
            t.tag_mismatch(Some("rc-12"))
                .unwrap()
                .contains("matches none")
        );
        assert!(t.tag_mismatch(Some("latest")).is_some());
        assert!(t.tag_mismatch(None).unwrap().contains("allow_untagged"));
    }

    /// Each bad configuration and the exact error it gets.
    #[test]
    fn bad_configurations_name_the_variable_field_and_problem() {
        let f = r#""functions":["f"]"#;
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (vec![], "DEPLOYER_TARGETS: is not set"),
            (vec![(TARGETS_VAR, "".into())], "DEPLOYER_TARGETS: EOF while parsing"),
            (vec![(TARGETS_VAR, "{}".into())], "DEPLOYER_TARGETS: invalid type: map, expected a sequence"),
            (vec![(TARGETS_VAR, "[]".into())], "DEPLOYER_TARGETS: is an empty array"),
            (vec![(TARGETS_VAR, r#"[{"functions":["f"]}]"#.into())], "DEPLOYER_TARGETS[0]: missing field `repository`"),
            (vec![(TARGETS_VAR, r#"[{"repository":"api"}]"#.into())], "DEPLOYER_TARGETS[0]: missing field `functions`"),
            (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":[]}]"#.into())], "DEPLOYER_TARGETS[0].functions: must not be empty"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tag":["v*"]}}]"#))], "DEPLOYER_TARGETS[0].tag: unknown field `tag`"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_stauts":[200]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_stauts: unknown field `expect_stauts`"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":"200"}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: invalid type: string \"200\""),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":[]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: must not be empty"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":[99]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: 99 is not an HTTP status code"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"keep_versions":1}}]"#))], "DEPLOYER_TARGETS[0].keep_versions: must be 0 (never prune) or at least 2"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"keep_versions":-3}}]"#))], "DEPLOYER_TARGETS[0].keep_versions: invalid value: integer `-3`"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"Api",{f}}}]"#))], "DEPLOYER_TARGETS[0].repository: \"Api\" is not an ECR repository name"),
            (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["ok","bad name"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[1]: \"bad name\" is not a function name"),
            (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["arn:aws:lambda:eu-west-1:123456789012:function:f:live"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[0]: \"arn:aws:lambda:eu-west-1:123456789012:function:f:live\" is a qualified ARN"),
            (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["f","arn:aws:lambda:eu-west-1:123456789012:function:f"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[1]: function \"f\" is listed more than once for repository \"api\""),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tags":[]}}]"#))], "DEPLOYER_TARGETS[0].tags: must not be empty"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"registry_account":"12345"}}]"#))], "DEPLOYER_TARGETS[0].registry_account: \"12345\" is not a 12-digit AWS account id"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tags":["v 1"]}}]"#))], "DEPLOYER_TARGETS[0].tags[0]: \"v 1\" is not a tag pattern"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"alias":"1"}}]"#))], "DEPLOYER_TARGETS[0].alias: \"1\" is not an alias name: Lambda rejects all-digit alias names"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}},{{"repository":"web","functions":"f"}}]"#))], "DEPLOYER_TARGETS[1].functions: invalid type: string \"f\", expected a sequence"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ALIAS_VAR, "$LATEST".into())], "DEPLOYER_ALIAS: \"$LATEST\" is not an alias name"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TOPIC_VAR, "my-topic".into())], "DEPLOYER_TOPIC_ARN: \"my-topic\" is not an SNS topic ARN"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "ten".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: \"ten\" is not a whole number"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "0".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: 0 is out of range"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "0".into())], "DEPLOYER_MAX_PARALLEL: 0 is out of range"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "-1".into())], "DEPLOYER_MAX_PARALLEL: \"-1\" is not a whole number"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (DRY_RUN_VAR, "yes".into())], "DEPLOYER_DRY_RUN: \"yes\" is not a boolean"),
            (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (KEEP_VERSIONS_VAR, "1".into())], "DEPLOYER_KEEP_VERSIONS: must be 0 (never prune) or at least 2"),
        ];
        for (vars, expected) in cases {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let err = load(&vars).expect_err(expected).to_string();
            assert!(
                err.starts_with(expected),
                "expected {expected:?}\n     got {err:?}"
            );
        }
    }
}
