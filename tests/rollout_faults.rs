//! The rollout's fault matrix (issues 18 and 23): every kind of fault at every call a rollout makes,
//! at its start and at a check, including "applied, answer lost, and the re-read fails too" (a
//! short Lambda API outage right after a change went through). After each case:
//!
//! - the alias is either whole or a check is scheduled, and never on a third version;
//! - a weighted alias always has a pending check of its rollout in the schedule group, or the
//!   report's reason says in words that the alias may still send traffic to the new version and
//!   what a person should run;
//! - after the outage, firing what is pending never leaves a weight with nobody coming back.

use crate::support;

use self_deployer::report::{Outcome, Report};
use std::time::Duration;
use support::canary::Canary;
use support::world::Fault;

const AT_START: [(&str, usize); 3] = [
    ("UpdateAlias", 1),
    ("CreateSchedule", 1),
    ("ListSchedules", 1),
];
const AT_CHECK: [(&str, usize); 5] = [
    ("GetAlias", 3),
    ("DescribeAlarms", 1),
    ("GetMetricData", 1),
    ("CreateSchedule", 2),
    ("UpdateAlias", 2),
];

fn kinds() -> impl Iterator<Item = Fault> {
    Fault::ALL.into_iter().chain([Fault::LostBlind])
}

/// The invariant: a weighted alias has a pending check of its rollout in the group the
/// deployer schedules in, or the report says what the alias may still do and what to run.
fn attended(c: &Canary, r: &Report, case: &str) {
    let (_, routing) = c.alias();
    let Some((new, _)) = routing.first() else {
        return;
    };
    let pending =
        c.w.schedules()
            .into_iter()
            .any(|s| s.group == "default" && s.payload()["version"].as_str() == Some(new.as_str()));
    let reason = r.deployments[0].reason.clone().unwrap_or_default();
    let told = reason.contains("may still send")
        && reason.contains(&format!("to version {new}"))
        && reason.contains("`self-deployer rollback --function api-dev`");
    assert!(
        pending || told,
        "{case}: alias sends {routing:?}, nothing pending and the reason does not say so: {reason}"
    );
}

/// After the outage: fire whatever is pending (as the Scheduler would) until nothing is; the
/// rollout ends whole or still has a check coming, and never with a weight nobody watches.
async fn converges(c: &Canary, case: &str) {
    c.w.heal();
    for _ in 0..30 {
        let Some(s) = c.w.schedules().into_iter().min_by_key(|s| s.at()) else {
            break;
        };
        c.w.advance_to(s.at());
        c.w.lock().schedules.remove(&s.name);
        let r = c.e.handle(&s.payload()).await;
        let r = support::IntoReport::report(r);
        attended(c, &r, case);
    }
    let (version, routing) = c.alias();
    assert!(
        routing.is_empty(),
        "{case}: still at {routing:?} once every check has run"
    );
    assert!(version == "1" || version == "2", "{case}: on {version}");
}

/// Faults at every call a rollout makes, at its start and at a check: afterwards the alias is
/// either whole (no split) or a check is scheduled, and it never serves untested code.
#[tokio::test]
async fn faults_at_every_rollout_call_never_leave_a_weight_with_nobody_coming_back() {
    let check = |c: &Canary, case: &str| {
        let (version, routing) = c.alias();
        assert!(
            routing.is_empty() || !c.w.schedules().is_empty(),
            "{case}: left at {routing:?} with nothing scheduled"
        );
        assert!(
            version == "1" || version == "2",
            "{case}: alias on {version}"
        );
    };
    for fault in kinds() {
        for (op, nth) in AT_START {
            let case = format!("{fault:?} at {op} #{nth} when the rollout starts");
            let c = Canary::new();
            c.w.fault(op, nth, fault);
            let r = c.push('b', "v2").await;
            check(&c, &case);
            attended(&c, &r, &case);
            assert!(
                matches!(r.outcome, Outcome::RollingOut | Outcome::Failed),
                "{case}: {r:#?}"
            );
            converges(&c, &case).await;
        }
        for (op, nth) in AT_CHECK {
            let case = format!("{fault:?} at {op} #{nth} at a check");
            let c = Canary::new();
            c.push('b', "v2").await;
            // A check after the step has lasted its interval: the weight shifts if all goes well.
            let s = c.w.only_schedule();
            c.w.advance_to(s.at() + Duration::from_secs(300));
            c.w.lock().schedules.remove(&s.name);
            c.w.fault(op, nth, fault);
            let r = c.e.handle(&s.payload()).await;
            let r = support::IntoReport::report(r);
            check(&c, &case);
            attended(&c, &r, &case);
            let d = &r.deployments[0];
            match r.outcome {
                Outcome::RollingOut => assert!(!c.w.schedules().is_empty(), "{case}"),
                Outcome::Failed => assert!(d.reason.is_some(), "{case}"),
                other => panic!("{case}: {other:?} {r:#?}"),
            }
            converges(&c, &case).await;
        }
    }
}
