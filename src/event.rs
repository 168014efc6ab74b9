//! The invocation payload: what arrived, parsed and validated before anything touches AWS.

use crate::config::check_repository;
use crate::types::{Digest, is_account};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ECR_SOURCE: &str = "aws.ecr";
pub const ECR_DETAIL_TYPE: &str = "ECR Image Action";

/// A payload that cannot be acted on. Names the field (`payload.detail.image-digest`) and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InputError {
    pub field: String,
    pub problem: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: bounded(problem.into()),
        }
    }
}

/// Error messages echo the bad value; a 100 KB value must not make a 100 KB message.
pub fn bounded(problem: String) -> String {
    const MAX: usize = 300;
    if problem.chars().count() <= MAX {
        return problem;
    }
    let head: String = problem.chars().take(MAX / 2).collect();
    let tail: String = problem
        .chars()
        .rev()
        .take(MAX / 2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

/// Everything the deployer can be asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Ecr(EcrImageAction),
    Manual(crate::action::Action),
}

/// The fields of an "ECR Image Action" event that matter, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EcrImageAction {
    pub action_type: String,
    pub result: String,
    pub repository: String,
    /// Required for a successful push; DELETE and FAILURE events may lack it.
    pub digest: Option<Digest>,
    pub tag: Option<String>,
    pub account: String,
    pub region: String,
    pub time: DateTime<Utc>,
}

/// `Serialize` only because aws_lambda_events requires it of every detail type.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
struct RawDetail {
    action_type: String,
    result: String,
    repository_name: String,
    #[serde(default)]
    image_digest: Option<String>,
    #[serde(default)]
    image_tag: Option<String>,
}

/// Deserializes a payload, naming the exact field of any problem (`payload.detail.image-tag`).
pub fn deserialize_payload<T: serde::de::DeserializeOwned>(
    payload: &Value,
) -> Result<T, InputError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "payload".to_owned()
        } else {
            format!("payload.{path}")
        };
        InputError::new(field, e.into_inner().to_string())
    })
}

pub fn parse_request(payload: &Value) -> Result<Request, InputError> {
    let Some(obj) = payload.as_object() else {
        return Err(InputError::new(
            "payload",
            format!(
                "must be a JSON object (an ECR Image Action event), got {}",
                json_kind(payload)
            ),
        ));
    };
    if obj.contains_key("source") || obj.contains_key("detail-type") || obj.contains_key("detail") {
        return parse_ecr_event(payload).map(Request::Ecr);
    }
    if obj.contains_key("action") {
        return crate::action::parse_action(payload).map(Request::Manual);
    }
    Err(InputError::new(
        "payload",
        "is neither an ECR Image Action event (\"source\", \"detail-type\", \"detail\") nor a manual action (\"action\")",
    ))
}

fn parse_ecr_event(payload: &Value) -> Result<EcrImageAction, InputError> {
    let ev: EventBridgeEvent<RawDetail> = deserialize_payload(payload)?;
    if ev.source != ECR_SOURCE {
        return Err(InputError::new(
            "payload.source",
            format!(
                "{:?} is not {ECR_SOURCE:?}: only ECR image events are handled",
                ev.source
            ),
        ));
    }
    if ev.detail_type != ECR_DETAIL_TYPE {
        return Err(InputError::new(
            "payload.detail-type",
            format!("{:?} is not {ECR_DETAIL_TYPE:?}", ev.detail_type),
        ));
    }
    let d = ev.detail;
    check_repository(&d.repository_name)
        .map_err(|p| InputError::new("payload.detail.repository-name", p))?;
    let digest = match &d.image_digest {
        Some(s) => {
            Some(Digest::parse(s).map_err(|p| InputError::new("payload.detail.image-digest", p))?)
        }
        None => None,
    };
    if let Some(tag) = &d.image_tag {
        check_tag(tag).map_err(|p| InputError::new("payload.detail.image-tag", p))?;
    }
    let account = ev
        .account
        .ok_or_else(|| InputError::new("payload.account", "is missing"))?;
    if !is_account(&account) {
        return Err(InputError::new(
            "payload.account",
            format!("{account:?} is not a 12-digit AWS account id"),
        ));
    }
    let region = ev
        .region
        .ok_or_else(|| InputError::new("payload.region", "is missing"))?;
    if region.is_empty()
        || region.len() > 32
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(InputError::new(
            "payload.region",
            format!("{region:?} is not an AWS region name"),
        ));
    }
    let time = ev
        .time
        .ok_or_else(|| InputError::new("payload.time", "is missing"))?;
    let deployable = d.action_type == "PUSH" && d.result == "SUCCESS";
    if deployable && digest.is_none() {
        return Err(InputError::new(
            "payload.detail.image-digest",
            "is missing: a successful push always names the digest it created",
        ));
    }
    Ok(EcrImageAction {
        action_type: d.action_type,
        result: d.result,
        repository: d.repository_name,
        digest,
        tag: d.image_tag,
        account,
        region,
        time,
    })
}

/// ECR image tags: 1-128 characters of letters, digits, `.`, `_`, `-`.
pub fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() || tag.len() > 128 {
        return Err(format!(
            "{tag:?} is not an image tag: it must be 1 to 128 characters"
        ));
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "{tag:?} is not an image tag: only letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn push() -> Value {
        json!({
            "version": "0", "id": "13cde686-328b-6117-af20-0e5566167482",
            "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": "123456789012", "time": "2026-11-26T07:00:00Z", "region": "eu-west-1",
            "resources": [],
            "detail": {"result": "SUCCESS", "repository-name": "api", "image-digest": DIGEST,
                       "action-type": "PUSH", "image-tag": "sha-abc123"}
        })
    }

    #[test]
    fn a_real_push_event_parses() {
        let Ok(Request::Ecr(e)) = parse_request(&push()) else {
            panic!("not an ECR event")
        };
        assert_eq!(e.repository, "api");
        assert_eq!(e.digest.unwrap().as_str(), DIGEST);
        assert_eq!(e.tag.as_deref(), Some("sha-abc123"));
        assert_eq!(e.account, "123456789012");
        assert_eq!(e.region, "eu-west-1");
        assert_eq!(e.time.to_rfc3339(), "2026-11-26T07:00:00+00:00");
    }

    #[test]
    fn delete_events_may_lack_a_digest_but_pushes_may_not() {
        let mut p = push();
        p["detail"]["action-type"] = json!("DELETE");
        p["detail"].as_object_mut().unwrap().remove("image-digest");
        let Ok(Request::Ecr(e)) = parse_request(&p) else {
            panic!("not an ECR event")
        };
        assert_eq!(e.digest, None);
        p["detail"]["action-type"] = json!("PUSH");
        assert_eq!(
            parse_request(&p).unwrap_err().to_string(),
            "payload.detail.image-digest: is missing: a successful push always names the digest it created"
        );
    }

    /// Each bad payload and the exact error it gets.
    #[test]
    fn bad_payloads_name_the_field_and_problem() {
        let with = |path: &[&str], v: Value| {
            let mut p = push();
            let mut cur = &mut p;
            for k in &path[..path.len() - 1] {
                cur = &mut cur[*k];
            }
            cur[path[path.len() - 1]] = v;
            p
        };
        let without = |path: &[&str]| {
            let mut p = push();
            let mut cur = &mut p;
            for k in &path[..path.len() - 1] {
                cur = &mut cur[*k];
            }
            cur.as_object_mut().unwrap().remove(path[path.len() - 1]);
            p
        };
        let cases: Vec<(Value, &str)> = vec![
            (
                json!([1]),
                "payload: must be a JSON object (an ECR Image Action event), got an array",
            ),
            (
                json!("push"),
                "payload: must be a JSON object (an ECR Image Action event), got a string",
            ),
            (json!({}), "payload: is neither an ECR Image Action event"),
            (
                json!({"action": "explode"}),
                "payload.action: \"explode\" is not an action",
            ),
            (
                with(&["source"], json!("aws.s3")),
                "payload.source: \"aws.s3\" is not \"aws.ecr\"",
            ),
            (
                with(&["detail-type"], json!("ECR Image Scan")),
                "payload.detail-type: \"ECR Image Scan\" is not \"ECR Image Action\"",
            ),
            (without(&["detail"]), "payload: missing field `detail`"),
            (
                with(&["detail"], json!("x")),
                "payload.detail: invalid type: string \"x\"",
            ),
            (
                without(&["detail", "repository-name"]),
                "payload.detail: missing field `repository-name`",
            ),
            (
                with(&["detail", "repository-name"], json!(7)),
                "payload.detail.repository-name: invalid type: integer `7`",
            ),
            (
                with(&["detail", "repository-name"], json!("../etc")),
                "payload.detail.repository-name: \"../etc\" is not an ECR repository name",
            ),
            (
                with(&["detail", "image-digest"], json!("latest")),
                "payload.detail.image-digest: \"latest\" is not a digest",
            ),
            (
                with(&["detail", "image-digest"], json!(format!("{DIGEST}00"))),
                "payload.detail.image-digest: \"sha256:0123",
            ),
            (
                with(&["detail", "image-tag"], json!("a b")),
                "payload.detail.image-tag: \"a b\" is not an image tag",
            ),
            (
                with(&["detail", "image-tag"], json!("x".repeat(129))),
                "payload.detail.image-tag: \"xxxx",
            ),
            (
                with(&["detail", "action-type"], json!(null)),
                "payload.detail.action-type: invalid type: null",
            ),
            (
                with(&["account"], json!("12345")),
                "payload.account: \"12345\" is not a 12-digit AWS account id",
            ),
            (without(&["account"]), "payload.account: is missing"),
            (
                with(&["region"], json!("EU WEST")),
                "payload.region: \"EU WEST\" is not an AWS region name",
            ),
            (without(&["time"]), "payload.time: is missing"),
            (
                with(&["time"], json!("yesterday")),
                "payload.time: input contains invalid characters",
            ),
        ];
        for (payload, expected) in cases {
            let err = parse_request(&payload).expect_err(expected).to_string();
            assert!(
                err.starts_with(expected),
                "expected {expected:?}\n     got {err:?}"
            );
        }
    }
}
