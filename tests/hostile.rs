//! Hostile and broken payloads through the whole engine: each gets its exact error (the field and
//! the problem), and none of them reaches AWS (the modelled world records every call; it must stay
//! empty).

use crate::support;

use self_deployer::report::Outcome;
use serde_json::{Value, json};
use support::world::World;
use support::{IntoReport, TestEngine, push};

const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn with(mut v: Value, path: &[&str], x: Value) -> Value {
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur[path[path.len() - 1]] = x;
    v
}

/// A payload, the field its error names, and the exact problem.
type Case = (Value, &'static str, String);

const NOT_AN_OBJECT: &str = "must be a JSON object (an ECR Image Action event), got";
const NOT_MANAGED: &str =
    "is not a function this deployer manages (DEPLOYER_TARGETS names: api-dev)";
const NOT_A_VERSION: &str = "is not a published version number: a rollback targets an immutable version (1, 2, ...), never $LATEST";
const REPOSITORY_NAME: &str = "is not an ECR repository name (2-256 characters: lowercase letters, digits, '.', '_', '-', '/')";
const IMAGE_TAG: &str = "is not an image tag: only letters, digits, '.', '_' and '-' are allowed";
const NAME_CHARS: &str = "only letters, digits, '-' and '_' are allowed";
const NOT_A_DIGEST: &str =
    r#"is not a digest: "sha256:" must be followed by 64 lowercase hex digits"#;

/// Values too long to echo are cut in the middle: the first and last 150 characters remain.
fn cut(c: &str, head: usize, tail: usize) -> String {
    format!("{}…{}", c.repeat(head), c.repeat(tail))
}

#[tokio::test]
async fn bad_payloads_get_their_exact_error_and_no_aws_call() {
    let ev = push("api", 'b', Some("v2"));
    let cases = [
        event_cases(&ev),
        rollback_cases(),
        deploy_and_status_cases(),
    ]
    .concat();
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = TestEngine::new(&w).build();
    for (payload, field, problem) in cases {
        let err = e.handle(&payload).await.expect_err(&problem);
        assert_eq!(
            (err.field.as_str(), err.problem.as_str()),
            (field, problem.as_str())
        );
        let message = err.to_string();
        assert_eq!(message, format!("{field}: {problem}"));
        assert!(
            message.chars().count() < 400,
            "errors stay readable: {} chars",
            message.chars().count()
        );
    }
    assert_eq!(w.ops(), Vec::<&str>::new(), "no bad payload reached AWS");
    // The event most cases were made from is good: each was refused for what it changed.
    let good = e.handle(&ev).await.report();
    assert_eq!(good.outcome, Outcome::Deployed, "{good:#?}");
}

/// Not an object, or an ECR event (`ev`, a good push) with one field broken.
fn event_cases(ev: &Value) -> Vec<Case> {
    vec![
        (json!(null), "payload", format!("{NOT_AN_OBJECT} null")),
        (json!(42), "payload", format!("{NOT_AN_OBJECT} a number")),
        (
            json!("rollback"),
            "payload",
            format!("{NOT_AN_OBJECT} a string"),
        ),
        (
            json!([ev.clone()]),
            "payload",
            format!("{NOT_AN_OBJECT} an array"),
        ),
        (
            with(ev.clone(), &["source"], json!("aws.ecr ")),
            "payload.source",
            r#""aws.ecr " is not "aws.ecr": only ECR image events are handled"#.into(),
        ),
        (
            with(ev.clone(), &["detail-type"], json!(null)),
            "payload.detail-type",
            "invalid type: null, expected a string".into(),
        ),
        (
            with(
                ev.clone(),
                &["detail", "repository-name"],
                json!("a".repeat(300)),
            ),
            "payload.detail.repository-name",
            format!(r#""{}" {REPOSITORY_NAME}"#, cut("a", 149, 53)),
        ),
        (
            with(
                ev.clone(),
                &["detail", "repository-name"],
                json!("api\u{202e}"),
            ),
            "payload.detail.repository-name",
            format!(r#""api\u{{202e}}" {REPOSITORY_NAME}"#),
        ),
        (
            with(
                ev.clone(),
                &["detail", "image-digest"],
                json!("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            "payload.detail.image-digest",
            format!(r#""sha256:{}" {NOT_A_DIGEST}"#, "A".repeat(64)),
        ),
        (
            with(
                ev.clone(),
                &["detail", "image-digest"],
                json!({"$ne": null}),
            ),
            "payload.detail.image-digest",
            "invalid type: map, expected a string".into(),
        ),
        (
            with(ev.clone(), &["detail", "image-tag"], json!("v2; rm -rf /")),
            "payload.detail.image-tag",
            format!(r#""v2; rm -rf /" {IMAGE_TAG}"#),
        ),
        (
            with(ev.clone(), &["detail", "image-tag"], json!("é")),
            "payload.detail.image-tag",
            format!(r#""é" {IMAGE_TAG}"#),
        ),
        (
            with(ev.clone(), &["account"], json!(123456789012u64)),
            "payload.account",
            "invalid type: integer `123456789012`, expected a string".into(),
        ),
        (
            with(ev.clone(), &["region"], json!("eu-west-1\n")),
            "payload.region",
            r#""eu-west-1\n" is not an AWS region name"#.into(),
        ),
        (
            with(ev.clone(), &["time"], json!(-1)),
            "payload.time",
            "invalid type: integer `-1`, expected an RFC 3339 formatted date and time string"
                .into(),
        ),
    ]
}

/// Manual actions: the action itself, then `rollback`'s function, version, alias and reason.
fn rollback_cases() -> Vec<Case> {
    let other_account = "arn:aws:lambda:eu-west-1:999999999999:function:api-dev";
    let other_region = "arn:aws:lambda:us-east-1:123456789012:function:api-dev";
    vec![
        (
            json!({"Records": []}),
            "payload",
            r#"is neither an ECR Image Action event ("source", "detail-type", "detail") nor a manual action ("action")"#.into(),
        ),
        (
            json!({"action": null}),
            "payload.action",
            "must be a string, got null".into(),
        ),
        (
            json!({"action": "ROLLBACK", "function": "api-dev"}),
            "payload.action",
            r#""ROLLBACK" is not an action: use "rollback", "deploy", "promote", "promote_stage", "status", "history", "reconcile" or "advance""#.into(),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "$LATEST"}),
            "payload.version",
            format!(r#""$LATEST" {NOT_A_VERSION}"#),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": -5}),
            "payload.version",
            "-5 is not a published version number (1, 2, ...)".into(),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "1e3"}),
            "payload.version",
            format!(r#""1e3" {NOT_A_VERSION}"#),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "99999999999999999999999"}),
            "payload.version",
            format!(r#""99999999999999999999999" {NOT_A_VERSION}"#),
        ),
        (
            json!({"action": "rollback", "function": "payments"}),
            "payload.function",
            format!(r#""payments" {NOT_MANAGED}"#),
        ),
        (
            json!({"action": "rollback", "function": other_account}),
            "payload.function",
            format!(r#""{other_account}" {NOT_MANAGED}"#),
        ),
        (
            json!({"action": "rollback", "function": other_region}),
            "payload.function",
            format!(r#""{other_region}" {NOT_MANAGED}"#),
        ),
        (
            json!({"action": "rollback", "function": "api-dev:live"}),
            "payload.function",
            format!(r#""api-dev:live" is not a function name: {NAME_CHARS}"#),
        ),
        (
            json!({"action": "rollback", "function": "x".repeat(100_000)}),
            "payload.function",
            format!(
                r#""{}" is not a function name: it must be 1 to 64 characters"#,
                cut("x", 149, 95)
            ),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "alias": "$LATEST"}),
            "payload.alias",
            format!(r#""$LATEST" is not an alias name: {NAME_CHARS}"#),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "force": "true"}),
            "payload.force",
            r#"invalid type: string "true", expected a boolean"#.into(),
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "reason": "r".repeat(10_000)}),
            "payload.reason",
            "is 10000 characters long: at most 500".into(),
        ),
    ]
}

/// `deploy` (an image of another repository, or two forms at once) and `status`.
fn deploy_and_status_cases() -> Vec<Case> {
    let ecr = |repo: &str| format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{repo}@{D}");
    vec![
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": ecr("payments")}),
            "payload.image_uri",
            r#"repository "payments" is not configured for function "api-dev" (its repositories: api)"#.into(),
        ),
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": "public.ecr.aws/x/api@sha256:aa"}),
            "payload.image_uri",
            format!(r#""sha256:aa" {NOT_A_DIGEST}"#),
        ),
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": ecr("api"), "repository": "api", "tag": "v1"}),
            "payload",
            r#"a deploy names either "function" and "image_uri", or "repository" and "tag""#.into(),
        ),
        (
            json!({"action": "deploy", "repository": "payments", "tag": "v1"}),
            "payload.repository",
            r#"no target is configured for repository "payments""#.into(),
        ),
        (
            json!({"action": "status", "function": "payments"}),
            "payload.function",
            format!(r#""payments" {NOT_MANAGED}"#),
        ),
        (
            json!({"action": "status", "verbose": true}),
            "payload.verbose",
            "unknown field `verbose`, expected `function`".into(),
        ),
    ]
}
