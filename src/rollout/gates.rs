//! The gates of a rollout check: alarms, then the new version's error rate. Evidence that cannot
//! be read fails the gate: a rollout never proceeds on missing evidence.

use super::Rollouts;
use crate::config::Rollout;
use crate::gateway::cloudwatch::is_alarm;
use crate::report::ErrorRate;
use chrono::{DateTime, DurationRound, Utc};

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Why the rollout must be rolled back; `None`: every gate passed.
    pub failed: Option<String>,
    pub error_rate: Option<ErrorRate>,
}

/// Reads the gates for `version` of `function` behind `alias`, counting from `started`.
pub async fn check(
    rollouts: &Rollouts,
    cfg: &Rollout,
    function: &str,
    alias: &str,
    version: &str,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Verdict {
    let fail = |why: String| Verdict {
        failed: Some(why),
        error_rate: None,
    };
    let Some(cw) = rollouts.cloudwatch.as_ref() else {
        return fail("no CloudWatch client is configured, so the gates cannot be read".into());
    };
    if !cfg.alarms.is_empty() {
        match cw.alarm_states(&cfg.alarms).await {
            Err(e) => return fail(format!("the alarms could not be read ({e})")),
            Ok(states) => {
                for (name, state) in states {
                    match state.as_deref() {
                        None => {
                            return fail(format!(
                                "alarm {name} does not exist, so it cannot vouch for the new version"
                            ));
                        }
                        Some(s) if is_alarm(s) => return fail(format!("alarm {name} is in ALARM")),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    let Some(max) = cfg.max_error_rate else {
        return Verdict {
            failed: None,
            error_rate: None,
        };
    };
    // Metrics come in one-minute periods: count from the start of the step's first minute.
    let from = started
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap_or(started);
    let (errors, invocations) = match cw.version_errors(function, alias, version, from, now).await {
        Ok(v) => v,
        Err(e) => return fail(format!("the error rate could not be read ({e})")),
    };
    let judged = invocations >= cfg.min_invocations as f64;
    let reading = ErrorRate {
        errors,
        invocations,
        judged,
    };
    let rate = if invocations > 0.0 {
        errors / invocations
    } else {
        0.0
    };
    let failed = (judged && rate > max)
        .then(|| format!("error rate {rate:.2} > {max:.2} over {invocations} invocations"));
    Verdict {
        failed,
        error_rate: Some(reading),
    }
}
