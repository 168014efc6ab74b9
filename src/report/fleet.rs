//! A fleet's summary in the report: the counts behind its one message.

use serde::Serialize;

/// What a fleet's summary counted; the report's `reason` names the failed and unfinished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetSummary {
    /// The message's subject: the counts, without names.
    pub subject: String,
    pub functions: usize,
    pub done: usize,
    pub failed: usize,
    pub unfinished: usize,
}
