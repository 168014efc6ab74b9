//! Manual payloads: rollback, deploy, history, advance; their exact errors.

use super::tests::push;
use super::*;
use chrono::TimeZone;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn parse_request(p: &Value) -> Result<Request, InputError> {
    super::parse_request(p, now())
}

fn parse_action(p: &Value) -> Result<Request, InputError> {
    super::parse_request(p, now())
}

const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[test]
fn rollback_payloads_parse() {
    let Request::Rollback(r) =
        parse_action(&json!({"action": "rollback", "function": "api-dev"})).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (r.version, r.alias, r.dry_run, r.force),
        (None, None, false, false)
    );
    let Request::Rollback(r) = parse_action(&json!({
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
    let Request::Rollback(r) =
        parse_action(&json!({"action": "rollback", "function": "f", "version": 7})).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.version.map(|v| v.get()), Some(7));
}

#[test]
fn deploy_payloads_parse_both_forms() {
    let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@{D}");
    let Request::Deploy(d) =
        parse_action(&json!({"action": "deploy", "function": "f", "image_uri": uri})).unwrap()
    else {
        panic!()
    };
    let DeploySource::Image { image, .. } = d.source else {
        panic!()
    };
    assert_eq!(image.uri(), uri);
    assert_eq!(image.repository, "team/api");
    let Request::Deploy(d) = parse_action(
        &json!({"action": "deploy", "repository": "api", "tag": "v2", "dry_run": true}),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(
        d.source,
        DeploySource::Tag {
            repository: "api".parse().unwrap(),
            tag: "v2".parse().unwrap()
        }
    );
    assert!(d.dry_run);
}

#[test]
fn bad_manual_payloads_name_the_field_and_problem() {
    let cases = [
        action_cases(),
        rollback_cases(),
        deploy_cases(),
        read_cases(),
    ]
    .concat();
    for (payload, expected) in cases {
        let err = parse_action(&payload).expect_err(expected).to_string();
        assert!(
            err.starts_with(expected),
            "expected {expected:?}\n     got {err:?}"
        );
    }
}

/// Payloads that name no action the deployer knows.
fn action_cases() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"action": 3}),
            "payload.action: must be a string, got 3",
        ),
        (
            json!({"action": "rollbak", "function": "f"}),
            "payload.action: \"rollbak\" is not an action",
        ),
        (
            json!({"action": "histroy", "function": "api"}),
            "payload.action: \"histroy\" is not an action: use \"rollback\", \"deploy\", \"promote\", \"promote_stage\", \"status\", \"history\", \"reconcile\" or \"advance\"",
        ),
    ]
}

/// `rollback`: the function, the version, the alias and the reason.
fn rollback_cases() -> Vec<(Value, &'static str)> {
    vec![
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
            "payload.version: invalid type: sequence, expected a version number such as \"12\"",
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
    ]
}

/// `deploy`: either a function and an image pinned by digest, or a repository and a tag.
fn deploy_cases() -> Vec<(Value, &'static str)> {
    let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@{D}");
    vec![
        (
            json!({"action": "deploy", "function": "f"}),
            "payload: a deploy names either",
        ),
        (
            json!({"action": "deploy", "function": "f", "image_uri": uri, "repository": "api"}),
            "payload: a deploy names either",
        ),
        (
            json!({"action": "deploy", "repository": "api"}),
            "payload.tag: is missing: a deploy by repository names the tag to deploy",
        ),
        (
            json!({"action": "deploy", "repository": "api", "tag": "v1", "pushed": "2026-11-26T07:00:00Z"}),
            "payload.pushed: goes with \"function\" and \"image_uri\"",
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
    ]
}

/// `status` and `history`: they change nothing, so take no dry run.
fn read_cases() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"action": "status", "dry_run": true}),
            "payload.dry_run: status never changes anything, so it takes no dry_run",
        ),
        (
            json!({"action": "status", "function": 7}),
            "payload.function: invalid type: integer `7`",
        ),
        (
            json!({"action": "status", "everything": true}),
            "payload.everything: unknown field `everything`",
        ),
        (
            json!({"action": "history"}),
            "payload: missing field `function`",
        ),
        (
            json!({"action": "history", "function": "api", "dry_run": false}),
            "payload.dry_run: history never changes anything, so it takes no dry_run",
        ),
        (
            json!({"action": "history", "function": "api", "limit": 0}),
            "payload.limit: 0 is out of range: it must be between 1 and 1000",
        ),
        (
            json!({"action": "history", "function": "api", "limit": 1001}),
            "payload.limit: 1001 is out of range: it must be between 1 and 1000",
        ),
        (
            json!({"action": "history", "function": "api", "limit": "5"}),
            "payload.limit: invalid type: string \"5\"",
        ),
        (
            json!({"action": "history", "function": "api", "dora_days": 0}),
            "payload.dora_days: 0 is out of range: it must be between 1 and 365",
        ),
        (
            json!({"action": "history", "function": "api", "limmit": 5}),
            "payload.limmit: unknown field `limmit`",
        ),
    ]
}

#[test]
fn an_event_a_few_minutes_ahead_is_clock_skew_not_an_error() {
    let mut p = push();
    p["time"] = json!("2026-11-28T12:04:59Z");
    assert!(parse_request(&p).is_ok());
    p["time"] = json!("2026-11-28T12:05:01Z");
    assert_eq!(parse_request(&p).unwrap_err().field, "payload.time");
}

#[test]
fn a_deploy_may_carry_the_push_time_and_tag_of_the_image() {
    let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@{D}");
    let Request::Deploy(d) = parse_action(&json!({
        "action": "deploy", "function": "f", "image_uri": uri,
        "pushed": "2026-11-26T07:00:00Z", "tag": "v2"
    }))
    .unwrap() else {
        panic!()
    };
    let DeploySource::Image { image, .. } = d.source else {
        panic!()
    };
    assert_eq!(image.tag.unwrap().as_str(), "v2");
    assert_eq!(d.pushed.unwrap().to_rfc3339(), "2026-11-26T07:00:00+00:00");
}

#[test]
fn history_payloads_parse() {
    assert_eq!(
        parse_action(&json!({"action": "history", "function": "api"})).unwrap(),
        Request::History(HistoryRequest {
            function: "api".parse().unwrap(),
            limit: None,
            dora_days: None,
        })
    );
    assert_eq!(
        parse_action(&json!({"action": "history", "function": "api", "limit": 1000})).unwrap(),
        Request::History(HistoryRequest {
            function: "api".parse().unwrap(),
            limit: Some(1000),
            dora_days: None,
        })
    );
}

#[test]
fn push_and_rollout_times_from_the_future_are_refused() {
    let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@{D}");
    let e = parse_action(&json!({"action": "deploy", "function": "f", "image_uri": uri, "pushed": "2099-01-01T00:00:00Z"})).unwrap_err();
    assert_eq!(e.field, "payload.pushed");
    assert!(
        e.problem
            .starts_with("2099-01-01T00:00:00Z is ahead of this deployer's clock"),
        "{e}"
    );
    let e = parse_action(
        &json!({"action": "advance", "function": "f", "alias": "live", "version": "5",
        "stable_version": "4", "step": 1, "started": "2099-01-01T00:00:00Z"}),
    )
    .unwrap_err();
    assert_eq!(e.field, "payload.started");
}

#[test]
fn an_advance_carries_its_steps_tally_and_refuses_unknown_tally_fields() {
    let base = json!({"action": "advance", "function": "f", "alias": "live", "version": "5",
        "stable_version": "4", "step": 1, "started": "2026-11-26T07:00:00Z"});
    let Request::Advance(a) = parse_action(&base).unwrap() else {
        panic!("an advance");
    };
    assert!(a.tally.is_empty(), "absent: nothing made or told");
    let mut with = base.clone();
    with["tally"] = json!({"synthetic": 10, "synthetic_failed": 2, "told_inconclusive": true});
    let Request::Advance(a) = parse_action(&with).unwrap() else {
        panic!("an advance");
    };
    assert_eq!(
        (
            a.tally.synthetic,
            a.tally.synthetic_failed,
            a.tally.told_inconclusive
        ),
        (10, 2, true)
    );
    with["tally"] = json!({"synthetic": -1});
    let e = parse_action(&with).unwrap_err();
    assert_eq!(e.field, "payload.tally.synthetic", "{e}");
    with["tally"] = json!({"made": 1});
    let e = parse_action(&with).unwrap_err();
    assert_eq!(e.field, "payload.tally.made", "{e}");
}
