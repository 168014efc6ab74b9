//! Waiting for Lambda: updates of any length are noticed promptly without a flood of polls, an
//! update that never ends times out, someone else's update and conflicts are waited out, and a
//! Pending version is waited for before the alias moves.

use crate::support;

use aws_sdk_lambda::types::LastUpdateStatus;
use aws_smithy_async::time::TimeSource;
use self_deployer::report::{Outcome, Step};
use std::time::Duration;
use support::world::{Fault, World};
use support::{IntoReport, config_with, engine, one_target, push, push_b};

#[tokio::test]
async fn updates_of_any_length_are_noticed_within_a_second_at_about_one_poll_per_second() {
    for secs in [2u64, 30, 120, 600, 601] {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        w.with_func("api-dev", |f| {
            f.update_takes = Duration::from_secs(secs) + Duration::from_millis(secs * 7 % 1000)
        });
        let cfg = config_with(one_target(), &[("DEPLOYER_UPDATE_TIMEOUT_SECS", "900")]);
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
    let cfg = config_with(one_target(), &[("DEPLOYER_UPDATE_TIMEOUT_SECS", "60")]);
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
