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
}

/// The built-in gate's reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRate {
    pub errors: f64,
    pub invocations: f64,
    /// Enough invocations to judge (`min_invocations`).
    pub judged: bool,
}
