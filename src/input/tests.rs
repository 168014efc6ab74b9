//! Every payload form, and each bad payload with the exact error it gets.

use super::*;
use chrono::TimeZone;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn parse_request(p: &Value) -> Result<Request, InputError> {
    super::parse_request(p, now())
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub(super) fn push() -> Value {
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
    let Ok(Request::Image(e)) = parse_request(&push()) else {
        panic!("not an ECR event")
    };
    assert_eq!(e.repository, "api");
    assert_eq!(e.digest.unwrap().as_str(), DIGEST);
    assert_eq!(e.tag.as_ref().map(|t| t.as_str()), Some("sha-abc123"));
    assert_eq!(e.account, "123456789012");
    assert_eq!(e.region, "eu-west-1");
    assert_eq!(e.time.to_rfc3339(), "2026-11-26T07:00:00+00:00");
}

#[test]
fn delete_events_may_lack_a_digest_but_pushes_may_not() {
    let mut p = push();
    p["detail"]["action-type"] = json!("DELETE");
    p["detail"].as_object_mut().unwrap().remove("image-digest");
    let Ok(Request::Image(e)) = parse_request(&p) else {
        panic!("not an ECR event")
    };
    assert_eq!(e.digest, None);
    p["detail"]["action-type"] = json!("PUSH");
    assert_eq!(
        parse_request(&p).unwrap_err().to_string(),
        "payload.detail.image-digest: is missing: a successful push always names the digest it created"
    );
}

/// A push event with the field at `path` set to `v`.
fn with(path: &[&str], v: Value) -> Value {
    let mut p = push();
    let mut cur = &mut p;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur[path[path.len() - 1]] = v;
    p
}

/// A push event without the field at `path`.
fn without(path: &[&str]) -> Value {
    let mut p = push();
    let mut cur = &mut p;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur.as_object_mut().unwrap().remove(path[path.len() - 1]);
    p
}

/// Each bad payload and the exact error it gets.
#[test]
fn bad_payloads_name_the_field_and_problem() {
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
            with(&["detail-type"], json!("ECR Replication Action")),
            "payload.detail-type: \"ECR Replication Action\" is not \"ECR Image Action\"",
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
            with(&["time"], json!("2099-01-01T00:00:00Z")),
            "payload.time: 2099-01-01T00:00:00Z is 37917360 minutes ahead of this deployer's clock (2026-11-28T12:00:00Z): EventBridge never sends events from the future",
        ),
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
