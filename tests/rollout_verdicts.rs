//! Rollout verdicts on the modelled world (issue 26): pass, fail, inconclusive; a step with too
//! little traffic holds past its interval and then rolls back or proceeds; synthetic invocations
//! of the new version decide a step; the baseline gate against the stable version; latency gates;
//! report-only; unreadable evidence still fails. Checks fire in virtual time, one per minute.

use crate::support;

use self_deployer::report::{Outcome, Report, RolloutInfo, Step, Verdict};
use serde_json::{Value, json};
use support::IntoReport;
use support::world::{Answer, Fault};

/// The shared canary (tests/support/canary.rs) under this file's rollout, with the push already
/// at its first step.
struct Canary(support::canary::Canary);

impl std::ops::Deref for Canary {
    type Target = support::canary::Canary;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Canary {
    /// api-dev on version 1, `rollout` (steps 10 then 50, a step every 300 s, a check every 60 s,
    /// plus `extra`), version 2 pushed and at 10 %.
    async fn start(extra: Value) -> Self {
        let mut rollout = json!({"steps": [10, 50], "interval_secs": 300, "check_secs": 60,
                                 "min_invocations": 20});
        for (k, v) in extra.as_object().expect("an object") {
            rollout[k] = v.clone();
        }
        let targets = json!([{"repository": "api", "functions": ["api-dev"], "rollout": rollout}]);
        let c = support::canary::Canary::on(targets, &[]);
        let r = c.push('b', "v2").await;
        assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
        c.subjects();
        Self(c)
    }

    fn synthetic_invokes(&self) -> Vec<(Option<String>, Option<String>)> {
        self.w
            .calls()
            .into_iter()
            .filter(|c| c.op == "Invoke" && c.qualifier.as_deref() != Some("$LATEST"))
            .map(|c| (c.qualifier, c.payload))
            .collect()
    }
}

fn info(r: &Report) -> &RolloutInfo {
    r.deployments[0].rollout.as_ref().expect("a rollout object")
}

fn verdict(r: &Report) -> Verdict {
    info(r).check.as_ref().expect("a check reading").verdict
}

fn reason(r: &Report) -> &str {
    r.deployments[0].reason.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn too_little_traffic_holds_past_the_interval_then_rolls_back() {
    let c = Canary::start(json!({"max_error_rate": 0.05, "max_wait_secs": 120})).await;
    c.w.traffic("api-dev", 2, 0.0, 3.0);
    // Four checks before the interval, the one at 300 s, one more: all hold 10 %.
    for n in 1..=6 {
        let r = c.fire().await;
        assert_eq!(r.outcome, Outcome::RollingOut, "check {n}: {r:#?}");
        assert_eq!(verdict(&r), Verdict::Inconclusive);
        let e = info(&r).check.as_ref().unwrap().evidence.clone().unwrap();
        assert_eq!((e.invocations, e.min_invocations), (3.0, 20));
        assert!(
            reason(&r).contains("inconclusive: 3 of 20 invocations"),
            "{r:#?}"
        );
        assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]), "{n}");
    }
    // Told once, at the first check that held the step past its interval.
    assert_eq!(
        c.subjects(),
        ["INCONCLUSIVE api-dev at 10%: 3 of 20 invocations"]
    );
    // 420 s: max_wait_secs past the interval, and still no evidence: the default rolls back.
    let r = c.fire().await;
    assert_eq!(
        (r.outcome, r.deployments[0].failed_step),
        (Outcome::Failed, Some(Step::Rollout)),
        "{r:#?}"
    );
    assert_eq!(
        reason(&r),
        "inconclusive 120 s past the step's interval (3 of 20 invocations): on_inconclusive is rollback: rolled back to version 1"
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
    assert!(c.w.schedules().is_empty());
    assert_eq!(
        c.subjects(),
        ["FAILED api-dev at rollout 10%: rolled back to v1"]
    );
}

#[tokio::test]
async fn on_inconclusive_proceed_moves_on_after_the_wait() {
    let c = Canary::start(json!({"max_error_rate": 0.05, "max_wait_secs": 120,
                                 "on_inconclusive": "proceed"}))
    .await;
    for _ in 1..=6 {
        assert_eq!(c.fire().await.outcome, Outcome::RollingOut);
    }
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.5)]));
    assert!(reason(&r).contains("on_inconclusive is proceed"), "{r:#?}");
    assert_eq!(
        c.subjects(),
        [
            "INCONCLUSIVE api-dev at 10%: 0 of 20 invocations",
            "ROLLING OUT api-dev v2 (50%)"
        ]
    );
    // The next step's payload starts with nothing told: its own hold is news again.
    assert!(c.w.only_schedule().payload().get("tally").is_none());
}

#[tokio::test]
async fn synthetic_invocations_of_the_new_version_decide_the_step() {
    let c = Canary::start(json!({"max_error_rate": 0.05,
        "synthetic": {"max_per_check": 10, "payload": {"probe": true}}}))
    .await;
    c.w.traffic("api-dev", 2, 0.0, 3.0);
    // 3 real: 10 made at the first check (13), the missing 7 at the second (20): a pass.
    let r = c.fire().await;
    assert_eq!(verdict(&r), Verdict::Inconclusive, "{r:#?}");
    assert_eq!(c.synthetic_invokes().len(), 10);
    assert_eq!(
        c.w.only_schedule().payload()["tally"],
        json!({"synthetic": 10, "synthetic_failed": 0, "told_inconclusive": false, "told_would_roll_back": false})
    );
    let r = c.fire().await;
    assert_eq!(verdict(&r), Verdict::Pass, "{r:#?}");
    let e = info(&r).check.as_ref().unwrap().evidence.clone().unwrap();
    assert_eq!(
        (e.invocations, e.synthetic, e.synthetic_failed),
        (20.0, 17, 0)
    );
    assert!(
        reason(&r).contains("the gates passed on 20 invocations, 17 of them synthetic (0 failed)"),
        "{r:#?}"
    );
    let made = c.synthetic_invokes();
    assert_eq!(made.len(), 17);
    assert!(
        made.iter()
            .all(|(q, p)| q.as_deref() == Some("2") && p.as_deref() == Some(r#"{"probe":true}"#)),
        "by the new version's number, with the synthetic payload: {made:?}"
    );
    // Enough evidence: no more invocations in this step, and it moves on at its interval.
    for _ in 0..3 {
        assert_eq!(verdict(&c.fire().await), Verdict::Pass);
    }
    assert_eq!(c.synthetic_invokes().len(), 17);
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.5)]));
}

#[tokio::test]
async fn failing_synthetic_invocations_roll_back() {
    let c = Canary::start(json!({"max_error_rate": 0.05, "min_invocations": 10,
        "synthetic": {"max_per_check": 10}}))
    .await;
    c.w.answer(
        'b',
        Answer {
            function_error: Some("Unhandled".into()),
            ..Answer::status(500)
        },
    );
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(
        reason(&r),
        "error rate 1.00 > 0.05 over 10 invocations: rolled back to version 1"
    );
    let e = info(&r).check.as_ref().unwrap().evidence.clone().unwrap();
    assert_eq!((e.synthetic, e.synthetic_failed), (10, 10));
    // The smoke test's payload, by default.
    assert!(
        c.synthetic_invokes()
            .iter()
            .all(|(q, p)| q.as_deref() == Some("2")
                && p.as_deref() == Some(r#"{"httpMethod":"GET","path":"/api/v1/health"}"#)),
        "{:?}",
        c.synthetic_invokes()
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
}

#[tokio::test]
async fn the_baseline_passes_a_canary_as_bad_as_stable_and_fails_a_worse_one() {
    let c = Canary::start(json!({"max_error_rate_increase": 0.05})).await;
    // The hotfix's incident: the stable version fails 20 %, the new one too.
    c.w.traffic("api-dev", 1, 200.0, 1000.0);
    c.w.traffic("api-dev", 2, 20.0, 100.0);
    let r = c.fire().await;
    assert_eq!(verdict(&r), Verdict::Pass, "{r:#?}");
    let stable = info(&r).check.as_ref().unwrap().stable_error_rate.clone();
    assert_eq!(
        stable.map(|s| (s.errors, s.invocations)),
        Some((200.0, 1000.0))
    );
    assert_eq!(
        c.w.metrics_asked(),
        [["Errors:2", "Invocations:2", "Errors:1", "Invocations:1"]],
        "one GetMetricData, four metrics"
    );

    let c = Canary::start(json!({"max_error_rate_increase": 0.05})).await;
    c.w.traffic("api-dev", 1, 20.0, 1000.0);
    c.w.traffic("api-dev", 2, 30.0, 100.0);
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(
        reason(&r),
        "error rate 0.30 is 0.28 above the stable version's 0.02 (max_error_rate_increase 0.05): rolled back to version 1"
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));
}

#[tokio::test]
async fn a_p99_gate_fails_a_slow_canary() {
    let c = Canary::start(json!({"max_p99_ms": 500})).await;
    c.w.traffic_p99("api-dev", 2, 0.0, 50.0, 900.0);
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(
        reason(&r),
        "p99 latency 900 ms > 500 ms: rolled back to version 1"
    );

    let c = Canary::start(json!({"max_latency_increase": 1.25})).await;
    c.w.traffic_p99("api-dev", 1, 0.0, 500.0, 400.0);
    c.w.traffic_p99("api-dev", 2, 0.0, 50.0, 450.0);
    let r = c.fire().await;
    assert_eq!(verdict(&r), Verdict::Pass, "1.125 times: {r:#?}");
    c.w.traffic_p99("api-dev", 2, 0.0, 50.0, 800.0);
    let r = c.fire().await;
    assert_eq!(
        reason(&r),
        "p99 latency 800 ms is 2.00 times the stable version's 400 ms (max_latency_increase 1.25): rolled back to version 1"
    );
    assert_eq!(
        c.w.metrics_asked()[0],
        ["Errors:2", "Invocations:2", "Duration:2", "Duration:1"]
    );
}

#[tokio::test]
async fn report_only_changes_nothing_but_the_report() {
    let c = Canary::start(json!({"max_error_rate": 0.05, "report_only": true})).await;
    c.w.traffic("api-dev", 2, 10.0, 50.0);
    let mut seen = Vec::new();
    let mut step2_traffic = false;
    for _ in 0..20 {
        let r = c.fire().await;
        if r.outcome == Outcome::Deployed {
            break;
        }
        assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
        let check = info(&r).check.clone().unwrap();
        assert_eq!(check.verdict, Verdict::Fail);
        assert_eq!(
            check.would_roll_back,
            ["would roll back: error rate 0.20 > 0.05 over 50 invocations"]
        );
        seen.push(info(&r).weight);
        // Step 2's window starts at its own start: the failing minute is step 1's.
        if info(&r).weight == 0.5 && !step2_traffic {
            c.w.traffic("api-dev", 2, 10.0, 50.0);
            step2_traffic = true;
        }
    }
    // On schedule, as if every gate had passed: 4 checks hold 10 %, the fifth moves to 50 %...
    assert_eq!(seen.iter().filter(|w| **w == 0.1).count(), 4, "{seen:?}");
    assert_eq!(c.alias(), ("2".into(), vec![]));
    // ... and each step's first would-be rollback is told once.
    assert_eq!(
        c.subjects(),
        [
            "WOULD ROLL BACK api-dev at 10%: error rate 0.20 > 0.05 over 50 invocations",
            "ROLLING OUT api-dev v2 (50%)",
            "WOULD ROLL BACK api-dev at 50%: error rate 0.20 > 0.05 over 50 invocations",
            "DEPLOYED api-dev v2"
        ]
    );
}

#[tokio::test]
async fn a_gate_that_cannot_be_read_fails_the_check_and_is_never_inconclusive() {
    let c = Canary::start(json!({"max_error_rate_increase": 0.05})).await;
    c.w.fault("GetMetricData", 1, Fault::ServiceError);
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(verdict(&r), Verdict::Fail);
    assert!(
        reason(&r).starts_with("the error rate could not be read"),
        "{r:#?}"
    );
    assert_eq!(c.alias(), ("1".into(), vec![]));

    // Report-only reports it and goes on.
    let c = Canary::start(json!({"max_error_rate_increase": 0.05, "report_only": true})).await;
    c.w.fault("GetMetricData", 1, Fault::ServiceError);
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert!(
        reason(&r).contains("would roll back: the error rate could not be read"),
        "{r:#?}"
    );
    assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
}

#[tokio::test]
async fn no_synthetic_invocation_starts_past_the_invocations_deadline_reserve() {
    let c =
        Canary::start(json!({"max_error_rate": 0.05, "synthetic": {"max_per_check": 10}})).await;
    let s = c.w.only_schedule();
    c.w.advance_to(s.at());
    c.w.lock().schedules.remove(&s.name);
    // 30 s left: all of it is the reserve for writing the report and notifying.
    let inv = self_deployer::engine::Invocation {
        deadline: Some(
            aws_smithy_async::time::TimeSource::now(&c.w.time) + std::time::Duration::from_secs(30),
        ),
        ..Default::default()
    };
    let request = c.e.parse(&s.payload()).unwrap();
    let r = c.e.run(request, inv).await.report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert_eq!(verdict(&r), Verdict::Inconclusive);
    let e = info(&r).check.as_ref().unwrap().evidence.clone().unwrap();
    assert_eq!((e.synthetic, e.synthetic_not_made), (0, 10), "{e:?}");
    assert!(c.synthetic_invokes().is_empty(), "none was started");
}
