//! Progressive delivery on the modelled world (issue 18): canary steps on the alias, each check a
//! one-time schedule that the test fires by hand (as EventBridge Scheduler would, in virtual time),
//! gates on alarms and the new version's error rate, and a rollout never left at a weight with
//! nobody coming back.

use crate::support;

use self_deployer::report::{Outcome, Step};
use serde_json::json;
use support::world::{Fault, World, image_uri};
use support::{IntoReport, TestEngine, config_with, push, push_at};

use support::canary::{Canary, targets};
use support::{DEPLOYER_ARN as SELF, SCHEDULER_ROLE as ROLE};

#[tokio::test]
async fn a_canary_goes_through_its_steps_and_completes() {
    let c = Canary::new();
    let r = c.push('b', "v2").await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(
        d.version.map(|v| v.get()),
        Some(1),
        "the alias's own version stays stable"
    );
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    assert_eq!(c.subjects(), ["ROLLING OUT api-dev v2 (10%) (v2)"]);
    let s = c.w.only_schedule();
    assert!(s.flexible_off && s.delete_after, "{s:?}");
    assert_eq!((s.target_arn.as_str(), s.role_arn.as_str()), (SELF, ROLE));
    assert!(
        s.expression.starts_with("at(") && s.name.len() <= 64,
        "{s:?}"
    );
    let p = s.payload();
    assert_eq!(
        (
            p["action"].as_str(),
            p["version"].as_str(),
            p["stable_version"].as_str(),
            p["step"].as_u64()
        ),
        (Some("advance"), Some("2"), Some("1"), Some(1))
    );
    assert_eq!(
        d.rollout.as_ref().unwrap().schedule.as_deref(),
        Some(s.name.as_str())
    );

    // Checks every minute; the weight holds until the step has lasted 300 s, then 50 %, then 100 %.
    let mut seen = Vec::new();
    for _ in 0..20 {
        let r = c.fire().await;
        seen.push((
            r.outcome,
            r.deployments[0].rollout.as_ref().map(|x| x.weight),
        ));
        if r.outcome == Outcome::Deployed {
            break;
        }
        assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    }
    let holds = |w: f64| {
        seen.iter()
            .filter(|(o, x)| *o == Outcome::RollingOut && *x == Some(w))
            .count()
    };
    assert_eq!(holds(0.1), 4, "four checks keep 10 %: {seen:?}");
    assert_eq!(
        holds(0.5),
        5,
        "the shift to 50 %, then four checks keep it: {seen:?}"
    );
    assert_eq!(seen.last().unwrap().0, Outcome::Deployed);
    assert_eq!(c.alias(), ("2".into(), vec![]));
    assert!(c.w.schedules().is_empty(), "nothing left scheduled");
    assert_eq!(
        c.subjects(),
        ["ROLLING OUT api-dev v2 (50%)", "DEPLOYED api-dev v2"],
        "told of each change, not of each check"
    );
}

#[tokio::test]
async fn an_alarm_in_alarm_at_a_check_rolls_back_and_restores_latest() {
    let c = Canary::new();
    c.push('b', "v2").await;
    c.subjects();
    c.w.alarm("api-5xx", "ALARM");
    let r = c.fire().await;
    let d = &r.deployments[0];
    assert_eq!(
        (r.outcome, d.failed_step),
        (Outcome::Failed, Some(Step::Rollout)),
        "{r:#?}"
    );
    assert_eq!(
        d.reason.as_deref(),
        Some("alarm api-5xx is in ALARM: rolled back to version 1")
    );
    assert_eq!(d.version.map(|v| v.get()), Some(1));
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert_eq!(c.w.latest_image("api-dev"), image_uri("api", 'a'));
    assert!(d.latest_restore.as_ref().unwrap().restored);
    assert!(c.w.schedules().is_empty());
    assert_eq!(
        c.subjects(),
        ["FAILED api-dev at rollout 10%: rolled back to v1"]
    );
}

#[tokio::test]
async fn too_many_errors_on_the_new_version_roll_back() {
    let c = Canary::new();
    c.push('b', "v2").await;
    c.w.traffic("api-dev", 2, 10.0, 50.0);
    c.w.traffic("api-dev", 1, 10.0, 50.0); // the stable version's errors are not the canary's
    let r = c.fire().await;
    let d = &r.deployments[0];
    assert_eq!(
        d.reason.as_deref(),
        Some("error rate 0.20 > 0.05 over 50 invocations: rolled back to version 1")
    );
    let er = d.rollout.as_ref().unwrap().error_rate.as_ref().unwrap();
    assert_eq!((er.errors, er.invocations, er.judged), (10.0, 50.0, true));
    assert_eq!(c.alias(), ("1".into(), vec![]));
}

#[tokio::test]
async fn too_little_traffic_is_not_judged_and_says_so() {
    let c = Canary::new();
    c.push('b', "v2").await;
    c.w.traffic("api-dev", 2, 1.0, 3.0);
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    let er = r.deployments[0]
        .rollout
        .as_ref()
        .unwrap()
        .error_rate
        .clone()
        .unwrap();
    assert_eq!((er.errors, er.invocations, er.judged), (1.0, 3.0, false));
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
}

#[tokio::test]
async fn an_alarm_state_change_event_rolls_back_at_once() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let event = json!({"version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-26T07:01:00Z",
        "region": "eu-west-1", "resources": [],
        "detail": {"alarmName": "api-5xx", "state": {"value": "ALARM"}}});
    let r = c.e.handle(&event).await.report();
    let d = &r.deployments[0];
    assert_eq!(
        (r.outcome, d.failed_step),
        (Outcome::Failed, Some(Step::Rollout)),
        "{r:#?}"
    );
    assert_eq!(
        d.reason.as_deref(),
        Some("alarm api-5xx went to ALARM: rolled back to version 1")
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert!(c.w.schedules().is_empty(), "its pending check is deleted");
    // Another state, or an alarm no target watches: nothing.
    for (name, state) in [("api-5xx", "OK"), ("other", "ALARM")] {
        let mut e = event.clone();
        e["detail"] = json!({"alarmName": name, "state": {"value": state}});
        let before = c.w.mutating_calls().len();
        assert_eq!(c.e.handle(&e).await.report().outcome, Outcome::Skipped);
        assert_eq!(c.w.mutating_calls().len(), before);
    }
}

#[tokio::test]
async fn a_newer_push_supersedes_the_rollout_and_its_check() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let old = c.w.only_schedule();
    let r =
        c.e.handle(&push_at("api", 'c', "v3", "2026-11-26T08:00:00Z"))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert_eq!(
        c.alias(),
        ("1".into(), vec![("3".into(), 0.1)]),
        "from the stable version"
    );
    let now = c.w.only_schedule();
    assert_ne!(now.name, old.name, "the superseded check was deleted");
    // Had its delete failed, the old check would find the alias changed.
    let r = c.e.handle(&old.payload()).await.report();
    assert_eq!(r.outcome, Outcome::Skipped);
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("superseded: alias live is now 1 + 10% 3")
    );
}

#[tokio::test]
async fn the_same_push_again_changes_nothing() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let before = (
        c.w.versions("api-dev"),
        c.w.schedules(),
        c.w.mutating_calls().len(),
    );
    let r = c.push('b', "v2").await;
    assert_eq!(r.outcome, Outcome::AlreadyLive, "{r:#?}");
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("rollout of this image (version 2) is in progress")
    );
    assert_eq!(
        (
            c.w.versions("api-dev"),
            c.w.schedules(),
            c.w.mutating_calls().len()
        ),
        before
    );
}

#[tokio::test]
async fn a_manual_rollback_ends_the_rollout_and_its_check() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let pending = c.w.only_schedule();
    let r =
        c.e.handle(&json!({"action": "rollback", "function": "api-dev"}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("alias live moved from version 1 + 10% 2 to version 1")
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert!(c.w.schedules().is_empty());
    assert_eq!(
        c.subjects().last().map(String::as_str),
        Some("ROLLED BACK api-dev v1 + 10% v2 -> v1")
    );
    let r = c.e.handle(&pending.payload()).await.report();
    assert_eq!(r.outcome, Outcome::Skipped);
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("superseded:")
    );
}

#[tokio::test]
async fn promote_sends_all_traffic_to_the_new_version_now() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let r =
        c.e.handle(&json!({"action": "promote", "function": "api-dev"}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(c.alias(), ("2".into(), vec![]));
    assert!(c.w.schedules().is_empty());
    let r =
        c.e.handle(&json!({"action": "promote", "function": "api-dev"}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::Skipped, "no rollout in progress");
}

#[tokio::test]
async fn a_check_that_cannot_be_scheduled_aborts_the_rollout() {
    let c = Canary::new();
    c.w.fault("CreateSchedule", 1, Fault::ServiceError);
    let r = c.push('b', "v2").await;
    let d = &r.deployments[0];
    assert_eq!(
        (r.outcome, d.failed_step),
        (Outcome::Failed, Some(Step::Rollout)),
        "{r:#?}"
    );
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .ends_with(": the rollout was aborted, all traffic is on version 1"),
        "{d:#?}"
    );
    assert_eq!(c.alias(), ("1".into(), vec![]), "never left at a weight");
    assert_eq!(c.w.latest_image("api-dev"), image_uri("api", 'a'));
}

#[tokio::test]
async fn a_dry_run_tells_the_plan_and_changes_nothing() {
    let c = Canary::with(&[("DEPLOYER_DRY_RUN", "true")]);
    let r = c.push('b', "v2").await;
    assert_eq!(r.outcome, Outcome::WouldDeploy);
    assert!(r.deployments[0].reason.as_deref().unwrap().ends_with(
        "rolling out in steps of 10%, 50% then 100% (gates checked every 60 s, a step every 300 s)"
    ));
    assert!(c.w.mutating_calls().is_empty() && c.w.schedules().is_empty());
}

#[tokio::test]
async fn without_the_function_arn_a_rollout_fails_before_anything_changes() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = TestEngine::new(&w)
        .config(config_with(
            targets(),
            &[("DEPLOYER_SCHEDULER_ROLE_ARN", ROLE)],
        ))
        .rollouts()
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    let d = &r.deployments[0];
    assert_eq!(d.failed_step, Some(Step::Rollout));
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .starts_with("DEPLOYER_FUNCTION_ARN is not set")
    );
    assert!(w.mutating_calls().is_empty());
}

#[tokio::test]
async fn a_first_deployment_goes_all_at_once() {
    let c = Canary::new();
    c.w.add_function("fresh", support::world::Code::of("api", 'a'));
    let targets =
        json!([{"repository": "api", "functions": ["fresh"], "rollout": {"steps": [10]}}]);
    let e = TestEngine::new(&c.w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(
        r.outcome,
        Outcome::Deployed,
        "a canary needs two versions: {r:#?}"
    );
}

#[tokio::test]
async fn a_failed_take_back_leaves_a_check_that_tries_again() {
    let c = Canary::new();
    c.push('b', "v2").await;
    c.w.alarm("api-5xx", "ALARM");
    // The push made UpdateAlias #1; the take-back is #2 and fails.
    c.w.fault("UpdateAlias", 2, Fault::Throttled);
    let r = c.fire().await;
    let d = &r.deployments[0];
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("taking the traffic back failed"),
        "{d:#?}"
    );
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    assert_eq!(c.w.schedules().len(), 1, "someone comes back");
    // And it does: the next check rolls back.
    let r = c.fire().await;
    assert_eq!(
        r.deployments[0].reason.as_deref(),
        Some("alarm api-5xx is in ALARM: rolled back to version 1")
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
}
