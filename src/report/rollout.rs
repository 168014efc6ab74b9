//! Where a rollout stands, in the report.

use crate::types::Version;
use serde::Serialize;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutInfo {
    pub stable_version: Version,
    pub new_version: Version,
    /// The step whose weight is set now (1-based); 0 once the rollout has ended.
    pub step: usize,
    pub steps: Vec<u8>,
    /// The share of traffic on the new version now (0-1).
    pub weight: f64,
    /// This run changed the weight (a check that only confirmed it did not).
    pub weight_changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// What the gates saw at this check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<ErrorRate>,
    /// The verdict and the readings behind it (issue 26); `None` when this run was no check.
    #[serde(flatten)]
    pub check: Option<CheckReading>,
}

/// The built-in gate's reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRate {
    pub errors: f64,
    pub invocations: f64,
    /// Enough invocations to judge (`min_invocations`).
    pub judged: bool,
}

/// A check's verdict (issue 26): a step ends only on `pass`; `inconclusive` (too little evidence)
/// holds it; `fail` rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Inconclusive => "inconclusive",
        }
    }
}

/// What a check read and decided, beside the error rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReading {
    pub verdict: Verdict,
    /// The counts behind the verdict; `None` when the check reads alarms only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The baseline gate's reading: the stable version under the same alias, same window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_error_rate: Option<ErrorRate>,
    /// p99 `Duration` (ms) of the new and the stable version, when a latency gate is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// `report_only`: what would have rolled back, had the gates acted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_roll_back: Vec<String>,
    /// What this check is worth telling although the weight stays; `None`: nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// One line for the reason while the weight stays (`inconclusive: 3 of 20 invocations`);
    /// the reason says it, so the JSON does not repeat it.
    #[serde(skip)]
    pub note: Option<String>,
}

/// The invocations of the new version in the step so far, real and synthetic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Real and synthetic together.
    pub invocations: f64,
    pub errors: f64,
    pub min_invocations: u64,
    /// Made by the deployer in this step (this check's included), and how many of them failed.
    pub synthetic: u64,
    pub synthetic_failed: u64,
    /// Synthetic invocations this check could not make (an API error, the deadline): not evidence.
    #[serde(skip_serializing_if = "is_zero")]
    pub synthetic_not_made: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub p99_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_p99_ms: Option<f64>,
}

/// Why a check that keeps the weight is still news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The step is held past its interval for want of evidence (told once per step).
    Inconclusive,
    /// `report_only`: a gate would have rolled back (told once per step).
    WouldRollBack,
}

impl RolloutInfo {
    /// A check that kept the weight and has nothing to tell: neither notified nor counted.
    pub fn is_quiet(&self) -> bool {
        !self.weight_changed && self.check.as_ref().is_none_or(|c| c.notice.is_none())
    }

    /// A held or report-only check's subject, as (the word it starts with, the detail):
    /// `INCONCLUSIVE`, `3 of 20 invocations`; `WOULD ROLL BACK`, the first gate that would have.
    pub fn notice_line(&self) -> Option<(&'static str, String)> {
        let c = self.check.as_ref()?;
        match (c.notice?, &c.evidence) {
            (Notice::Inconclusive, Some(e)) => Some((
                "INCONCLUSIVE",
                format!("{} of {} invocations", e.invocations, e.min_invocations),
            )),
            (Notice::Inconclusive, None) => Some(("INCONCLUSIVE", "too little evidence".into())),
            (Notice::WouldRollBack, _) => Some((
                "WOULD ROLL BACK",
                c.would_roll_back
                    .first()
                    .map(|w| w.trim_start_matches("would roll back: ").to_owned())
                    .unwrap_or_default(),
            )),
        }
    }
}
