//! A rollout is never left unwatched or rushed (issue 23): a weight whose answer was lost while the
//! alias could not be read again, at a check and at the start; an old check replayed into a later
//! rollout of the same version, or one whose `started` is far in the past.

use crate::support;

use self_deployer::report::{Outcome, Report};
use serde_json::json;
use std::time::Duration;
use support::IntoReport;
use support::canary::Canary;
use support::world::Fault;

fn reason(r: &Report) -> String {
    r.deployments[0].reason.clone().unwrap_or_default()
}

fn step_and_weight(r: &Report) -> Option<(usize, f64)> {
    r.deployments[0]
        .rollout
        .as_ref()
        .map(|x| (x.step, x.weight))
}

/// Case 1: the move to 50 % at a check is applied, its answer lost, and the alias cannot be read
/// again for the rest of the run. The check that comes next recognises the deployer's own move
/// from the alias record and takes the rollout on from 50 %.
#[tokio::test]
async fn a_lost_weight_at_a_check_is_taken_on_by_the_next_check() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let s = c.w.only_schedule();
    c.w.advance_to(s.at() + Duration::from_secs(300));
    c.w.lock().schedules.remove(&s.name);
    // The push made UpdateAlias #1; the shift to 50 % is #2.
    c.w.fault("UpdateAlias", 2, Fault::LostBlind);
    let r = c.e.handle(&s.payload()).await.report();
    c.w.heal();
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.5)]));
    assert!(
        !reason(&r).contains("this check comes again"),
        "the report must not say the weight stayed: {r:#?}"
    );
    assert!(
        reason(&r).contains("may still send 50% of traffic to version 2"),
        "{r:#?}"
    );
    let next = c.fire().await;
    assert_eq!(next.outcome, Outcome::RollingOut, "{next:#?}");
    assert_eq!(step_and_weight(&next), Some((2, 0.5)));
    // And on to the end, at step 2's own pace.
    let mut last = next;
    for _ in 0..10 {
        if last.outcome != Outcome::RollingOut {
            break;
        }
        last = c.fire().await;
    }
    assert_eq!(last.outcome, Outcome::Deployed, "{last:#?}");
    assert_eq!(c.alias(), ("2".into(), vec![]));
}

/// Case 2: the first weight is applied, its answers lost, and every re-read fails. Its check was
/// scheduled before the weight was set, so it comes and reads what happened.
#[tokio::test]
async fn a_lost_first_weight_has_its_check_coming() {
    let c = Canary::new();
    c.w.fault("UpdateAlias", 1, Fault::LostBlind);
    let r = c.push('b', "v2").await;
    c.w.heal();
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    assert_eq!(c.w.schedules().len(), 1, "a check is coming: {r:#?}");
    assert!(
        reason(&r).contains("may still send 10% of traffic to version 2"),
        "{r:#?}"
    );
    let next = c.fire().await;
    assert_eq!(next.outcome, Outcome::RollingOut, "{next:#?}");
    assert_eq!(step_and_weight(&next), Some((1, 0.1)));
}

/// A first weight that did not land (the alias was readable and shows no split): nothing is left
/// scheduled.
#[tokio::test]
async fn a_first_weight_that_did_not_land_leaves_no_check() {
    let c = Canary::new();
    c.w.fault("UpdateAlias", 1, Fault::ServiceError);
    let r = c.push('b', "v2").await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert!(c.w.schedules().is_empty(), "{:#?}", c.w.schedules());
}

/// Case 3: version 2 rolls out, is rolled back by hand, then deployed again (a new 10 %). The old
/// step-1 check, delivered late, and one whose `started` is far in the past, count the step's
/// time from the new weight: no shift, and one chain of checks.
#[tokio::test]
async fn an_old_check_replayed_into_a_later_rollout_does_not_skip_the_step() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let old = c.w.only_schedule();
    let r =
        c.e.handle(&json!({"action": "rollback", "function": "api-dev"}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    c.w.advance_to(old.at() + Duration::from_secs(600));
    let r =
        c.e.handle(&json!({"action": "deploy", "function": "api-dev",
            "image_uri": support::world::image_uri("api", 'b')}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    let (stable, routing) = c.alias();
    assert_eq!(stable, "1");
    let new = routing[0].0.clone();
    assert_eq!(routing[0].1, 0.1);
    let pending = c.w.only_schedule();
    c.w.advance_to(pending.at() - Duration::from_secs(30));
    let mut replays = vec![old.payload()];
    let mut ancient = pending.payload();
    ancient["started"] = json!("2026-01-01T00:00:00Z");
    replays.push(ancient);
    for mut p in replays {
        p["version"] = json!(new);
        let r = c.e.handle(&p).await.report();
        assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
        assert_eq!(step_and_weight(&r), Some((1, 0.1)), "{r:#?}");
        assert_eq!(c.alias(), ("1".into(), vec![(new.clone(), 0.1)]));
        let names: Vec<String> = c.w.schedules().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            std::slice::from_ref(&pending.name),
            "one chain of checks"
        );
    }
}

/// Scheduler and UpdateAlias both fail at a check whose step has lasted: whatever the reason
/// says, no warning claims that a check comes again unless one is scheduled.
#[tokio::test]
async fn a_check_never_promises_a_check_that_is_not_scheduled() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let s = c.w.only_schedule();
    c.w.advance_to(s.at() + Duration::from_secs(300));
    c.w.lock().schedules.remove(&s.name);
    for (op, nth) in [
        ("CreateSchedule", 2),
        ("CreateSchedule", 3),
        ("CreateSchedule", 4),
        ("UpdateAlias", 2),
        ("UpdateAlias", 3),
    ] {
        c.w.fault(op, nth, Fault::ServiceError);
    }
    let r = c.e.handle(&s.payload()).await.report();
    let d = &r.deployments[0];
    let promised = d
        .warnings
        .iter()
        .chain(d.reason.iter())
        .any(|w| w.contains("comes again") || w.contains("tries again"));
    assert!(
        !promised || !c.w.schedules().is_empty(),
        "promised a check that is not scheduled: {d:#?}"
    );
    let (_, routing) = c.alias();
    assert!(
        routing.is_empty() || !c.w.schedules().is_empty() || reason(&r).contains("may still send"),
        "{r:#?}"
    );
}

/// A first check whose create was applied but answered with an error: the aborted start leaves no
/// step-1 schedule behind.
#[tokio::test]
async fn an_aborted_start_leaves_no_check_behind() {
    let c = Canary::new();
    c.w.fault("CreateSchedule", 1, Fault::LostBlind);
    let r = c.push('b', "v2").await;
    c.w.heal();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert!(c.w.schedules().is_empty(), "{:#?}", c.w.schedules());
}

/// An alarm event whose rollback fails keeps one check coming, not a second chain beside the
/// pending one.
#[tokio::test]
async fn a_failed_alarm_rollback_keeps_one_check() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let pending = c.w.only_schedule();
    // Half a period into the step: a check counted from now would have another name.
    c.w.advance_to(pending.at() - Duration::from_secs(30));
    c.w.fault("UpdateAlias", 2, Fault::Throttled);
    let event = json!({"version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-26T07:01:00Z",
        "region": "eu-west-1", "resources": [],
        "detail": {"alarmName": "api-5xx", "state": {"value": "ALARM"}}});
    let r = c.e.handle(&event).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    let names: Vec<String> = c.w.schedules().into_iter().map(|s| s.name).collect();
    assert_eq!(names, std::slice::from_ref(&pending.name));
}

/// An advance naming an alias that is not the target's (one that never existed): no rollout of
/// this deployer runs there, and the reason does not say it "no longer exists".
#[tokio::test]
async fn an_advance_for_an_alias_that_never_existed_says_so() {
    let c = Canary::new();
    c.push('b', "v2").await;
    let mut p = c.w.only_schedule().payload();
    p["alias"] = json!("nope");
    let before = c.w.calls().len();
    let r = c.e.handle(&p).await.report();
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    assert!(!reason(&r).contains("no longer exists"), "{r:#?}");
    assert!(reason(&r).contains("alias nope"), "{r:#?}");
    assert_eq!(c.w.calls().len(), before, "no AWS call");
}
