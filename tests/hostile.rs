//! Hostile and broken payloads through the whole engine: each gets its exact error, and none of
//! them reaches AWS (the modelled world records every call; it must stay empty).

pub mod support;

use serde_json::{Value, json};
use support::world::World;
use support::{TestEngine, push};

const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn with(mut v: Value, path: &[&str], x: Value) -> Value {
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur[path[path.len() - 1]] = x;
    v
}

#[tokio::test]
async fn thirty_odd_bad_payloads_get_their_exact_error_and_no_aws_call() {
    let ev = push("api", 'b', Some("v2"));
    let other_account = "arn:aws:lambda:eu-west-1:999999999999:function:api-dev";
    let other_region = "arn:aws:lambda:us-east-1:123456789012:function:api-dev";
    let ecr = |repo: &str| format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{repo}@{D}");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!(null),
            "payload: must be a JSON object (an ECR Image Action event), got null",
        ),
        (
            json!(42),
            "payload: must be a JSON object (an ECR Image Action event), got a number",
        ),
        (
            json!("rollback"),
            "payload: must be a JSON object (an ECR Image Action event), got a string",
        ),
        (
            json!([ev.clone()]),
            "payload: must be a JSON object (an ECR Image Action event), got an array",
        ),
        (
            json!({"Records": []}),
            "payload: is neither an ECR Image Action event",
        ),
        (
            with(ev.clone(), &["source"], json!("aws.ecr ")),
            "payload.source: \"aws.ecr \" is not \"aws.ecr\"",
        ),
        (
            with(ev.clone(), &["detail-type"], json!(null)),
            "payload.detail-type: invalid type: null, expected a string",
        ),
        (
            with(
                ev.clone(),
                &["detail", "repository-name"],
                json!("a".repeat(300)),
            ),
            "payload.detail.repository-name: \"aaaa",
        ),
        (
            with(
                ev.clone(),
                &["detail", "repository-name"],
                json!("api\u{202e}"),
            ),
            "payload.detail.repository-name: \"api\\u{202e}\" is not an ECR repository name",
        ),
        (
            with(
                ev.clone(),
                &["detail", "image-digest"],
                json!("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            "payload.detail.image-digest: \"sha256:AAAA",
        ),
        (
            with(
                ev.clone(),
                &["detail", "image-digest"],
                json!({"$ne": null}),
            ),
            "payload.detail.image-digest: invalid type: map, expected a string",
        ),
        (
            with(ev.clone(), &["detail", "image-tag"], json!("v2; rm -rf /")),
            "payload.detail.image-tag: \"v2; rm -rf /\" is not an image tag",
        ),
        (
            with(ev.clone(), &["detail", "image-tag"], json!("é")),
            "payload.detail.image-tag: \"é\" is not an image tag",
        ),
        (
            with(ev.clone(), &["account"], json!(123456789012u64)),
            "payload.account: invalid type: integer `123456789012`, expected a string",
        ),
        (
            with(ev.clone(), &["region"], json!("eu-west-1\n")),
            "payload.region: \"eu-west-1\\n\" is not an AWS region name",
        ),
        (
            with(ev.clone(), &["time"], json!(-1)),
            "payload.time: invalid type: integer `-1`",
        ),
        (
            json!({"action": null}),
            "payload.action: must be a string, got null",
        ),
        (
            json!({"action": "ROLLBACK", "function": "api-dev"}),
            "payload.action: \"ROLLBACK\" is not an action",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "$LATEST"}),
            "payload.version: \"$LATEST\" is not a published version number",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": -5}),
            "payload.version: -5 is not a published version number",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "1e3"}),
            "payload.version: \"1e3\" is not a published version number",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "version": "99999999999999999999999"}),
            "payload.version: \"99999999999999999999999\" is not a published version number",
        ),
        (
            json!({"action": "rollback", "function": "payments"}),
            "payload.function: \"payments\" is not a function this deployer manages",
        ),
        (
            json!({"action": "rollback", "function": other_account}),
            "payload.function: \"arn:aws:lambda:eu-west-1:999999999999:function:api-dev\" is not a function this deployer manages",
        ),
        (
            json!({"action": "rollback", "function": other_region}),
            "payload.function: \"arn:aws:lambda:us-east-1:123456789012:function:api-dev\" is not a function this deployer manages",
        ),
        (
            json!({"action": "rollback", "function": "api-dev:live"}),
            "payload.function: \"api-dev:live\" is not a function name",
        ),
        (
            json!({"action": "rollback", "function": "x".repeat(100_000)}),
            "payload.function: \"xxxx",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "alias": "$LATEST"}),
            "payload.alias: \"$LATEST\" is not an alias name",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "force": "true"}),
            "payload.force: invalid type: string \"true\", expected a boolean",
        ),
        (
            json!({"action": "rollback", "function": "api-dev", "reason": "r".repeat(10_000)}),
            "payload.reason: is 10000 characters long: at most 500",
        ),
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": ecr("payments")}),
            "payload.image_uri: repository \"payments\" is not configured for function \"api-dev\"",
        ),
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": "public.ecr.aws/x/api@sha256:aa"}),
            "payload.image_uri: ",
        ),
        (
            json!({"action": "deploy", "function": "api-dev", "image_uri": ecr("api"), "repository": "api", "tag": "v1"}),
            "payload: a deploy names either",
        ),
        (
            json!({"action": "deploy", "repository": "payments", "tag": "v1"}),
            "payload.repository: no target is configured for repository \"payments\"",
        ),
        (
            json!({"action": "status", "function": "payments"}),
            "payload.function: \"payments\" is not a function this deployer manages",
        ),
        (
            json!({"action": "status", "verbose": true}),
            "payload.verbose: unknown field `verbose`",
        ),
    ];
    assert!(cases.len() >= 30);
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = TestEngine::new(&w).build();
    for (payload, expected) in cases {
        let err = e.handle(&payload).await.expect_err(expected).to_string();
        assert!(
            err.starts_with(expected),
            "expected {expected:?}\n     got {err:?}"
        );
        assert!(
            err.chars().count() < 400,
            "errors stay readable: {} chars",
            err.chars().count()
        );
    }
    assert_eq!(w.ops(), Vec::<&str>::new(), "no bad payload reached AWS");
}
