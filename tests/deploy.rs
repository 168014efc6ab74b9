//! The deploy pipeline against the modelled Lambda world (aws-smithy-mocks): every branch, the
//! exact guard values sent, and that skip, no-op and failure paths mutate nothing they must not.

mod support;

use support::IntoReport;

use aws_sdk_lambda::types::LastUpdateStatus;
use aws_smithy_async::time::TimeSource;
use self_deployer::report::{Outcome, Step};
use serde_json::json;
use std::time::Duration;
use support::world::{Answer, Code, Fault, World, digest, image_uri, sha};
use support::{config, engine, push};

fn one_target() -> serde_json::Value {
    json!([{"repository": "api", "functions": ["api-dev"]}])
}

/// The usual run: image b, tagged v2, pushed to the repository of api-dev.
async fn push_b(w: &World) -> self_deployer::report::Report {
    engine(w, config(one_target()))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report()
}

#[tokio::test]
async fn a_push_goes_live_through_every_guarded_step() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();

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
async fn a_failed_smoke_test_leaves_production_and_restores_latest() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let mut bad = Answer::status(500);
    bad.log = "START\nTraceback: KeyError 'DATABASE_URL'\nEND\n".into();
    w.answer('b', bad);
    let report = push_b(&w).await;

    assert_eq!(report.outcome, Outcome::Failed);
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest));
    assert_eq!(
        d.reason.as_deref(),
        Some("statusCode 500 is not one of [200]")
    );
    assert_eq!(
        d.version.map(|v| v.get()),
        Some(1),
        "the alias stays where it was"
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
        .report();
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
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
}

#[tokio::test]
async fn first_deployment_creates_the_alias() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v1")))
        .await
        .report();
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
    let report = push_b(&w).await;
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
async fn updates_of_any_length_are_noticed_within_a_second_at_about_one_poll_per_second() {
    for secs in [2u64, 30, 120, 600, 601] {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        w.with_func("api-dev", |f| {
            f.update_takes = Duration::from_secs(secs) + Duration::from_millis(secs * 7 % 1000)
        });
        let cfg = support::config_with(one_target(), &[("DEPLOYER_UPDATE_TIMEOUT_SECS", "900")]);
        let report = engine(&w, cfg)
            .handle(&push("api", 'b', Some("v2")))
            .await
            .report();
        assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
        let calls = w.calls();
        let update_at = calls
            .iter()
            .find(|c| c.op == "UpdateFunctionCode")
            .unwrap()
            .at
            .unwrap();
        let done_at = update_at + w.with_func("api-dev", |f| f.update_takes);
        let polls: Vec<_> = calls
            .iter()
            .filter(|c| c.op == "GetFunction" && c.qualifier.is_none() && c.at.unwrap() > update_at)
            .map(|c| c.at.unwrap())
            .collect();
        let noticed = *polls.iter().find(|t| **t >= done_at).unwrap();
        let delay = noticed.duration_since(done_at).unwrap();
        assert!(
            delay <= Duration::from_secs(1),
            "{secs}s update noticed {delay:?} after completion"
        );
        let max_gap = polls
            .windows(2)
            .map(|p| p[1].duration_since(p[0]).unwrap())
            .max()
            .unwrap_or_default();
        assert!(
            max_gap <= Duration::from_secs(1),
            "{secs}s update: {max_gap:?} between two polls"
        );
        assert!(
            polls.len() as u64 <= secs + 3,
            "{secs}s update took {} polls",
            polls.len()
        );
    }
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
        .report();
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
    w.with_func("api-dev", |f| f.pending_outcome = LastUpdateStatus::Failed);
    // Only our update fails; the restore (the second UpdateFunctionCode) succeeds.
    w.hook("UpdateFunctionCode", 2, |s| {
        s.func("api-dev").unwrap().pending_outcome = LastUpdateStatus::Successful;
    });
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::WaitUpdated));
    assert_eq!(
        d.reason.as_deref(),
        Some("LastUpdateStatus is Failed: ImageAccessDenied: Lambda could not pull the image")
    );
    assert!(!w.ops().contains(&"Invoke") && !w.ops().contains(&"PublishVersion"));
    assert!(d.latest_restore.as_ref().unwrap().restored, "{d:#?}");
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

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
async fn one_repository_fans_out_and_one_failure_does_not_stop_the_others() {
    let w = World::new();
    for f in ["api-a", "api-b", "api-c"] {
        w.live_function(f, "api", 'a');
    }
    // api-b's smoke test fails: its own code answers 503. Give it a different image to fail on:
    // all three run the same pushed image, so fail api-b through an injected Invoke error instead.
    w.fault("Invoke", 2, Fault::AccessDenied);
    let targets = json!([{"repository": "api", "functions": ["api-a", "api-b", "api-c"]}]);
    let cfg = support::config_with(targets, &[("DEPLOYER_MAX_PARALLEL", "1")]);
    let report = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let outcomes: Vec<_> = report
        .deployments
        .iter()
        .map(|d| (d.function.name().to_owned(), d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("api-a".into(), Outcome::Deployed),
            ("api-b".into(), Outcome::Failed),
            ("api-c".into(), Outcome::Deployed)
        ]
    );
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(
        report.reason.as_deref(),
        Some("1 of 3 failed: api-b at smoke_test")
    );
    let b = &report.deployments[1];
    assert_eq!(
        b.reason.as_deref(),
        Some(
            "the smoke test could not invoke $LATEST: AccessDeniedException: User is not authorized to perform this action (injected)"
        )
    );
    assert_eq!(w.alias_version("api-a", "live").as_deref(), Some("2"));
    assert_eq!(w.alias_version("api-b", "live").as_deref(), Some("1"));
    assert_eq!(w.alias_version("api-c", "live").as_deref(), Some("2"));
    assert_eq!(
        w.latest_image("api-b"),
        image_uri("api", 'a'),
        "api-b restored"
    );
}

#[tokio::test]
async fn functions_deploy_concurrently_up_to_the_limit() {
    let w = World::new();
    let names: Vec<String> = (0..6).map(|i| format!("fn-{i}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    let targets = json!([{"repository": "api", "functions": names}]);
    let cfg = support::config_with(targets, &[("DEPLOYER_MAX_PARALLEL", "3")]);
    let report = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    // Count how many functions were between their first and last call at each call.
    let calls = w.calls();
    let span = |f: &str| {
        let idx: Vec<usize> = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.function == f)
            .map(|(i, _)| i)
            .collect();
        (idx[0], *idx.last().unwrap())
    };
    let spans: Vec<(usize, usize)> = names.iter().map(|f| span(f)).collect();
    let most = (0..calls.len())
        .map(|i| spans.iter().filter(|(a, b)| *a <= i && i <= *b).count())
        .max()
        .unwrap();
    assert_eq!(
        most, 3,
        "exactly DEPLOYER_MAX_PARALLEL functions in flight at the busiest moment"
    );
}

#[tokio::test]
async fn an_update_in_progress_is_waited_out_before_ours() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let now = w.lock().now.now();
    w.with_func("api-dev", |f| {
        f.status = LastUpdateStatus::InProgress;
        f.done_at = Some(now + Duration::from_secs(20));
    });
    let report = push_b(&w).await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
    let calls = w.calls();
    let update = calls.iter().find(|c| c.op == "UpdateFunctionCode").unwrap();
    assert!(
        update.at.unwrap() >= now + Duration::from_secs(20),
        "updated only after the other update finished"
    );
    assert_eq!(w.count("UpdateFunctionCode"), 1, "no conflict, no retry");
}

#[tokio::test]
async fn a_conflicting_update_is_retried_a_bounded_number_of_times() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateFunctionCode", 1, Fault::Conflict);
    let report = push_b(&w).await;
    assert_eq!(
        report.outcome,
        Outcome::Deployed,
        "one conflict is waited out"
    );
    assert_eq!(w.count("UpdateFunctionCode"), 2);

    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    for n in 1..=3 {
        w.fault("UpdateFunctionCode", n, Fault::Conflict);
    }
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::UpdateCode));
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .starts_with("UpdateFunctionCode failed (attempt 3 of 3): ResourceConflictException"),
        "{d:?}"
    );
    assert_eq!(w.count("UpdateFunctionCode"), 3);
    assert!(d.latest_restore.is_none(), "$LATEST was never changed");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_change_made_by_someone_else_before_our_update_stops_the_run() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateFunctionCode", 1, Fault::Precondition);
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::UpdateCode));
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("changed after it was read")
    );
    assert_eq!(w.mutating_calls().len(), 1, "the refused update only");
}

#[tokio::test]
async fn code_changed_after_the_smoke_test_is_never_published() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // Someone pushes other code to $LATEST by hand right after our smoke test.
    w.hook("Invoke", 1, |s| {
        let f = s.func("api-dev").unwrap();
        f.latest = Code::of("api", 'e');
        f.revision = "rev-by-hand".into();
    });
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::Publish), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("changed after the smoke test"),
        "{d:?}"
    );
    assert_eq!(w.versions("api-dev"), [1], "nothing published");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    let restore = d.latest_restore.as_ref().unwrap();
    assert!(!restore.restored);
    assert!(restore.detail.contains("someone else changed the function"));
    assert_eq!(
        w.latest_image("api-dev"),
        image_uri("api", 'e'),
        "their change stays"
    );
    assert_eq!(
        w.mutating_calls()
            .iter()
            .filter(|c| c.op == "UpdateFunctionCode")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_alias_moved_by_hand_during_the_deploy_is_left_alone() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    w.publish("api-dev", "v1");
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'c'));
    w.publish("api-dev", "v2");
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'a'));
    w.set_alias("api-dev", "live", "2");
    // Someone rolls back to version 1 while we are publishing.
    w.hook("PublishVersion", 1, |s| {
        let a = s.func("api-dev").unwrap().aliases.get_mut("live").unwrap();
        a.version = "1".into();
        a.revision = "rev-rollback-by-hand".into();
    });
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v3")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::PromoteAlias), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("was changed by someone else")
    );
    assert_eq!(
        w.alias_version("api-dev", "live").as_deref(),
        Some("1"),
        "their rollback stands"
    );
    assert!(!d.latest_restore.as_ref().unwrap().restored);
}

#[tokio::test]
async fn a_pending_version_is_waited_for_before_the_alias_moves() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| {
        f.version_pending_for = Duration::from_secs(7)
    });
    let report = push_b(&w).await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
    let calls = w.calls();
    let published = calls
        .iter()
        .find(|c| c.op == "PublishVersion")
        .unwrap()
        .at
        .unwrap();
    let moved = calls
        .iter()
        .find(|c| c.op == "UpdateAlias")
        .unwrap()
        .at
        .unwrap();
    assert!(moved >= published + Duration::from_secs(7));
    assert!(
        calls
            .iter()
            .any(|c| c.op == "GetFunction" && c.qualifier.as_deref() == Some("2"))
    );
}

#[tokio::test]
async fn a_canary_split_is_cleared_when_the_alias_moves() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| {
        f.aliases
            .get_mut("live")
            .unwrap()
            .routing
            .insert("1".into(), 0.1);
    });
    let report = push_b(&w).await;
    assert_eq!(report.outcome, Outcome::Deployed);
    assert!(w.with_func("api-dev", |f| f.aliases["live"].routing.is_empty()));
}

#[tokio::test]
async fn old_versions_are_pruned_but_never_aliased_or_previous_ones() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", '1'));
    for (i, c) in ['1', '2', '3', '4', '5'].iter().enumerate() {
        w.with_func("api-dev", |f| f.latest = Code::of("api", *c));
        assert_eq!(w.publish("api-dev", "old"), i as u64 + 1);
    }
    w.set_alias("api-dev", "live", "5");
    w.set_alias("api-dev", "pinned-by-qa", "2");
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "keep_versions": 2}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v6")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    let pruned: Vec<u64> = d.pruned_versions.iter().map(|v| v.get()).collect();
    assert_eq!(
        pruned,
        [1, 3, 4],
        "keeps 6 (new) and 5 (previous), and 2 (another alias)"
    );
    assert_eq!(w.versions("api-dev"), [2, 5, 6]);
    let deletes: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.op == "DeleteFunction")
        .map(|c| c.qualifier)
        .collect();
    assert!(
        deletes.iter().all(|q| q.is_some()),
        "never an unqualified delete"
    );
}

#[tokio::test]
async fn a_failure_to_prune_is_a_warning_not_a_failed_deployment() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("ListVersionsByFunction", 1, Fault::ServiceError);
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "keep_versions": 2}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed);
    assert_eq!(
        d.warnings,
        [
            "pruning skipped: ListVersionsByFunction failed: ServiceException: internal failure (injected)"
        ]
    );
}

#[tokio::test]
async fn zip_functions_and_missing_functions_fail_without_mutation() {
    let w = World::new();
    w.live_function("zip-fn", "api", 'a');
    w.with_func("zip-fn", |f| {
        f.package_type = aws_sdk_lambda::types::PackageType::Zip
    });
    let targets = json!([{"repository": "api", "functions": ["zip-fn", "ghost"]}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let zip = &report.deployments[0];
    assert_eq!(zip.failed_step, Some(Step::WaitReady));
    assert_eq!(
        zip.reason.as_deref(),
        Some("the function is packaged as Zip: self-deployer deploys container images only")
    );
    let ghost = &report.deployments[1];
    assert_eq!(ghost.failed_step, Some(Step::Resolve));
    assert!(
        ghost
            .reason
            .as_deref()
            .unwrap()
            .starts_with("GetAlias failed: ResourceNotFoundException: Function not found")
    );
    assert!(w.mutating_calls().is_empty());
}

#[tokio::test]
async fn a_publish_error_restores_latest_and_leaves_the_alias() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("PublishVersion", 1, Fault::ServiceError);
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::Publish));
    assert_eq!(
        d.reason.as_deref(),
        Some("PublishVersion failed: ServiceException: internal failure (injected)")
    );
    assert!(d.latest_restore.as_ref().unwrap().restored);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn function_arns_are_passed_to_lambda_as_configured() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let arn = format!(
        "arn:aws:lambda:{}:{}:function:api-dev",
        support::world::REGION,
        support::world::ACCOUNT
    );
    let report = engine(
        &w,
        config(json!([{"repository": "api", "functions": [arn]}])),
    )
    .handle(&push("api", 'b', Some("v2")))
    .await
    .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    assert!(w.calls().iter().all(|c| c.function == arn));
}

fn push_at(c: char, tag: &str, time: &str) -> serde_json::Value {
    let mut e = push("api", c, Some(tag));
    e["time"] = json!(time);
    e
}

#[tokio::test]
async fn a_stale_event_never_rolls_production_back_by_accident() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    // B was pushed at 10:00 and is live.
    let r = e
        .handle(&push_at('b', "v2", "2026-11-26T10:00:00Z"))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed);
    let muts = w.mutating_calls().len();

    // A's event (pushed at 09:59) arrives late.
    let stale = e
        .handle(&push_at('c', "v1", "2026-11-26T09:59:00Z"))
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
        .handle(&push_at('d', "v3", "2026-11-26T10:05:00Z"))
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
    let mut canary = push("api-canary", 'b', Some("c1"));
    canary["time"] = json!("2026-11-26T10:00:00Z");
    assert_eq!(e.handle(&canary).await.report().outcome, Outcome::Deployed);
    assert_eq!(w.latest_image("api-dev"), image_uri("api-canary", 'b'));
    let old_main = e
        .handle(&push_at('c', "v9", "2026-11-26T09:00:00Z"))
        .await
        .report();
    assert_eq!(old_main.outcome, Outcome::Skipped);
    let new_main = e
        .handle(&push_at('d', "v10", "2026-11-26T11:00:00Z"))
        .await
        .report();
    assert_eq!(new_main.outcome, Outcome::Deployed);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'd'));
}

#[tokio::test]
async fn an_alias_move_that_errors_but_went_through_is_a_deployment() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // The move happens, then the answer is lost (a 5xx on the way back).
    w.hook("UpdateAlias", 1, |s| {
        let a = s.func("api-dev").unwrap().aliases.get_mut("live").unwrap();
        a.version = "2".into();
        a.revision = "rev-moved".into();
    });
    w.fault("UpdateAlias", 1, Fault::ServiceError);
    let r = push_b(&w).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        w.latest_image("api-dev"),
        image_uri("api", 'b'),
        "$LATEST not restored under a live version"
    );

    // And one that really failed is a failure, with $LATEST restored.
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateAlias", 1, Fault::ServiceError);
    let r = push_b(&w).await;
    assert_eq!(r.deployments[0].failed_step, Some(Step::PromoteAlias));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
}

#[tokio::test]
async fn a_duplicate_delivered_while_the_first_runs_makes_one_version_and_one_alias_move() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(20));
    let e = engine(&w, config(one_target()));
    let event = push("api", 'b', Some("v2"));
    let (first, second) = tokio::join!(e.handle(&event), e.handle(&event));
    let (first, second) = (first.report(), second.report());
    let outcomes = [first.outcome, second.outcome];
    assert!(
        outcomes.contains(&Outcome::Deployed),
        "{first:#?}\n{second:#?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Deployed | Outcome::AlreadyLive)),
        "{outcomes:?}"
    );
    assert_eq!(w.versions("api-dev"), [1, 2], "one new version");
    let moves = w
        .calls()
        .iter()
        .filter(|c| c.op == "UpdateAlias" && c.version.as_deref() == Some("2"))
        .count();
    assert!(moves >= 1);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        w.count("UpdateFunctionCode"),
        1,
        "the code was updated once"
    );
}

#[tokio::test]
async fn a_rerun_after_a_failure_does_not_update_latest_again_when_it_already_runs_the_image() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // A run that failed after updating $LATEST and could not restore it.
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'b'));
    let r = push_b(&w).await;
    assert_eq!(r.outcome, Outcome::Deployed);
    assert!(!w.ops().contains(&"UpdateFunctionCode"));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
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
