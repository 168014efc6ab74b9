//! Manual payloads: `{"action": "rollback" | "deploy" | "status", ...}`, parsed and validated before
//! anything touches AWS. Unknown fields are errors, as in the configuration.

use crate::event::{InputError, deserialize_payload};
use crate::types::{AliasName, FunctionRef, ImageRef, Version};
use serde::Deserialize;
use serde_json::Value;

/// Free text a person attaches to a rollback or deploy; it goes into the report and notification.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct RollbackRequest {
    pub function: FunctionRef,
    /// `None`: the version the alias pointed to before the current one.
    pub version: Option<Version>,
    pub alias: Option<AliasName>,
    pub reason: Option<String>,
    pub dry_run: bool,
    /// Roll back even if the version's image is gone from ECR.
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeploySource {
    /// One function, one image pinned by digest.
    Image {
        function: FunctionRef,
        image: ImageRef,
    },
    /// The tag's current digest, to the repository's target functions.
    Tag { repository: String, tag: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    pub source: DeploySource,
    pub reason: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusRequest {
    pub function: Option<FunctionRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Rollback(RollbackRequest),
    Deploy(DeployRequest),
    Status(StatusRequest),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    #[allow(dead_code)]
    action: String,
    function: String,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    #[allow(dead_code)]
    action: String,
    #[serde(default)]
    function: Option<String>,
    #[serde(default)]
    image_uri: Option<String>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    #[allow(dead_code)]
    action: String,
    #[serde(default)]
    function: Option<String>,
    /// Accepted (and meaningless) so that "dry_run on any action" holds: status never mutates.
    #[serde(default)]
    #[allow(dead_code)]
    dry_run: bool,
}

pub fn parse_action(payload: &Value) -> Result<Action, InputError> {
    let action = match payload.get("action") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(InputError::new(
                "payload.action",
                format!("must be a string, got {other}"),
            ));
        }
        None => return Err(InputError::new("payload.action", "is missing")),
    };
    match action {
        "rollback" => parse_rollback(deserialize_payload(payload)?).map(Action::Rollback),
        "deploy" => parse_deploy(deserialize_payload(payload)?).map(Action::Deploy),
        "status" => {
            let raw: RawStatus = deserialize_payload(payload)?;
            let function = raw.function.as_deref().map(parse_function).transpose()?;
            Ok(Action::Status(StatusRequest { function }))
        }
        other => Err(InputError::new(
            "payload.action",
            format!("{other:?} is not an action: use \"rollback\", \"deploy\" or \"status\""),
        )),
    }
}

fn parse_function(s: &str) -> Result<FunctionRef, InputError> {
    FunctionRef::parse(s).map_err(|p| InputError::new("payload.function", p))
}

fn parse_reason(r: Option<String>) -> Result<Option<String>, InputError> {
    match r {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(InputError::new(
            "payload.reason",
            format!(
                "is {} characters long: at most {MAX_REASON_CHARS}",
                r.chars().count()
            ),
        )),
        Some(r) => {
            let clean: String = r.chars().filter(|c| !c.is_control()).collect();
            Ok(Some(clean).filter(|s| !s.trim().is_empty()))
        }
        None => Ok(None),
    }
}

fn parse_rollback(raw: RawRollback) -> Result<RollbackRequest, InputError> {
    let version = match &raw.version {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Version::parse(s).ok_or_else(|| {
            InputError::new(
                "payload.version",
                format!("{s:?} is not a published version number: a rollback targets an immutable version (1, 2, ...), never $LATEST"),
            )
        })?),
        Some(Value::Number(n)) => Some(n.as_u64().and_then(Version::new).ok_or_else(|| {
            InputError::new("payload.version", format!("{n} is not a published version number (1, 2, ...)"))
        })?),
        Some(other) => {
            return Err(InputError::new(
                "payload.version",
                format!("must be a version number such as \"12\", got {other}"),
            ));
        }
    };
    let alias = raw
        .alias
        .as_deref()
        .map(|a| AliasName::parse(a).map_err(|p| InputError::new("payload.alias", p)))
        .transpose()?;
    Ok(RollbackRequest {
        function: parse_function(&raw.function)?,
        version,
        alias,
        reason: parse_reason(raw.reason)?,
        dry_run: raw.dry_run,
        force: raw.force,
    })
}

fn parse_deploy(raw: RawDeploy) -> Result<DeployRequest, InputError> {
    let source = match (raw.function, raw.image_uri, raw.repository, raw.tag) {
        (Some(f), Some(uri), None, None) => DeploySource::Image {
            function: parse_function(&f)?,
            image: parse_image_uri(&uri).map_err(|p| InputError::new("payload.image_uri", p))?,
        },
        (None, None, Some(repository), Some(tag)) => {
            crate::config::check_repository(&repository)
                .map_err(|p| InputError::new("payload.repository", p))?;
            crate::event::check_tag(&tag).map_err(|p| InputError::new("payload.tag", p))?;
            DeploySource::Tag { repository, tag }
        }
        _ => {
            return Err(InputError::new(
                "payload",
                "a deploy names either \"function\" and \"image_uri\", or \"repository\" and \"tag\"",
            ));
        }
    };
    Ok(DeployRequest {
        source,
        reason: parse_reason(raw.reason)?,
        dry_run: raw.dry_run,
    })
}

/// `{account}.dkr.ecr.{region}.amazonaws.com[.cn]/{repository}@sha256:{hex}`: an ECR image pinned by
/// digest (Lambda runs only ECR images; a tag could move between check and deploy).
pub fn parse_image_uri(uri: &str) -> Result<ImageRef, String> {
    let (name, digest) = uri
        .rsplit_once('@')
        .ok_or_else(|| format!("{uri:?} is not pinned by digest: use REPOSITORY_URI@sha256:..."))?;
    let digest = crate::types::Digest::parse(digest)?;
    let (host, repository) = name
        .split_once('/')
        .ok_or_else(|| format!("{uri:?} has no repository path"))?;
    let bad_host = || {
        format!("{host:?} is not an ECR registry ({{account}}.dkr.ecr.{{region}}.amazonaws.com)")
    };
    let parts: Vec<&str> = host.split('.').collect();
    let (account, region) = match parts.as_slice() {
        [account, "dkr", "ecr", region, "amazonaws", "com"]
        | [account, "dkr", "ecr", region, "amazonaws", "com", "cn"] => (*account, *region),
        _ => return Err(bad_host()),
    };
    if !crate::types::is_account(account) || region.is_empty() {
        return Err(bad_host());
    }
    if repository.contains(':') {
        return Err(format!(
            "{uri:?} carries a tag as well as a digest: give the digest only"
        ));
    }
    crate::config::check_repository(repository)?;
    Ok(ImageRef {
        account: account.to_owned(),
        region: region.to_owned(),
        repository: repository.to_owned(),
        digest,
        tag: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn rollback_payloads_parse() {
        let Action::Rollback(r) =
            parse_action(&json!({"action": "rollback", "function": "api-dev"})).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (r.version, r.alias, r.dry_run, r.force),
            (None, None, false, false)
        );
        let Action::Rollback(r) = parse_action(&json!({
            "action": "rollback", "function": "api-dev", "version": "12", "alias": "prod",
            "reason": "bad\u{7}release", "dry_run": true, "force": true
        }))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.version.map(|v| v.get()), Some(12));
        assert_eq!(r.alias.unwrap().as_str(), "prod");
        assert_eq!(
            r.reason.as_deref(),
            Some("badrelease"),
            "control characters dropped"
        );
        assert!(r.dry_run && r.force);
        let Action::Rollback(r) =
            parse_action(&json!({"action": "rollback", "function": "f", "version": 7})).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.version.map(|v| v.get()), Some(7));
    }

    #[test]
    fn deploy_payloads_parse_both_forms() {
        let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@{D}");
        let Action::Deploy(d) =
            parse_action(&json!({"action": "deploy", "function": "f", "image_uri": uri})).unwrap()
        else {
            panic!()
        };
        let DeploySource::Image { image, .. } = d.source else {
            panic!()
        };
        assert_eq!(image.uri(), uri);
        assert_eq!(image.repository, "team/api");
        let Action::Deploy(d) = parse_action(
            &json!({"action": "deploy", "repository": "api", "tag": "v2", "dry_run": true}),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            d.source,
            DeploySource::Tag {
                repository: "api".into(),
                tag: "v2".into()
            }
        );
        assert!(d.dry_run);
    }

    #[test]
    fn bad_manual_payloads_name_the_field_and_problem() {
        let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@{D}");
        let cases = vec![
            (
                json!({"action": 3}),
                "payload.action: must be a string, got 3",
            ),
            (
                json!({"action": "rollbak", "function": "f"}),
                "payload.action: \"rollbak\" is not an action",
            ),
            (
                json!({"action": "rollback"}),
                "payload: missing field `function`",
            ),
            (
                json!({"action": "rollback", "function": "f", "verison": "2"}),
                "payload.verison: unknown field `verison`",
            ),
            (
                json!({"action": "rollback", "function": "f", "version": "$LATEST"}),
                "payload.version: \"$LATEST\" is not a published version number",
            ),
            (
                json!({"action": "rollback", "function": "f", "version": "0"}),
                "payload.version: \"0\" is not a published version number",
            ),
            (
                json!({"action": "rollback", "function": "f", "version": -1}),
                "payload.version: -1 is not a published version number",
            ),
            (
                json!({"action": "rollback", "function": "f", "version": 1.5}),
                "payload.version: 1.5 is not a published version number",
            ),
            (
                json!({"action": "rollback", "function": "f", "version": ["2"]}),
                "payload.version: must be a version number",
            ),
            (
                json!({"action": "rollback", "function": "f", "dry_run": "yes"}),
                "payload.dry_run: invalid type: string \"yes\", expected a boolean",
            ),
            (
                json!({"action": "rollback", "function": "f", "alias": "9"}),
                "payload.alias: \"9\" is not an alias name",
            ),
            (
                json!({"action": "rollback", "function": "f b"}),
                "payload.function: \"f b\" is not a function name",
            ),
            (
                json!({"action": "rollback", "function": "arn:aws:lambda:eu-west-1:123456789012:function:f:live"}),
                "payload.function: \"arn:aws:lambda:eu-west-1:123456789012:function:f:live\" is a qualified ARN",
            ),
            (
                json!({"action": "rollback", "function": "f", "reason": "x".repeat(501)}),
                "payload.reason: is 501 characters long",
            ),
            (
                json!({"action": "deploy", "function": "f"}),
                "payload: a deploy names either",
            ),
            (
                json!({"action": "deploy", "function": "f", "image_uri": uri, "tag": "v1"}),
                "payload: a deploy names either",
            ),
            (
                json!({"action": "deploy", "function": "f", "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1"}),
                "payload.image_uri: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1\" is not pinned by digest",
            ),
            (
                json!({"action": "deploy", "function": "f", "image_uri": format!("docker.io/library/api@{D}")}),
                "payload.image_uri: \"docker.io\" is not an ECR registry",
            ),
            (
                json!({"action": "deploy", "function": "f", "image_uri": format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1@{D}")}),
                "payload.image_uri: \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1@sha256:",
            ),
            (
                json!({"action": "deploy", "repository": "API", "tag": "v1"}),
                "payload.repository: \"API\" is not an ECR repository name",
            ),
            (
                json!({"action": "deploy", "repository": "api", "tag": "v 1"}),
                "payload.tag: \"v 1\" is not an image tag",
            ),
            (
                json!({"action": "status", "function": 7}),
                "payload.function: invalid type: integer `7`",
            ),
            (
                json!({"action": "status", "everything": true}),
                "payload.everything: unknown field `everything`",
            ),
        ];
        for (payload, expected) in cases {
            let err = parse_action(&payload).expect_err(expected).to_string();
            assert!(
                err.starts_with(expected),
                "expected {expected:?}\n     got {err:?}"
            );
        }
    }
}
