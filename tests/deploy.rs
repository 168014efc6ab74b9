//! The deploy pipeline against the modelled Lambda world (aws-smithy-mocks): every branch, the
//! exact guard values sent, and that skip, no-op and failure paths mutate nothing they must not.

mod support;

use self_deployer::report::{Outcome, Step};
use serde_json::json;
use std::time::Duration;
use support::world::{Answer, Code, World, digest, image_uri, sha};
use support::{config, engine, push};

fn one_target() -> serde_json::Value {
    json!([{"repository": "api", "functions": ["api-dev"]}])
}

#[tokio::test]
async fn a_push_goes_live_through_every_guarded_step() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .unwrap();

    assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed);
    assert_eq!(d.version.map(|v| v.get()), Some(2));
    assert_eq!(d.previous_version.map(|v| v.get()), Some(1));
    assert_eq!(d.code_sha256.as_deref(), Some(sha('b').as_str()));
    assert_eq!(
        report.image_uri.as_deref(),
        Some(image_uri("api", 'b').as_str())
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'b'));

    // The order of calls is the pipeline.
    assert_eq!(
        w.ops_collapsed(),
        [
            "GetAlias",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "Invoke",
            "PublishVersion",
            "UpdateAlias"
        ]
    );
    let calls = w.calls();
    let find = |op| calls.iter().find(|c| c.op == op).unwrap().clone();
    // The image is deployed by digest, guarded by the RevisionId read just before.
    let update = find("UpdateFunctionCode");
    assert_eq!(
        update.image_uri.as_deref(),
        Some(image_uri("api", 'b').as_str())
    );
    let get_before = calls
        .iter()
        .position(|c| c.op == "UpdateFunctionCode")
        .unwrap();
    assert!(
        calls[..get_before]
            .iter()
            .any(|c| c.op == "GetFunction" && c.qualifier.is_none())
    );
    assert_eq!(
        update.revision_id.as_deref(),
        Some("rev-1"),
        "the function's revision when read"
    );
    // The smoke test hits $LATEST with the default health payload.
    let invoke = find("Invoke");
    assert_eq!(invoke.qualifier.as_deref(), Some("$LATEST"));
    assert_eq!(
        invoke.payload.as_deref(),
        Some(r#"{"httpMethod":"GET","path":"/api/v1/health"}"#)
    );
    // Publish carries the smoke-tested CodeSha256 and the revision after the update completed.
    let publish = find("PublishVersion");
    assert_eq!(publish.code_sha256.as_deref(), Some(sha('b').as_str()));
    let settled_revision = w.with_func("api-dev", |f| f.revision.clone());
    assert_eq!(
        publish.revision_id.as_deref(),
        Some(settled_revision.as_str())
    );
    assert_ne!(
        publish.revision_id, update.revision_id,
        "the update changed the revision"
    );
    let desc = publish.description.unwrap();
    assert_eq!(
        desc,
        format!(
            "self-deployer digest={} previous=1 pushed=2026-11-26T07:00:00Z tag=sha-b",
            digest('b')
        )
    );
    // The alias moves with the RevisionId read at the start.
    let alias = find("UpdateAlias");
    assert_eq!(alias.version.as_deref(), Some("2"));
    assert_eq!(
        alias.revision_id.as_deref(),
        Some("rev-2"),
        "alias revision from GetAlias"
    );

    let steps: Vec<Step> = d.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            Step::Resolve,
            Step::WaitReady,
            Step::UpdateCode,
            Step::WaitUpdated,
            Step::SmokeTest,
            Step::Publish,
            Step::PromoteAlias
        ]
    );
    let wait = d
        .steps
        .iter()
        .find(|s| s.step == Step::WaitUpdated)
        .unwrap();
    assert!(
        (3000..=4000).contains(&wait.ms),
        "a 3 s update is waited for 3-4 s of virtual time, got {} ms",
        wait.ms
    );
}

#[tokio::test]
async fn the_same_event_again_changes_nothing() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    e.handle(&push("api", 'b', Some("v2"))).await.unwrap();
    let before = w.calls().len();
    let again = e.handle(&push("api", 'b', Some("v2"))).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyLive);
    assert_eq!(again.deployments[0].version.map(|v| v.get()), Some(2));
    let new_calls: Vec<_> = w.calls()[before..].iter().map(|c| c.op).collect();
    assert_eq!(new_calls, ["GetAlias", "GetFunction"], "only reads");
    assert_eq!(w.versions("api-dev"), [1, 2]);
}

#[tokio::test]
async fn a_failed_smoke_test_leaves_production_and_restores_latest() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let mut bad = Answer::status(500);
    bad.log = "START\nTraceback: KeyError 'DATABASE_URL'\nEND\n".into();
    w.answer('b', bad);
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();

    assert_eq!(report.outcome, Outcome::Failed);
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest));
    assert_eq!(
        d.reason.as_deref(),
        Some("statusCode 500 is not one of [200]")
    );
    let smoke = d.smoke_test.as_ref().unwrap();
    assert_eq!(smoke.status_code, Some(500));
    assert!(
        smoke
            .payload_excerpt
            .as_ref()
            .unwrap()
            .contains("status 500")
    );
    assert!(
        smoke
            .log_tail
            .as_ref()
            .unwrap()
            .contains("KeyError 'DATABASE_URL'")
    );
    // Production untouched, nothing published, $LATEST back on the live image.
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.versions("api-dev"), [1]);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    let restore = d.latest_restore.as_ref().unwrap();
    assert!(restore.restored, "{restore:?}");
    assert_eq!(
        restore.image_uri.as_deref(),
        Some(image_uri("api", 'a').as_str())
    );
    let muts: Vec<_> = w
        .mutating_calls()
        .into_iter()
        .map(|c| (c.op, c.image_uri))
        .collect();
    assert_eq!(
        muts,
        [
            ("UpdateFunctionCode", Some(image_uri("api", 'b'))),
            ("UpdateFunctionCode", Some(image_uri("api", 'a')))
        ]
    );
    assert_eq!(d.steps.last().unwrap().step, Step::RestoreLatest);
}

#[tokio::test]
async fn a_function_error_fails_the_smoke_test_even_when_no_status_is_expected() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer(
        'b',
        Answer {
            payload: r#"{"errorMessage":"boom"}"#.into(),
            function_error: Some("Unhandled".into()),
            log: "boom".into(),
        },
    );
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "smoke": {"expect_status": null, "payload": {"ping": true}}}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest));
    assert_eq!(
        d.reason.as_deref(),
        Some("the function returned an error (Unhandled)")
    );
    assert_eq!(
        w.calls()
            .iter()
            .find(|c| c.op == "Invoke")
            .unwrap()
            .payload
            .as_deref(),
        Some(r#"{"ping":true}"#)
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn expect_status_null_passes_any_answer_without_a_function_error() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer(
        'b',
        Answer {
            payload: "\"pong\"".into(),
            function_error: None,
            log: String::new(),
        },
    );
    let targets =
        json!([{"repository": "api", "functions": ["api-dev"], "smoke": {"expect_status": null}}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Deployed);
}

#[tokio::test]
async fn first_deployment_creates_the_alias() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v1")))
        .await
        .unwrap();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    assert_eq!(d.previous_version, None);
    assert_eq!(d.version.map(|v| v.get()), Some(1));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert!(w.ops().contains(&"CreateAlias") && !w.ops().contains(&"UpdateAlias"));
    assert!(
        w.version_description("api-dev", 1)
            .contains("previous=none")
    );
}

#[tokio::test]
async fn an_alias_on_latest_is_pinned_before_latest_changes() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    w.set_alias("api-dev", "live", "$LATEST");
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    assert_eq!(
        d.previous_version.map(|v| v.get()),
        Some(1),
        "the pinned snapshot of what was live"
    );
    assert_eq!(d.version.map(|v| v.get()), Some(2));
    assert!(
        w.version_description("api-dev", 1)
            .starts_with("self-deployer pinned digest=")
    );
    // The alias left $LATEST before $LATEST was touched.
    let ops = w.ops_collapsed();
    let pin = ops.iter().position(|o| *o == "UpdateAlias").unwrap();
    let update = ops.iter().position(|o| *o == "UpdateFunctionCode").unwrap();
    assert!(pin < update, "{ops:?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn an_update_that_takes_ten_minutes_is_noticed_within_a_second() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(540));
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
    let calls = w.calls();
    let update_at = calls
        .iter()
        .find(|c| c.op == "UpdateFunctionCode")
        .unwrap()
        .at
        .unwrap();
    let done_at = update_at + Duration::from_secs(540);
    // The first poll that saw the update finished, and how many polls it took.
    let polls: Vec<_> = calls
        .iter()
        .filter(|c| c.op == "GetFunction" && c.at.unwrap() > update_at)
        .collect();
    let noticed = polls
        .iter()
        .find(|c| c.at.unwrap() >= done_at)
        .unwrap()
        .at
        .unwrap();
    let delay = noticed.duration_since(done_at).unwrap();
    assert!(
        delay <= Duration::from_secs(1),
        "noticed {delay:?} after completion"
    );
    assert!(
        polls.len() <= 545,
        "about one poll per second, got {}",
        polls.len()
    );
}

#[tokio::test]
async fn an_update_still_running_at_the_timeout_fails_with_the_elapsed_time_and_polls() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(3600));
    let cfg = support::config_with(one_target(), &[("DEPLOYER_UPDATE_TIMEOUT_SECS", "60")]);
    let report = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::WaitUpdated));
    let reason = d.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("still LastUpdateStatus InProgress after 60s ("),
        "{reason}"
    );
    assert!(reason.ends_with("polls); the timeout is 60s"), "{reason}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert!(!w.ops().contains(&"PublishVersion"));
    assert!(
        !d.latest_restore.as_ref().unwrap().restored,
        "an update in progress cannot be undone"
    );
}

#[tokio::test]
async fn a_failed_update_reports_lambdas_reason_and_restores_latest() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| {
        f.pending_outcome = aws_sdk_lambda::types::LastUpdateStatus::Failed
    });
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .unwrap();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::WaitUpdated));
    assert_eq!(
        d.reason.as_deref(),
        Some("LastUpdateStatus is Failed: ImageAccessDenied: Lambda could not pull the image")
    );
    assert!(!w.ops().contains(&"Invoke") && !w.ops().contains(&"PublishVersion"));
    w.with_func("api-dev", |f| {
        f.pending_outcome = aws_sdk_lambda::types::LastUpdateStatus::Successful
    });
    // (the restore itself ran with the pending outcome reset only after; check what it attempted)
    assert_eq!(
        w.mutating_calls().last().unwrap().image_uri.as_deref(),
        Some(image_uri("api", 'a').as_str())
    );
}
