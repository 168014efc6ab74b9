//! The gates of a rollout check: alarms, then the version metrics its gates need (one
//! GetMetricData call), synthetic traffic when real traffic is too thin, then the judgement
//! ([`super::baseline`]). Evidence that cannot be read fails the check: unreadable is never
//! inconclusive, and a rollout never proceeds on missing evidence.

use super::baseline::{self, Readings};
use super::synthetic;
use crate::config::Target;
use crate::gateway::cloudwatch::{Ask, MetricKind, is_alarm};
use crate::input::AdvanceRequest;
use crate::ops::Ctx;
use crate::report::{ErrorRate, Evidence, Latency, Verdict};
use chrono::{DateTime, DurationRound, Utc};

/// What a check's gates found.
#[derive(Debug, Clone, PartialEq)]
pub struct Gates {
    pub verdict: Verdict,
    /// Every gate that failed (unreadable included), in order. Unless `report_only`, reading stops
    /// at the first.
    pub failures: Vec<String>,
    /// Why the verdict is inconclusive, when it is.
    pub short: Option<String>,
    pub error_rate: Option<ErrorRate>,
    pub stable_error_rate: Option<ErrorRate>,
    pub evidence: Option<Evidence>,
    pub latency: Option<Latency>,
    /// This check's synthetic invocations.
    pub made: synthetic::Made,
}

impl Gates {
    /// A verdict on alarms alone (or on nothing read): no metric reading, no synthetic traffic.
    fn without_metrics(failures: Vec<String>) -> Self {
        Self {
            verdict: if failures.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            failures,
            short: None,
            error_rate: None,
            stable_error_rate: None,
            evidence: None,
            latency: None,
            made: synthetic::Made::default(),
        }
    }
}

/// Reads the gates for the check `a` of `target`'s function, named `function` in its metrics.
pub async fn check(
    ctx: &Ctx,
    target: &Target,
    function: &str,
    a: &AdvanceRequest,
    now: DateTime<Utc>,
) -> Gates {
    let cfg = &target.rollout;
    let Some(cw) = ctx.rollouts.cloudwatch.as_ref() else {
        return Gates::without_metrics(vec![
            "no CloudWatch client is configured, so the gates cannot be read".into(),
        ]);
    };
    let mut failures = alarm_failures(cw, &cfg.alarms).await;
    // A failed alarm ends the check, unless every gate is to be read and reported.
    if !failures.is_empty() && !cfg.report_only {
        failures.truncate(1);
        return Gates::without_metrics(failures);
    }
    if !cfg.reads_metrics() {
        return Gates::without_metrics(failures);
    }
    let new = a.version.to_string();
    let stable = a.stable_version.to_string();
    let asks = asks_for(cfg, &new, &stable);
    // Metrics come in one-minute periods: count from the start of the step's first minute.
    let from = a
        .started
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap_or(a.started);
    let values = match cw
        .version_metrics(function, a.alias.as_str(), &asks, from, now)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("the error rate could not be read ({e})"));
            return Gates::without_metrics(failures);
        }
    };
    let value = |version: &str, metric| {
        asks.iter()
            .position(|x| x.version == version && x.metric == metric)
            .and_then(|i| values.get(i).copied().flatten())
    };
    let mut r = Readings {
        errors: value(&new, MetricKind::Errors).unwrap_or_default(),
        invocations: value(&new, MetricKind::Invocations).unwrap_or_default(),
        stable: cfg.max_error_rate_increase.map(|_| {
            (
                value(&stable, MetricKind::Errors).unwrap_or_default(),
                value(&stable, MetricKind::Invocations).unwrap_or_default(),
            )
        }),
        p99_ms: value(&new, MetricKind::P99Duration),
        stable_p99_ms: value(&stable, MetricKind::P99Duration),
        synthetic: a.tally.synthetic,
        synthetic_failed: a.tally.synthetic_failed,
        synthetic_not_made: 0,
    };
    // Too thin to judge: make the missing evidence, up to the configured bound.
    let mut made = synthetic::Made::default();
    let have = r.invocations + r.synthetic as f64;
    if let Some(s) = &cfg.synthetic
        && have < cfg.min_invocations as f64
    {
        let short = (cfg.min_invocations as f64 - have).ceil() as u64;
        let n = short.min(u64::from(s.max_per_check));
        // Invoke names the function as configured (an ARN for another account's function).
        made = synthetic::invoke(ctx, target, a.function.as_str(), a.version, n).await;
        r.synthetic += made.invoked;
        r.synthetic_failed += made.failed;
        r.synthetic_not_made = made.not_made;
    }
    let j = baseline::judge(cfg, &r);
    failures.extend(j.failures);
    let verdict = if failures.is_empty() {
        j.verdict
    } else {
        Verdict::Fail
    };
    if !cfg.report_only {
        failures.truncate(1);
    }
    Gates {
        verdict,
        failures,
        short: j.short,
        error_rate: Some(j.error_rate),
        stable_error_rate: j.stable_error_rate,
        evidence: Some(j.evidence),
        latency: j.latency,
        made,
    }
}

/// Why the alarms stop the rollout: one that is in ALARM, one that does not exist, or all of them
/// unreadable. Empty when they are quiet.
async fn alarm_failures(
    cw: &crate::gateway::cloudwatch::CloudWatch,
    alarms: &[String],
) -> Vec<String> {
    let mut failures = Vec::new();
    if !alarms.is_empty() {
        match cw.alarm_states(alarms).await {
            Err(e) => failures.push(format!("the alarms could not be read ({e})")),
            Ok(states) => {
                for (name, state) in states {
                    match state.as_deref() {
                        None => failures.push(format!(
                            "alarm {name} does not exist, so it cannot vouch for the new version"
                        )),
                        Some(s) if is_alarm(s) => {
                            failures.push(format!("alarm {name} is in ALARM"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    failures
}

/// The metrics the configured gates need, and no more (each is paid for).
fn asks_for(cfg: &crate::config::Rollout, new: &str, stable: &str) -> Vec<Ask> {
    let ask = |version: &str, metric| Ask {
        version: version.to_owned(),
        metric,
    };
    let mut asks = vec![
        ask(new, MetricKind::Errors),
        ask(new, MetricKind::Invocations),
    ];
    if cfg.max_error_rate_increase.is_some() {
        asks.push(ask(stable, MetricKind::Errors));
        asks.push(ask(stable, MetricKind::Invocations));
    }
    if cfg.max_p99_ms.is_some() || cfg.max_latency_increase.is_some() {
        asks.push(ask(new, MetricKind::P99Duration));
    }
    if cfg.max_latency_increase.is_some() {
        asks.push(ask(stable, MetricKind::P99Duration));
    }
    asks
}
