//! The report's `provisioned` object: an alias's provisioned concurrency after a move.

use serde::Serialize;

/// What a deployment saw after it moved the alias.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AfterMove {
    /// Lambda had not finished moving traffic to the new version when the run ended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub traffic_moving: bool,
    /// The alias's provisioned concurrency, when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<Provisioned>,
}

/// What `GetProvisionedConcurrencyConfig` says of the alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provisioned {
    pub requested: u32,
    pub allocated: u32,
    /// `READY`, `IN_PROGRESS`, `FAILED` (or a status Lambda adds later).
    pub status: String,
    /// Lambda's `StatusReason`, when it gives one (bounded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where provisioned concurrency stands, for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    Ready,
    InProgress,
    Failed,
}

impl Provisioned {
    pub fn allocation(&self) -> Allocation {
        match self.status.as_str() {
            "READY" => Allocation::Ready,
            "FAILED" => Allocation::Failed,
            // IN_PROGRESS, or a status this release does not know: keep waiting, bounded.
            _ => Allocation::InProgress,
        }
    }
}
