//! What a report says about stages: the promotion a run made (or why not), and the promotion
//! checks a deployment scheduled for the stages that follow it.

use crate::types::Version;
use serde::Serialize;

/// A promotion from one stage to the next: where the digest came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageInfo {
    /// The earlier stage's function.
    pub from: String,
    /// The later stage's functions.
    pub to: Vec<String>,
    /// The version of the earlier stage that runs the digest.
    pub from_version: Option<Version>,
    pub bake_secs: u64,
    /// How long the earlier stage had served it, when that could be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baked_secs: Option<u64>,
    pub manual: bool,
    /// Scheduled check (`true`) or a person's request.
    pub scheduled: bool,
    /// The command that promotes by hand (a manual stage's "ready to promote").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// A promotion check scheduled by this run, or why it could not be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromotionCheck {
    pub from: String,
    pub to: Vec<String>,
    pub digest: String,
    /// When the bake ends and the check runs.
    pub due: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    pub manual: bool,
    /// Why it was not scheduled (the deployment itself stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
