//! What arrives in an invocation, parsed and validated before anything touches AWS. Every problem
//! names its field (`payload.detail.image-digest`) and says what is wrong.

mod alarm;
mod event;
mod fleet;
mod manual;
#[cfg(test)]
mod manual_tests;
pub mod members;
mod outgoing;
mod stage;
#[cfg(test)]
mod tests;

pub use alarm::AlarmStateChange;
pub use event::{EcrImageAction, EcrImageScan, ImageAction, ImageResult, MAX_CLOCK_SKEW};
pub use fleet::{
    BatchRequest, BatchWork, FleetKind, FleetReportRequest, FleetRequest, FleetRollbackRequest,
    FleetStatusRequest, check_key,
};
pub use manual::{
    AdvanceRequest, DeployRequest, DeploySource, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT,
    HistoryRequest, PromoteRequest, ReconcileRequest, RollbackRequest, StatusRequest, StepTally,
    check_dora_days, check_history_limit,
};
pub use outgoing::Payload;
pub use stage::PromoteStageRequest;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A payload that cannot be acted on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InputError {
    pub field: String,
    pub problem: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: crate::text::bounded(problem.into(), 300),
        }
    }
}

/// Everything the deployer can be asked to do. The Lambda payload parser and the CLI's flags both
/// build one of these; the engine takes nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// An "ECR Image Action" event from EventBridge.
    Image(EcrImageAction),
    /// A "CloudWatch Alarm State Change" event from EventBridge.
    Alarm(AlarmStateChange),
    /// An "ECR Image Scan" event: accepted, never deploys.
    ImageScan(EcrImageScan),
    Rollback(RollbackRequest),
    Deploy(DeployRequest),
    Status(StatusRequest),
    /// A scheduled rollout check.
    Advance(AdvanceRequest),
    Promote(PromoteRequest),
    History(HistoryRequest),
    /// A sweep for missed pushes and drift.
    Reconcile(ReconcileRequest),
    /// A promotion from one stage to the next (a scheduled check, or by hand).
    PromoteStage(PromoteStageRequest),
    /// A fleet rollback, or one run's batch of a fan-out.
    Fleet(FleetRequest),
}

impl Request {
    /// Whether this request may deploy an image (the CLI then needs to know its own account).
    pub fn may_deploy(&self) -> bool {
        matches!(
            self,
            Request::Image(_)
                | Request::Deploy(_)
                | Request::Reconcile(_)
                | Request::PromoteStage(_)
                | Request::Fleet(_)
        )
    }
}

/// Parses a payload. `now` is this deployer's clock: events from the future are refused.
pub fn parse_request(payload: &Value, now: DateTime<Utc>) -> Result<Request, InputError> {
    let Some(obj) = payload.as_object() else {
        return Err(InputError::new(
            "payload",
            format!(
                "must be a JSON object (an ECR Image Action event), got {}",
                json_kind(payload)
            ),
        ));
    };
    if obj.get("source").and_then(Value::as_str) == Some(alarm::SOURCE) {
        return alarm::parse(payload).map(Request::Alarm);
    }
    if obj.contains_key("source") || obj.contains_key("detail-type") || obj.contains_key("detail") {
        if obj.get("detail-type").and_then(Value::as_str) == Some(event::ECR_SCAN_DETAIL_TYPE) {
            return event::parse_scan(payload, now).map(Request::ImageScan);
        }
        return event::parse(payload, now).map(Request::Image);
    }
    if obj.contains_key("action") {
        return manual::parse(payload, now);
    }
    Err(InputError::new(
        "payload",
        "is neither an ECR Image Action event (\"source\", \"detail-type\", \"detail\") nor a manual action (\"action\")",
    ))
}

/// Deserializes a payload, naming the exact field of any problem (`payload.detail.image-tag`).
pub(crate) fn deserialize<T: serde::de::DeserializeOwned>(
    payload: &Value,
) -> Result<T, InputError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "payload".to_owned()
        } else {
            format!("payload.{path}")
        };
        InputError::new(field, e.into_inner().to_string())
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
