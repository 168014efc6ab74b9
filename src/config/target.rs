//! One entry of DEPLOYER_TARGETS: a repository and the functions that run its images.

use super::reconcile::ReconcileMode;
use super::rollout::Rollout;
use super::stage::After;
use super::{ConfigError, ImageChecks, TARGETS_VAR};
use crate::types::{Account, AliasName, FunctionRef, Repository, RoleArn, Tag, TagPattern};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct Target {
    pub repository: Repository,
    pub functions: Vec<FunctionRef>,
    pub tags: Vec<TagPattern>,
    pub allow_untagged: bool,
    pub alias: AliasName,
    pub smoke: Smoke,
    /// 0 = never prune; otherwise how many published versions to keep (>= 2).
    pub keep_versions: u32,
    /// The account whose ECR registry holds the images (a central registry). `None`: the
    /// deployer's own account.
    pub registry_account: Option<Account>,
    pub rollout: Rollout,
    /// What ECR must say about an image before it replaces anything (the target's own, else
    /// DEPLOYER_IMAGE_CHECKS). `None`: no checks.
    pub image_checks: Option<ImageChecks>,
    /// What a reconcile sweep does with a missed push (the target's own, else DEPLOYER_RECONCILE).
    pub reconcile_mode: ReconcileMode,
    /// The stage this target follows: it takes images only by promotion from there.
    pub after: Option<After>,
    /// A role in another account, assumed for this target's Lambda and ECR calls.
    pub assume_role_arn: Option<RoleArn>,
    /// GitHub deployments for this target's functions.
    pub github: Option<super::github::GitHubTarget>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smoke {
    #[serde(default = "default_smoke_payload")]
    pub payload: Value,
    /// `None`: only check that the function did not error.
    #[serde(default = "default_expect_status")]
    pub expect_status: Option<Vec<u16>>,
    /// How long the smoke test's Invoke may take (the function's own run included).
    #[serde(default = "default_smoke_timeout")]
    pub timeout_secs: u64,
}

impl Default for Smoke {
    fn default() -> Self {
        Self {
            payload: default_smoke_payload(),
            expect_status: default_expect_status(),
            timeout_secs: default_smoke_timeout(),
        }
    }
}

fn default_smoke_payload() -> Value {
    serde_json::json!({"httpMethod": "GET", "path": "/api/v1/health"})
}

fn default_expect_status() -> Option<Vec<u16>> {
    Some(vec![200])
}

fn default_smoke_timeout() -> u64 {
    60
}

impl Smoke {
    fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(codes) = &self.expect_status {
            if codes.is_empty() {
                return Err((
                    "smoke.expect_status",
                    "must not be empty (use null to check only that the function did not error)"
                        .into(),
                ));
            }
            if let Some(bad) = codes.iter().find(|c| !(100..=599).contains(*c)) {
                return Err((
                    "smoke.expect_status",
                    format!("{bad} is not an HTTP status code (100 to 599)"),
                ));
            }
        }
        if !(1..=900).contains(&self.timeout_secs) {
            return Err((
                "smoke.timeout_secs",
                format!(
                    "{} is out of range: it must be between 1 and 900 (Lambda's longest run)",
                    self.timeout_secs
                ),
            ));
        }
        Ok(())
    }
}

/// `keep_versions` and DEPLOYER_KEEP_VERSIONS share one rule.
pub(super) fn check_keep_versions(n: u32) -> Result<(), &'static str> {
    if n == 1 {
        return Err(
            "must be 0 (never prune) or at least 2: keeping one version would leave nothing to roll back to",
        );
    }
    Ok(())
}

impl Target {
    /// The account of `assume_role_arn`, where this target's functions, alarms and metrics live
    /// (validated as `arn:PARTITION:iam::ACCOUNT:role/NAME` when the configuration was read).
    pub fn role_account(&self) -> Option<&str> {
        self.assume_role_arn.as_ref().map(RoleArn::account)
    }

    /// Why a push with this tag is not for this target, or `None` when it is.
    pub fn tag_mismatch(&self, tag: Option<&Tag>) -> Option<String> {
        match tag {
            None if self.allow_untagged => None,
            None => Some(format!(
                "image pushed without a tag and repository {:?} does not set allow_untagged",
                self.repository.as_str()
            )),
            Some(t) if self.tags.iter().any(|p| p.matches(t)) => None,
            Some(t) => {
                let patterns: Vec<&str> = self.tags.iter().map(TagPattern::as_str).collect();
                Some(format!(
                    "tag {:?} matches none of {patterns:?} configured for repository {:?}",
                    t.as_str(),
                    self.repository.as_str()
                ))
            }
        }
    }
}

/// The JSON form: typed fields check themselves as serde reads them; defaults that depend on other
/// variables (alias, keep_versions) are filled in by [`parse_targets`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    repository: Repository,
    functions: Vec<FunctionRef>,
    #[serde(default = "any_tag")]
    tags: Vec<TagPattern>,
    #[serde(default)]
    allow_untagged: bool,
    #[serde(default)]
    alias: Option<AliasName>,
    #[serde(default)]
    smoke: Smoke,
    #[serde(default)]
    keep_versions: Option<u32>,
    #[serde(default)]
    registry_account: Option<Account>,
    #[serde(default)]
    rollout: Option<Rollout>,
    image_checks: Option<ImageChecks>,
    #[serde(default)]
    reconcile_mode: Option<ReconcileMode>,
    after: Option<After>,
    #[serde(default)]
    assume_role_arn: Option<String>,
    #[serde(default)]
    github: Option<super::github::GitHubTarget>,
}

fn any_tag() -> Vec<TagPattern> {
    vec![TagPattern::any()]
}

/// What a target gets when it does not say: from DEPLOYER_ALIAS, DEPLOYER_KEEP_VERSIONS,
/// DEPLOYER_ROLLOUT and DEPLOYER_IMAGE_CHECKS.
pub(super) struct Defaults {
    pub alias: AliasName,
    pub keep_versions: u32,
    pub rollout: Rollout,
    pub image_checks: Option<ImageChecks>,
    pub reconcile: ReconcileMode,
}

pub(super) fn parse_targets(raw: &str, defaults: &Defaults) -> Result<Vec<Target>, ConfigError> {
    let de = &mut serde_json::Deserializer::from_str(raw);
    let specs: Vec<TargetSpec> = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = match path.as_str() {
            "." => String::new(),
            p if p.starts_with('[') => p.to_owned(),
            p => format!(".{p}"),
        };
        ConfigError::new(TARGETS_VAR, path, e.into_inner().to_string())
    })?;
    if specs.is_empty() {
        return Err(ConfigError::new(
            TARGETS_VAR,
            "",
            "is an empty array: configure at least one repository",
        ));
    }
    // A function may appear only once per repository: two entries would give it two smoke tests
    // and two aliases for the same push, and which one wins would be an accident of ordering.
    let mut seen: HashSet<(Repository, String)> = HashSet::new();
    let mut targets = Vec::with_capacity(specs.len());
    for (i, s) in specs.into_iter().enumerate() {
        let err = |field: &str, problem: String| {
            ConfigError::new(TARGETS_VAR, format!("[{i}].{field}"), problem)
        };
        if s.functions.is_empty() {
            return Err(err("functions", "must not be empty".into()));
        }
        for (j, f) in s.functions.iter().enumerate() {
            if !seen.insert((s.repository.clone(), f.name().to_owned())) {
                return Err(err(
                    &format!("functions[{j}]"),
                    format!(
                        "function {:?} is listed more than once for repository {:?}",
                        f.name(),
                        s.repository.as_str()
                    ),
                ));
            }
        }
        if s.tags.is_empty() {
            return Err(err(
                "tags",
                "must not be empty (leave it out to accept every tag)".into(),
            ));
        }
        s.smoke.check().map_err(|(field, p)| err(field, p))?;
        if let Some(r) = &s.rollout {
            r.check().map_err(|(field, p)| err(field, p))?;
        }
        let keep_versions = s.keep_versions.unwrap_or(defaults.keep_versions);
        check_keep_versions(keep_versions).map_err(|p| err("keep_versions", p.into()))?;
        if let Some(c) = &s.image_checks {
            c.check()
                .map_err(|(field, p)| err(&format!("image_checks.{field}"), p))?;
        }
        if let Some(a) = &s.after {
            a.check().map_err(|(field, p)| err(field, p))?;
        }
        let assume_role_arn = s
            .assume_role_arn
            .as_deref()
            .map(super::stage::check_role_arn)
            .transpose()
            .map_err(|p| err("assume_role_arn", p))?;
        if let Some(g) = &s.github {
            g.check().map_err(|(field, p)| err(field, p))?;
        }
        targets.push(Target {
            repository: s.repository,
            functions: s.functions,
            tags: s.tags,
            allow_untagged: s.allow_untagged,
            alias: s.alias.unwrap_or_else(|| defaults.alias.clone()),
            smoke: s.smoke,
            keep_versions,
            registry_account: s.registry_account,
            rollout: s.rollout.unwrap_or_else(|| defaults.rollout.clone()),
            image_checks: s.image_checks.or_else(|| defaults.image_checks.clone()),
            reconcile_mode: s.reconcile_mode.unwrap_or(defaults.reconcile),
            after: s.after,
            assume_role_arn,
            github: s.github,
        });
    }
    super::stage::check_stages(&targets)?;
    Ok(targets)
}
