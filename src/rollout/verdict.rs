//! What a check does with its gates' verdict (issue 26). `pass`: the step goes on on schedule.
//! `fail`: roll back. `inconclusive`: the step holds its weight and keeps checking; it never ends
//! on one, and once `max_wait_secs` past its interval have gone by, `on_inconclusive` ends it.
//! `report_only`: every gate is read and reported, and the rollout goes on on schedule whatever
//! they say.

use super::gates;
use crate::config::{OnInconclusive, Rollout, Target};
use crate::input::{AdvanceRequest, StepTally};
use crate::ops::Ctx;
use crate::report::{CheckReading, ErrorRate, Notice, Verdict};
use chrono::{DateTime, Utc};

/// What the check must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    /// As before verdicts: the weight holds until the step has lasted its interval, then moves.
    OnSchedule,
    /// Too little evidence: the same weight, checked again, even past the interval.
    Hold,
    /// All traffic back on the stable version, for this reason.
    RollBack(String),
}

/// A check's verdict and everything the report and the next check need from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub act: Act,
    pub reading: CheckReading,
    pub error_rate: Option<ErrorRate>,
    /// For the next check of the same step.
    pub tally: StepTally,
}

/// Reads the gates and decides.
pub async fn judge(
    ctx: &Ctx,
    target: &Target,
    function: &str,
    a: &AdvanceRequest,
    now: DateTime<Utc>,
) -> Judged {
    let g = gates::check(ctx, target, function, a, now).await;
    decide(&target.rollout, a, now, g)
}

/// The decision, pure: from the gates' findings, the step's age and what it already told.
pub fn decide(cfg: &Rollout, a: &AdvanceRequest, now: DateTime<Utc>, g: gates::Gates) -> Judged {
    let mut tally = a.tally.clone();
    tally.synthetic += g.made.invoked;
    tally.synthetic_failed += g.made.failed;
    let age = (now - a.started).num_seconds().max(0) as u64;
    let lasted = age >= cfg.interval_secs;
    let gave_up = age >= cfg.interval_secs + cfg.max_wait_secs;
    let short = g
        .short
        .clone()
        .unwrap_or_else(|| "too little evidence".into());
    let mut notice = None;
    let mut note = None;
    let act = if cfg.report_only {
        // Never acts; tells the first would-be rollback of the step.
        if !g.failures.is_empty() {
            note = Some(format!("would roll back: {}", g.failures.join("; ")));
            if !tally.told_would_roll_back {
                tally.told_would_roll_back = true;
                notice = Some(Notice::WouldRollBack);
            }
        } else if g.verdict == Verdict::Inconclusive {
            note = Some(format!("inconclusive ({short}), report only"));
        }
        Act::OnSchedule
    } else {
        match g.verdict {
            Verdict::Fail => Act::RollBack(g.failures.first().cloned().unwrap_or_default()),
            Verdict::Pass => {
                // Say what the pass rests on when the deployer made part of it.
                if let Some(e) = g.evidence.as_ref().filter(|e| e.synthetic > 0) {
                    note = Some(format!(
                        "the gates passed on {} invocations, {} of them synthetic ({} failed)",
                        e.invocations, e.synthetic, e.synthetic_failed
                    ));
                }
                Act::OnSchedule
            }
            Verdict::Inconclusive if gave_up => match cfg.on_inconclusive {
                OnInconclusive::Rollback => Act::RollBack(format!(
                    "inconclusive {} s past the step's interval ({short}): on_inconclusive is rollback",
                    cfg.max_wait_secs
                )),
                OnInconclusive::Proceed => {
                    note = Some(format!(
                        "inconclusive {} s past the step's interval ({short}): on_inconclusive is proceed",
                        cfg.max_wait_secs
                    ));
                    Act::OnSchedule
                }
            },
            Verdict::Inconclusive => {
                note = Some(format!("inconclusive: {short}"));
                // Before its interval a step would not have moved anyway: only a hold is news,
                // told once per step.
                if lasted && !tally.told_inconclusive {
                    tally.told_inconclusive = true;
                    notice = Some(Notice::Inconclusive);
                }
                Act::Hold
            }
        }
    };
    let reading = CheckReading {
        verdict: g.verdict,
        evidence: g.evidence,
        stable_error_rate: g.stable_error_rate,
        latency: g.latency,
        would_roll_back: if cfg.report_only {
            g.failures
                .iter()
                .map(|f| format!("would roll back: {f}"))
                .collect()
        } else {
            Vec::new()
        },
        notice,
        note,
    };
    Judged {
        act,
        reading,
        error_rate: g.error_rate,
        tally,
    }
}
