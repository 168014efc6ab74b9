//! Provisioned concurrency and Lambda's transition weights (issue 24 §2, §3) on the moves that end
//! on one version besides a deployment's: a rollout's last step, a promote and a rollback. Each
//! waits for the alias's provisioned concurrency to be `READY` and for the transition to clear
//! before saying `deployed` or `rolled_back`; a `FAILED` allocation at a rollout's end takes the
//! traffic back to the stable version, and after a rollback it is said, never acted on.

use crate::support;

use self_deployer::report::{Deployment, Outcome, Report, Step};
use serde_json::json;
use std::time::Duration;
use support::canary::Canary;
use support::world::{World, image_uri};
use support::{IntoReport, config, engine, one_target, push};

const INIT_FAILED: &str = "FUNCTION_ERROR_INIT_FAILURE: Init failed: KeyError DATABASE_URL";

/// Seconds of world time between the last alias move and the run's last call.
fn waited_after_move(w: &World) -> u64 {
    let calls = w.calls();
    let moved = calls
        .iter()
        .rfind(|c| c.op == "UpdateAlias")
        .and_then(|c| c.at)
        .expect("a move");
    let last = calls.last().and_then(|c| c.at).expect("a call");
    last.duration_since(moved).expect("after").as_secs()
}

/// Fires the rollout's checks until it ends.
async fn until_done(c: &Canary) -> Report {
    for _ in 0..20 {
        let r = c.fire().await;
        if r.outcome != Outcome::RollingOut {
            return r;
        }
    }
    panic!("the rollout never ended")
}

fn waited_for_pc(r: &Report) -> bool {
    r.deployments[0]
        .steps
        .iter()
        .any(|s| s.step == Step::ProvisionedConcurrency)
}

/// The one deployment of `r`, failed at `provisioned_concurrency`.
fn failed_at_pc(r: &Report) -> &Deployment {
    let d = &r.deployments[0];
    assert_eq!(
        (d.outcome, d.failed_step),
        (Outcome::Failed, Some(Step::ProvisionedConcurrency)),
        "{r:#?}"
    );
    d
}

fn rejected(w: &World) -> String {
    w.tags("api-dev")["self-deployer:rejected"].clone()
}

#[tokio::test]
async fn a_rollout_finishing_on_an_alias_with_provisioned_concurrency_waits_and_reports_it() {
    let c = Canary::new();
    c.w.provisioned("api-dev", "live", 10, Duration::from_secs(90));
    assert_eq!(c.push('b', "v2").await.outcome, Outcome::RollingOut);
    let r = until_done(&c).await;
    let d = &r.deployments[0];
    let pc = d.after_move.provisioned.as_ref();
    assert_eq!(
        (
            d.outcome,
            pc.map(|p| (p.requested, p.allocated, p.status.as_str()))
        ),
        (Outcome::Deployed, Some((10, 10, "READY"))),
        "{r:#?}"
    );
    assert!(waited_for_pc(&r) && !d.after_move.traffic_moving, "{d:#?}");
    assert!(waited_after_move(&c.w) >= 90, "{}", waited_after_move(&c.w));
    assert_eq!(c.alias(), ("2".into(), vec![]));
    assert!(c.w.schedules().is_empty(), "nothing left scheduled");
}

#[tokio::test]
async fn a_failed_allocation_at_a_rollouts_end_takes_the_traffic_back_to_the_stable_version() {
    let c = Canary::new();
    c.w.provisioned("api-dev", "live", 10, Duration::from_secs(60));
    c.w.provisioned_fails_for("api-dev", "live", "2", INIT_FAILED);
    assert_eq!(c.push('b', "v2").await.outcome, Outcome::RollingOut);
    let r = until_done(&c).await;
    let d = failed_at_pc(&r);
    assert_eq!(
        (d.reason.as_deref(), d.version.map(|v| v.get()), c.alias()),
        (
            Some(
                "provisioned concurrency on alias live FAILED for version 2: FUNCTION_ERROR_INIT_FAILURE: Init failed: KeyError DATABASE_URL: rolled back to version 1"
            ),
            Some(1),
            ("1".into(), vec![])
        )
    );
    let back =
        c.w.calls()
            .into_iter()
            .rfind(|c| c.op == "UpdateAlias")
            .expect("moved back");
    assert!(back.revision_id.is_some(), "guarded by our own move's");
    assert!(c.w.schedules().is_empty(), "no check left to come back");
    assert_eq!(c.w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(rejected(&c.w), "b".repeat(16));
}

#[tokio::test]
async fn a_promote_waits_and_a_failed_allocation_takes_the_traffic_back() {
    let c = Canary::new();
    c.w.provisioned("api-dev", "live", 10, Duration::from_secs(45));
    c.push('b', "v2").await;
    let promote = json!({"action": "promote", "function": "api-dev"});
    let r = c.e.handle(&promote).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert!(waited_for_pc(&r), "{r:#?}");
    assert!(waited_after_move(&c.w) >= 45);

    c.w.provisioned_fails_for("api-dev", "live", "3", INIT_FAILED);
    c.push('c', "v3").await;
    assert_eq!(c.alias(), ("2".into(), vec![("3".into(), 0.1)]));
    let r = c.e.handle(&promote).await.report();
    let d = failed_at_pc(&r);
    assert!(d.reason.as_deref().unwrap().contains(INIT_FAILED), "{d:#?}");
    assert_eq!(c.alias(), ("2".into(), vec![]));
    assert!(c.w.schedules().is_empty());
    assert_eq!(rejected(&c.w), "c".repeat(16));
}

#[tokio::test]
async fn a_transition_after_a_rollout_finish_is_waited_for() {
    let c = Canary::new();
    c.w.lambda_transitions("api-dev", Duration::from_secs(20));
    c.push('b', "v2").await;
    let r = until_done(&c).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{r:#?}");
    assert!(
        !d.after_move.traffic_moving && d.warnings.is_empty(),
        "{d:#?}"
    );
    assert!(waited_after_move(&c.w) >= 20, "{}", waited_after_move(&c.w));
    assert_eq!(c.w.alias_state("api-dev"), (2, vec![]));
}

/// api-dev deployed from version 1 to 2 on an alias with provisioned concurrency.
async fn deployed_with_pc(takes: Duration) -> (World, self_deployer::engine::Engine) {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    w.provisioned("api-dev", "live", 10, takes);
    let e = engine(&w, config(one_target()));
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    (w, e)
}

#[tokio::test]
async fn a_rollback_waits_for_provisioned_concurrency_on_the_version_rolled_back_to() {
    let (w, e) = deployed_with_pc(Duration::from_secs(30)).await;
    let rb = json!({"action": "rollback", "function": "api-dev"});
    let r = e.handle(&rb).await.report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::RolledBack, "{r:#?}");
    let pc = d.after_move.provisioned.as_ref().expect("reported");
    assert_eq!(pc.status, "READY");
    assert!(waited_after_move(&w) >= 30, "{}", waited_after_move(&w));
}

#[tokio::test]
async fn a_failed_allocation_after_a_rollback_is_said_and_the_alias_stays() {
    let (w, e) = deployed_with_pc(Duration::from_secs(30)).await;
    w.provisioned_fails_for("api-dev", "live", "1", INIT_FAILED);
    let rb = json!({"action": "rollback", "function": "api-dev"});
    let r = e.handle(&rb).await.report();
    let d = failed_at_pc(&r);
    let reason = d.reason.as_deref().unwrap();
    assert!(reason.contains(INIT_FAILED), "{reason}");
    assert!(
        reason.contains("by hand"),
        "what a person should do: {reason}"
    );
    assert_eq!(w.count("UpdateAlias"), 2, "not moved again");
    assert_eq!(w.alias_state("api-dev"), (1, vec![]));
}

#[tokio::test]
async fn a_rollback_waits_for_lambdas_transition() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    w.lambda_transitions("api-dev", Duration::from_secs(20));
    let e = engine(&w, config(one_target()));
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    let rb = json!({"action": "rollback", "function": "api-dev"});
    let r = e.handle(&rb).await.report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::RolledBack, "{r:#?}");
    assert!(!d.after_move.traffic_moving, "{d:#?}");
    assert!(waited_after_move(&w) >= 20, "{}", waited_after_move(&w));
    assert_eq!(w.alias_state("api-dev"), (1, vec![]));
}

#[tokio::test]
async fn a_rollout_whose_provisioned_concurrency_outlasts_the_bound_is_deployed_with_traffic_moving()
 {
    let c = Canary::with(&[("DEPLOYER_PROVISIONED_WAIT_SECS", "60")]);
    c.w.provisioned("api-dev", "live", 10, Duration::from_secs(3600));
    c.push('b', "v2").await;
    let r = until_done(&c).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "the alias did move: {r:#?}");
    assert!(d.after_move.traffic_moving, "{d:#?}");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("still IN_PROGRESS after 60 s")),
        "{:?}",
        d.warnings
    );
    assert!(c.w.schedules().is_empty(), "the rollout ended");
}
