//! Provisioned concurrency on the alias (issue 24 §3): after a move Lambda allocates it to the new
//! version, which takes a minute or two; the deployer waits for `READY` (bounded by
//! DEPLOYER_PROVISIONED_WAIT_SECS and the deadline) before `deployed`, reports it, and when the
//! allocation `FAILED` moves the alias back, puts `$LATEST` back and marks the image rejected.

use crate::support;

use self_deployer::report::{FailureKind, Outcome, Step};
use std::time::Duration;
use support::world::{World, image_uri};
use support::{IntoReport, TestEngine, config_with, engine, one_target, push, push_b};

fn world(takes: Duration) -> World {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.provisioned("api-dev", "live", 10, takes);
    w
}

#[tokio::test]
async fn a_deploy_waits_for_provisioned_concurrency_to_be_ready_and_reports_it() {
    let w = world(Duration::from_secs(90));
    let r = push_b(&w).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{r:#?}");
    let pc = d.after_move.provisioned.as_ref().expect("reported");
    assert_eq!(
        (pc.requested, pc.allocated, pc.status.as_str()),
        (10, 10, "READY")
    );
    assert!(
        d.steps
            .iter()
            .any(|s| s.step == Step::ProvisionedConcurrency)
    );
    assert!(w.since_last_move() >= Duration::from_secs(90));
    // Read before the move, then polled after it.
    let ops = w.ops();
    let first = ops
        .iter()
        .position(|o| *o == "GetProvisionedConcurrencyConfig")
        .unwrap();
    assert!(first < ops.iter().position(|o| *o == "UpdateAlias").unwrap());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["deployments"][0]["provisioned"]["status"], "READY");
}

#[tokio::test]
async fn no_provisioned_concurrency_changes_nothing() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let r = push_b(&w).await;
    assert_eq!(r.deployments[0].outcome, Outcome::Deployed);
    assert_eq!(r.deployments[0].after_move.provisioned, None);
    assert_eq!(
        w.count("GetProvisionedConcurrencyConfig"),
        1,
        "one read, no wait"
    );
}

#[tokio::test]
async fn the_wait_is_bounded_by_deployer_provisioned_wait_secs() {
    let w = world(Duration::from_secs(3600));
    let cfg = config_with(one_target(), &[("DEPLOYER_PROVISIONED_WAIT_SECS", "60")]);
    let r = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "the alias moved: {r:#?}");
    assert!(d.after_move.traffic_moving);
    assert_eq!(
        d.after_move.provisioned.as_ref().unwrap().status,
        "IN_PROGRESS"
    );
    assert!(
        d.warnings[0].contains("still IN_PROGRESS after 60 s (5 of 10 allocated)"),
        "{:?}",
        d.warnings
    );
    let waited = w.since_last_move().as_secs();
    assert!((60..=62).contains(&waited), "{waited}");
}

#[tokio::test]
async fn a_failed_allocation_moves_the_alias_back_restores_latest_and_rejects_the_image() {
    let w = world(Duration::from_secs(60));
    w.provisioned_fails_for(
        "api-dev",
        "live",
        "2",
        "FUNCTION_ERROR_INIT_FAILURE: Init failed: KeyError DATABASE_URL",
    );
    let r = push_b(&w).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(d.failed_step, Some(Step::ProvisionedConcurrency));
    assert_eq!(d.failure_kind, Some(FailureKind::UpdateFailed));
    assert_eq!(
        d.reason.as_deref(),
        Some(
            "provisioned concurrency on alias live FAILED for version 2: FUNCTION_ERROR_INIT_FAILURE: Init failed: KeyError DATABASE_URL; alias live moved back to version 1"
        )
    );
    assert_eq!(d.version.map(|v| v.get()), Some(1));
    assert_eq!(w.alias_state("api-dev"), (1, vec![]));
    // The move back was guarded by the RevisionId of our own move.
    let moves: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.op == "UpdateAlias")
        .collect();
    assert_eq!(moves.len(), 2);
    assert!(moves[1].revision_id.is_some());
    assert_eq!(
        w.latest_image("api-dev"),
        image_uri("api", 'a'),
        "$LATEST restored"
    );
    assert!(d.latest_restore.as_ref().unwrap().restored);
    assert_eq!(w.tags("api-dev")["self-deployer:rejected"], "b".repeat(16));
}

#[tokio::test]
async fn a_rollout_on_an_alias_with_provisioned_concurrency_steps_and_rolls_back() {
    use serde_json::json;
    let w = world(Duration::from_secs(60));
    let targets = json!([{"repository": "api", "functions": ["api-dev"],
        "rollout": {"steps": [10], "interval_secs": 300, "check_secs": 60}}]);
    let e = TestEngine::new(&w)
        .rollouts()
        .config(support::scheduling_config(targets))
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert_eq!(w.alias_state("api-dev"), (1, vec![(2, 0.1)]));
    let rb = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "reason": "pc"}))
        .await
        .report();
    assert_eq!(rb.outcome, Outcome::RolledBack, "{rb:#?}");
    assert_eq!(w.alias_state("api-dev"), (1, vec![]));
}
