//! Lost answers, hung calls, replayed events (issue 13): the report always tells the truth.
//!
//! The SDK's own retries are part of the story here: the world's client retries as production does
//! (5 attempts), so an answer lost after AWS applied the call is followed by the same call again,
//! which trips our own RevisionId guard.

use crate::support;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_smithy_async::time::TimeSource;

use self_deployer::engine::{Engine, Invocation};
use self_deployer::report::{Outcome, Step};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::world::{Answer, Fault, World, digest, image_uri};
use support::{IntoReport, TestEngine, config, one_target, push, push_at, push_b_by};

/// An engine whose Lambda client retries like production's, with notifications recorded.
fn retrying_engine(w: &World, targets: serde_json::Value) -> (Engine, Arc<Mutex<Vec<String>>>) {
    let (rule, subjects) = support::sns_subjects();
    let e = TestEngine::new(w)
        .config(config(targets))
        .lambda(w.client_with(Vec::new(), RetryConfig::standard().with_max_attempts(5)))
        .sns(&rule)
        .build();
    (e, subjects)
}

/// Versions 1 (a), 2 (b), 3 (c), each deployed by the engine; the alias on 3.
async fn three_deployments(w: &World, e: &Engine) {
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', "v2"), ('c', "v3")] {
        w.ecr_image("api", c, Some(tag));
    }
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        let r = e.handle(&push("api", c, Some(tag))).await.report();
        assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    }
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("3"));
}

/// The world's clock as an event time.
fn now_rfc3339(w: &World) -> String {
    let t: chrono::DateTime<chrono::Utc> = w.time.now().into();
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn a_rollback_whose_answer_was_lost_is_recognised_as_ours_and_reported_once() {
    let w = World::new();
    let (e, subjects) = retrying_engine(&w, one_target());
    three_deployments(&w, &e).await;
    subjects.lock().unwrap().clear();
    // The deploys made UpdateAlias #1 and #2; the rollback's move is #3, applied, answer lost.
    w.fault("UpdateAlias", 3, Fault::Lost);
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(d.version.map(|v| v.get()), Some(2));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        w.count("UpdateAlias"),
        4,
        "the SDK sent the move again once"
    );
    assert_eq!(subjects.lock().unwrap().len(), 1, "notified once");
    assert!(subjects.lock().unwrap()[0].starts_with("ROLLED BACK"));

    // And again: the previous of 2 is 1 (it was not moved twice by the first rollback).
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.deployments[0].version.map(|v| v.get()), Some(1));
}

#[tokio::test]
async fn a_deploy_whose_alias_move_answer_was_lost_is_deployed_notified_and_pruned() {
    let w = World::new();
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "keep_versions": 2}]);
    let (e, subjects) = retrying_engine(&w, targets);
    three_deployments(&w, &e).await;
    subjects.lock().unwrap().clear();
    w.fault("UpdateAlias", 3, Fault::Lost);
    let r = e
        .handle(&push_at("api", 'd', "v4", "2026-11-27T07:00:00Z"))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(d.version.map(|v| v.get()), Some(4));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("4"));
    assert_eq!(
        subjects.lock().unwrap().as_slice(),
        ["DEPLOYED api-dev v4 (v4)"]
    );
    assert!(!d.pruned_versions.is_empty(), "pruned as usual: {d:#?}");
    assert_eq!(w.versions("api-dev"), [3, 4]);
}

#[tokio::test]
async fn another_run_of_the_same_push_is_still_told_apart_from_ours() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // While our run publishes, another run of the same push publishes and moves the alias.
    w.hook("PublishVersion", 1, |s| {
        let f = s.func("api-dev").unwrap();
        let v = f.next_version;
        f.next_version += 1;
        let code = f.latest.clone();
        f.versions.insert(
            v,
            support::world::Snapshot {
                code,
                description: "another run".into(),
                state: aws_sdk_lambda::types::State::Active,
            },
        );
        let a = f.aliases.get_mut("live").unwrap();
        a.version = v.to_string();
        a.revision = "rev-other-run".into();
        a.description =
            "self-deployer moved=2026-11-26T07:00:01Z kind=deploy to=2 from=1 run=other".into();
    });
    let (e, _) = retrying_engine(&w, one_target());
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::AlreadyLive, "{r:#?}");
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("another run of this push moved alias live to version 2")
    );
}

#[tokio::test]
async fn a_lost_update_answer_is_noticed_by_looking_and_the_deploy_goes_on() {
    let w = World::new();
    let (e, _) = retrying_engine(&w, one_target());
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateFunctionCode", 1, Fault::Lost);
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    let updates = w.count("UpdateFunctionCode");
    assert_eq!(
        updates, 2,
        "applied once; the repeat found it in progress, and it was ours"
    );
}

#[tokio::test]
async fn a_lost_update_answer_then_a_failed_smoke_test_restores_latest_and_says_so() {
    let w = World::new();
    let (e, _) = retrying_engine(&w, one_target());
    w.live_function("api-dev", "api", 'a');
    w.answer('b', Answer::status(500));
    w.fault("UpdateFunctionCode", 1, Fault::Lost);
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    let d = &r.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest), "{d:#?}");
    let restore = d.latest_restore.as_ref().expect("a restore was reported");
    assert!(restore.restored, "{restore:?}");
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert!(
        !d.reason.as_deref().unwrap().contains("nothing was updated"),
        "never claimed without looking"
    );
}

#[tokio::test]
async fn an_update_refused_without_going_through_says_what_latest_runs() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateFunctionCode", 1, Fault::Precondition);
    let r = support::push_b(&w).await;
    let d = &r.deployments[0];
    assert_eq!(d.failed_step, Some(Step::UpdateCode));
    let reason = d.reason.as_deref().unwrap();
    assert!(
        reason.ends_with(&format!("; $LATEST still runs {}", image_uri("api", 'a'))),
        "{reason}"
    );
    assert!(
        d.latest_restore.is_none(),
        "looked: $LATEST runs the live image"
    );
}

#[tokio::test]
async fn no_step_starts_when_the_invocation_is_about_to_end() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = TestEngine::new(&w).build();
    let request = e.parse(&push("api", 'b', Some("v2"))).unwrap();
    let deadline = w.time.now() + Duration::from_secs(20);
    let r = e
        .run(
            request,
            Invocation {
                request_id: Some("req-1".into()),
                deadline: Some(deadline),
            },
        )
        .await
        .report();
    let d = &r.deployments[0];
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(d.failed_step, Some(Step::Resolve), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .starts_with("stopped: only 20 s of this invocation were left"),
        "{d:#?}"
    );
    assert!(
        w.calls().iter().all(|c| c.op == "GetAlias"),
        "only the look at the alias for the report"
    );
}

#[tokio::test]
async fn a_slow_update_near_the_deadline_stops_in_time_and_reports() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(300));
    let e = TestEngine::new(&w).build();
    let start = w.time.now();
    let deadline = start + Duration::from_secs(90);
    let r = push_b_by(&e, deadline).await;
    let d = &r.deployments[0];
    assert_eq!(d.failed_step, Some(Step::WaitUpdated), "{d:#?}");
    assert!(
        d.reason.as_deref().unwrap().contains("the timeout is 60s"),
        "waited only until the reserve: {d:#?}"
    );
    assert!(
        w.time.now() < deadline,
        "the report came back before the deadline"
    );
    let restore = d.latest_restore.as_ref().unwrap();
    assert!(!restore.restored);
    assert!(restore.detail.contains("still in progress"), "{restore:?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_replayed_push_never_undoes_a_rollback_but_a_new_push_deploys() {
    let w = World::new();
    let e = TestEngine::new(&w).build();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    let event = push("api", 'b', Some("v2"));
    assert_eq!(e.handle(&event).await.report().outcome, Outcome::Deployed);
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack);
    let before = w.mutating_calls().len();

    // EventBridge delivers the same event again, late.
    let again = e.handle(&event).await.report();
    assert_eq!(again.outcome, Outcome::Skipped, "{again:#?}");
    let why = again.deployments[0].reason.as_deref().unwrap();
    assert!(why.starts_with("stale_event: this image was pushed at 2026-11-26T07:00:00Z, before the alias was rolled back to version 1 at "), "{why}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.mutating_calls().len(), before, "nothing touched");

    // A new push of the same digest (a later event) still deploys.
    let new_push = push_at("api", 'b', "v2", &now_rfc3339(&w));
    let r = e.handle(&new_push).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn an_event_from_the_future_is_refused_before_any_call() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let err = TestEngine::new(&w)
        .build()
        .handle(&push_at("api", 'b', "v2", "2099-01-01T00:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.field, "payload.time");
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn a_rollback_to_the_current_version_clears_a_split_set_by_hand() {
    let w = World::new();
    let e = TestEngine::new(&w).build();
    three_deployments(&w, &e).await;
    w.set_alias("api-dev", "live", "2");
    w.with_func("api-dev", |f| {
        f.aliases.get_mut("live").unwrap().routing = [("3".to_owned(), 0.5)].into();
    });
    let s = e.handle(&json!({"action": "status"})).await.unwrap();
    let table = self_deployer::cli::render::status_table(match &s {
        self_deployer::engine::Response::Status(s) => s,
        _ => panic!(),
    });
    assert!(
        table.contains("2 + 50% 3"),
        "status shows the split:\n{table}"
    );

    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "version": "2"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("alias live moved from version 2 + 50% 3 to version 2"),
        "{r:#?}"
    );
    assert!(w.with_func("api-dev", |f| f.aliases["live"].routing.is_empty()));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn every_configured_repository_of_a_function_is_accepted_by_hand() {
    let w = World::new();
    w.live_function("api", "app", 'a');
    let targets = json!([{"repository": "app", "functions": ["api"]}, {"repository": "web", "functions": ["api"]}]);
    let e = TestEngine::new(&w).config(config(targets)).build();
    // The retry command printed after a failed `web` push.
    let r = e
        .handle(&json!({"action": "deploy", "function": "api", "image_uri": image_uri("web", 'b')}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.latest_image("api"), image_uri("web", 'b'));
}

#[tokio::test]
async fn a_deploy_by_tag_asks_the_targets_central_registry() {
    let central = "210987654321";
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'e', Some("stable"));
    let targets =
        json!([{"repository": "api", "functions": ["api-dev"], "registry_account": central}]);
    let e = TestEngine::new(&w).config(config(targets)).build();
    let r = e
        .handle(&json!({"action": "deploy", "repository": "api", "tag": "stable"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let lookup = w
        .calls()
        .into_iter()
        .find(|c| c.op == "DescribeImages")
        .unwrap();
    assert_eq!(lookup.registry_id.as_deref(), Some(central));
    assert_eq!(
        w.latest_image("api-dev"),
        format!(
            "{central}.dkr.ecr.eu-west-1.amazonaws.com/api@{}",
            digest('e')
        )
    );
}

#[tokio::test]
async fn status_fails_when_a_function_cannot_be_read_and_shows_the_real_rollback_target() {
    let w = World::new();
    let e = TestEngine::new(&w).build();
    three_deployments(&w, &e).await;
    // Version 2, which version 3 records as previous, is deleted by hand.
    w.with_func("api-dev", |f| f.versions.remove(&2));
    let s = e.handle(&json!({"action": "status"})).await.unwrap();
    assert!(!s.is_failure());
    let self_deployer::engine::Response::Status(st) = &s else {
        panic!()
    };
    assert_eq!(st.functions[0].previous_version.map(|v| v.get()), Some(1));
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.deployments[0].version.map(|v| v.get()), Some(1), "{r:#?}");

    let targets = json!([{"repository": "api", "functions": ["api-dev", "gone"]}]);
    let e = TestEngine::new(&w).config(config(targets)).build();
    let s = e.handle(&json!({"action": "status"})).await.unwrap();
    assert!(s.is_failure(), "a function could not be read: {s:#?}");
}
