//! Which events deploy: skipped and invalid events make no AWS call, the same event again changes
//! nothing, a stale event never rolls production back, two repositories for one function, and
//! images from another account or region are refused.

use crate::support;

use self_deployer::report::Outcome;
use serde_json::json;
use support::world::{World, digest, image_uri};
use support::{IntoReport, config, engine, one_target, push, push_at};

#[tokio::test]
async fn skipped_events_make_no_aws_call_at_all() {
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "tags": ["v*"]}]);
    let mut delete = push("api", 'b', Some("v2"));
    delete["detail"]["action-type"] = json!("DELETE");
    let mut failure = push("api", 'b', Some("v2"));
    failure["detail"]["result"] = json!("FAILURE");
    let cases = [
        (
            push("api", 'b', Some("latest")),
            "tag \"latest\" matches none of [\"v*\"]",
        ),
        (push("api", 'b', None), "image pushed without a tag"),
        (
            push("web", 'b', Some("v2")),
            "no target is configured for repository \"web\"",
        ),
        (delete, "action-type is \"DELETE\""),
        (failure, "result is \"FAILURE\""),
    ];
    for (event, why) in cases {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        let report = engine(&w, config(targets.clone()))
            .handle(&event)
            .await
            .report();
        assert_eq!(report.outcome, Outcome::Skipped);
        assert!(
            report.reason.as_deref().unwrap().contains(why),
            "{:?} should contain {why:?}",
            report.reason
        );
        assert!(report.deployments.is_empty());
        assert_eq!(w.ops(), Vec::<&str>::new(), "no call for {why}");
    }
}

#[tokio::test]
async fn invalid_payloads_are_rejected_before_any_aws_call() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    let mut bad_digest = push("api", 'b', Some("v2"));
    bad_digest["detail"]["image-digest"] = json!("sha256:short");
    for (payload, field) in [
        (json!(null), "payload"),
        (json!({"source": "aws.ecr"}), "payload"),
        (bad_digest, "payload.detail.image-digest"),
    ] {
        let err = e.handle(&payload).await.unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
    assert!(w.ops().is_empty());
}

#[tokio::test]
async fn the_same_event_again_changes_nothing() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    let before = w.calls().len();
    let again = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(again.outcome, Outcome::AlreadyLive);
    assert_eq!(again.deployments[0].version.map(|v| v.get()), Some(2));
    let new_calls: Vec<_> = w.calls()[before..].iter().map(|c| c.op).collect();
    assert_eq!(new_calls, ["GetAlias", "GetFunction"], "only reads");
    assert_eq!(w.versions("api-dev"), [1, 2]);
}

#[tokio::test]
async fn a_stale_event_never_rolls_production_back_by_accident() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    // B was pushed at 10:00 and is live.
    let r = e
        .handle(&push_at("api", 'b', "v2", "2026-11-26T10:00:00Z"))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed);
    let muts = w.mutating_calls().len();

    // A's event (pushed at 09:59) arrives late.
    let stale = e
        .handle(&push_at("api", 'c', "v1", "2026-11-26T09:59:00Z"))
        .await
        .report();
    assert_eq!(stale.outcome, Outcome::Skipped, "{stale:#?}");
    let reason = stale.deployments[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("stale_event: this image was pushed at 2026-11-26T09:59:00Z, but the live code (v2) was pushed later, at 2026-11-26T10:00:00Z"), "{reason}");
    assert_eq!(stale.reason.as_deref(), Some(reason));
    assert_eq!(w.mutating_calls().len(), muts, "nothing touched");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));

    // On purpose, a manual deploy still can.
    let uri = image_uri("api", 'c');
    let manual = e
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": uri}))
        .await
        .report();
    assert_eq!(manual.outcome, Outcome::Deployed);

    // A newer push deploys as usual.
    let newer = e
        .handle(&push_at("api", 'd', "v3", "2026-11-26T10:05:00Z"))
        .await
        .report();
    assert_eq!(newer.outcome, Outcome::Deployed);
}

#[tokio::test]
async fn two_repositories_for_one_function_deploy_whichever_was_pushed_last() {
    // Documented behaviour: each repository's pushes deploy to the function; the later push wins,
    // and an event older than what is live is skipped as stale, whichever repository it names.
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let targets = json!([
        {"repository": "api", "functions": ["api-dev"]},
        {"repository": "api-canary", "functions": ["api-dev"]}
    ]);
    let e = engine(&w, config(targets));
    let canary = push_at("api-canary", 'b', "c1", "2026-11-26T10:00:00Z");
    assert_eq!(e.handle(&canary).await.report().outcome, Outcome::Deployed);
    assert_eq!(w.latest_image("api-dev"), image_uri("api-canary", 'b'));
    let old_main = e
        .handle(&push_at("api", 'c', "v9", "2026-11-26T09:00:00Z"))
        .await
        .report();
    assert_eq!(old_main.outcome, Outcome::Skipped);
    let new_main = e
        .handle(&push_at("api", 'd', "v10", "2026-11-26T11:00:00Z"))
        .await
        .report();
    assert_eq!(new_main.outcome, Outcome::Deployed);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'd'));
}

#[tokio::test]
async fn images_from_another_account_or_region_are_refused_whatever_the_event_says() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    let mut foreign = push("api", 'b', Some("v2"));
    foreign["account"] = json!("999999999999");
    let r = e.handle(&foreign).await.report();
    assert_eq!(r.outcome, Outcome::Skipped);
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("account 999999999999's registry, not 123456789012's")
    );
    let mut elsewhere = push("api", 'b', Some("v2"));
    elsewhere["region"] = json!("us-east-1");
    assert_eq!(
        e.handle(&elsewhere).await.report().outcome,
        Outcome::Skipped
    );
    let uri = format!(
        "999999999999.dkr.ecr.eu-west-1.amazonaws.com/api@{}",
        digest('b')
    );
    let err = e
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": uri}))
        .await
        .unwrap_err();
    assert_eq!(err.field, "payload.image_uri");
    assert!(w.ops().is_empty(), "nothing reached AWS");

    // A central registry, named on the target, is accepted.
    let central = json!([{"repository": "api", "functions": ["api-dev"], "registry_account": "999999999999"}]);
    let r = engine(&w, config(central)).handle(&foreign).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert!(
        w.latest_image("api-dev")
            .starts_with("999999999999.dkr.ecr.eu-west-1.amazonaws.com/api@")
    );
}
