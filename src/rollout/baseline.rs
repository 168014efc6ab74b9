//! The metric gates' judgement, pure (issue 26): the new version's error rate against a fixed
//! threshold and against the stable version's (the baseline: under a weighted alias both serve the
//! same traffic at the same time), its p99 latency against a fixed bound and against the stable
//! version's. Whether there is enough evidence to judge at all is decided here too.

use crate::config::Rollout;
use crate::report::{ErrorRate, Evidence, Latency, Verdict};

/// What CloudWatch said for the step's window, plus the step's synthetic invocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    pub errors: f64,
    pub invocations: f64,
    /// The stable version's (errors, invocations), when the baseline gate is set.
    pub stable: Option<(f64, f64)>,
    pub p99_ms: Option<f64>,
    pub stable_p99_ms: Option<f64>,
    pub synthetic: u64,
    pub synthetic_failed: u64,
    pub synthetic_not_made: u64,
}

/// The metric gates' verdict and what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// Every gate that failed, in order (the first is why a rollout rolls back).
    pub failures: Vec<String>,
    /// Why the verdict is inconclusive, when it is.
    pub short: Option<String>,
    pub error_rate: ErrorRate,
    pub stable_error_rate: Option<ErrorRate>,
    pub evidence: Evidence,
    pub latency: Option<Latency>,
}

fn rate(errors: f64, invocations: f64) -> f64 {
    if invocations > 0.0 {
        errors / invocations
    } else {
        0.0
    }
}

/// Judges `r` by `cfg`'s metric gates. Synthetic invocations are evidence like real ones for the
/// error-rate gates; Lambda records them under the version, not the alias, so the latency gates
/// see real traffic only and stay inconclusive until the version has a p99 of its own.
pub fn judge(cfg: &Rollout, r: &Readings) -> Judgement {
    let invocations = r.invocations + r.synthetic as f64;
    let errors = r.errors + r.synthetic_failed as f64;
    let enough = invocations >= cfg.min_invocations as f64;
    let evidence = Evidence {
        invocations,
        errors,
        min_invocations: cfg.min_invocations,
        synthetic: r.synthetic,
        synthetic_failed: r.synthetic_failed,
        synthetic_not_made: r.synthetic_not_made,
    };
    let error_rate = ErrorRate {
        errors,
        invocations,
        judged: enough,
    };
    let stable_error_rate = r.stable.map(|(e, i)| ErrorRate {
        errors: e,
        invocations: i,
        judged: enough,
    });
    let latency =
        (cfg.max_p99_ms.is_some() || cfg.max_latency_increase.is_some()).then_some(Latency {
            p99_ms: r.p99_ms,
            stable_p99_ms: r.stable_p99_ms,
        });
    let mut j = Judgement {
        verdict: Verdict::Inconclusive,
        failures: Vec::new(),
        short: None,
        error_rate,
        stable_error_rate,
        evidence,
        latency,
    };
    if !enough {
        j.short = Some(format!(
            "{invocations} of {} invocations",
            cfg.min_invocations
        ));
        return j;
    }
    let new_rate = rate(errors, invocations);
    if let Some(max) = cfg.max_error_rate
        && new_rate > max
    {
        j.failures.push(format!(
            "error rate {new_rate:.2} > {max:.2} over {invocations} invocations"
        ));
    }
    if let (Some(max), Some((se, si))) = (cfg.max_error_rate_increase, r.stable) {
        let stable_rate = rate(se, si);
        // A small epsilon: 0.20 - 0.10 must not fail a 0.10 allowance through rounding.
        if new_rate - stable_rate > max + 1e-9 {
            j.failures.push(format!(
                "error rate {new_rate:.2} is {:.2} above the stable version's {stable_rate:.2} (max_error_rate_increase {max:.2})",
                new_rate - stable_rate
            ));
        }
    }
    let mut missing = Vec::new();
    if let Some(max) = cfg.max_p99_ms {
        match r.p99_ms {
            Some(p) if p > max => j
                .failures
                .push(format!("p99 latency {p:.0} ms > {max:.0} ms")),
            Some(_) => {}
            None => missing.push("no p99 latency of the new version yet"),
        }
    }
    if let Some(max) = cfg.max_latency_increase {
        match (r.p99_ms, r.stable_p99_ms) {
            (Some(p), Some(s)) if s > 0.0 && p / s > max => j.failures.push(format!(
                "p99 latency {p:.0} ms is {:.2} times the stable version's {s:.0} ms (max_latency_increase {max:.2})",
                p / s
            )),
            (Some(_), Some(_)) => {}
            (None, _) => missing.push("no p99 latency of the new version yet"),
            (_, None) => missing.push("no p99 latency of the stable version to compare with"),
        }
    }
    missing.dedup();
    j.verdict = if !j.failures.is_empty() {
        Verdict::Fail
    } else if !missing.is_empty() {
        j.short = Some(missing.join("; "));
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: serde_json::Value) -> Rollout {
        serde_json::from_value(json).unwrap()
    }

    fn reading(errors: f64, invocations: f64) -> Readings {
        Readings {
            errors,
            invocations,
            ..Default::default()
        }
    }

    #[test]
    fn too_little_evidence_is_inconclusive_and_synthetic_invocations_count() {
        let c = cfg(serde_json::json!({"max_error_rate": 0.05, "min_invocations": 20}));
        let j = judge(&c, &reading(1.0, 3.0));
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert_eq!(j.short.as_deref(), Some("3 of 20 invocations"));
        assert!(!j.error_rate.judged);
        let mut r = reading(0.0, 3.0);
        (r.synthetic, r.synthetic_failed) = (17, 0);
        assert_eq!(judge(&c, &r).verdict, Verdict::Pass);
        // A failing synthetic invocation is an error like any other.
        r.synthetic_failed = 2;
        let j = judge(&c, &r);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.failures, ["error rate 0.10 > 0.05 over 20 invocations"]);
    }

    #[test]
    fn the_baseline_passes_a_canary_as_bad_as_stable_and_fails_a_worse_one() {
        let c = cfg(serde_json::json!({"max_error_rate_increase": 0.05, "min_invocations": 10}));
        let mut r = reading(20.0, 100.0);
        r.stable = Some((200.0, 1000.0));
        assert_eq!(judge(&c, &r).verdict, Verdict::Pass, "20 % against 20 %");
        r = reading(30.0, 100.0);
        r.stable = Some((20.0, 1000.0));
        let j = judge(&c, &r);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.failures,
            [
                "error rate 0.30 is 0.28 above the stable version's 0.02 (max_error_rate_increase 0.05)"
            ]
        );
        // Exactly the allowance passes.
        r = reading(15.0, 100.0);
        r.stable = Some((10.0, 100.0));
        assert_eq!(judge(&c, &r).verdict, Verdict::Pass);
    }

    #[test]
    fn latency_gates_fail_a_slow_canary_and_wait_for_a_p99() {
        let c = cfg(serde_json::json!({"max_p99_ms": 500, "max_latency_increase": 1.25}));
        let mut r = reading(0.0, 50.0);
        r.p99_ms = Some(450.0);
        r.stable_p99_ms = Some(400.0);
        assert_eq!(judge(&c, &r).verdict, Verdict::Pass);
        r.p99_ms = Some(900.0);
        let j = judge(&c, &r);
        assert_eq!(
            j.failures,
            [
                "p99 latency 900 ms > 500 ms",
                "p99 latency 900 ms is 2.25 times the stable version's 400 ms (max_latency_increase 1.25)"
            ]
        );
        r.p99_ms = None;
        let j = judge(&c, &r);
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert_eq!(
            j.short.as_deref(),
            Some("no p99 latency of the new version yet")
        );
        r.p99_ms = Some(100.0);
        r.stable_p99_ms = None;
        assert_eq!(judge(&c, &r).verdict, Verdict::Inconclusive);
    }
}
