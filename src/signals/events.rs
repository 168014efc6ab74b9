//! Deployment events: after each function's run, one `Deployment State Change` event from source
//! `self-deployer` on the configured bus, for runs that changed or tried to change something. The
//! `detail` is versioned (`"schema": 1`) and documented in docs/reference.md; fields are only ever
//! added within a schema version.

use crate::gateway::events::{Entry, EventBus};
use crate::report::{Deployment, Outcome, Report, step_name};
use crate::types::Version;
use serde::Serialize;

pub const SOURCE: &str = "self-deployer";
pub const DETAIL_TYPE: &str = "Deployment State Change";
pub const SCHEMA: u32 = 1;
/// Reasons come from AWS and from people; an event stays far below EventBridge's 256 KB.
const MAX_REASON: usize = 2000;

/// Whether a function's outcome is worth an event: everything that changed or tried to change
/// something. Not a skip, a duplicate (`already_live`) or a dry run. Outcomes added later are sent.
/// Not a dispatch either: the function's own run sends its event when it has done something.
pub fn is_newsworthy(outcome: Outcome) -> bool {
    !matches!(
        outcome,
        Outcome::Skipped
            | Outcome::AlreadyLive
            | Outcome::WouldDeploy
            | Outcome::WouldRollBack
            | Outcome::Dispatched
            | Outcome::WouldDispatch
            | Outcome::InSync
            | Outcome::Rejected
            | Outcome::Deferred
    )
}

/// The event's `detail`, schema 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub schema: u32,
    /// The function's name (`function_arn` too when it was configured by ARN).
    pub function: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    pub alias: String,
    /// `deploy` or `rollback`.
    pub action: &'static str,
    pub outcome: &'static str,
    /// Where the alias points at the end of the run.
    pub version: Option<Version>,
    /// Where it pointed when the run started.
    pub previous_version: Option<Version>,
    pub image: Image,
    pub failed_step: Option<String>,
    pub reason: Option<String>,
    /// The reason a person gave with a manual deploy or rollback.
    pub request_reason: Option<String>,
    /// A progressive rollout's position, when the run is one; `null` otherwise.
    pub rollout: Option<serde_json::Value>,
    /// Sum of the run's step timings for this function.
    pub duration_ms: u64,
    /// The run that did it: also in its report, its log, its metrics and the alias's description.
    pub run_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Image {
    pub repository: Option<String>,
    pub uri: Option<String>,
    pub digest: Option<String>,
    pub tag: Option<String>,
}

pub fn detail(report: &Report, d: &Deployment, run_id: &str) -> Detail {
    Detail {
        schema: SCHEMA,
        function: d.function.name().to_owned(),
        function_arn: d.function.is_arn().then(|| d.function.as_str().to_owned()),
        alias: d.alias.to_string(),
        action: report.action.as_str(),
        outcome: d.outcome.as_str(),
        version: d.version,
        previous_version: d.previous_version,
        image: Image {
            repository: report.repository.clone(),
            uri: report.image_uri.clone(),
            digest: report.image_digest.clone(),
            tag: report.image_tag.clone(),
        },
        failed_step: d.failed_step.map(step_name),
        reason: d
            .reason
            .as_deref()
            .map(|r| crate::text::truncate(r, MAX_REASON)),
        request_reason: report
            .request_reason
            .as_ref()
            .map(|r| crate::text::truncate(&r.to_string(), MAX_REASON)),
        rollout: d
            .rollout
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok()),
        duration_ms: d.steps.iter().map(|s| s.ms).sum(),
        run_id: run_id.to_owned(),
    }
}

/// Puts one event per newsworthy deployment on the bus. An event EventBridge did not take is a
/// warning on its deployment, never a changed outcome.
pub async fn publish(bus: &EventBus, report: &mut Report, run_id: &str) {
    let mut sent: Vec<usize> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for (i, d) in report.deployments.iter().enumerate() {
        if !is_newsworthy(d.outcome) || report.dry_run || crate::signals::quiet_check(d) {
            continue;
        }
        match serde_json::to_string(&detail(report, d, run_id)) {
            Ok(detail) => {
                sent.push(i);
                entries.push(Entry {
                    source: SOURCE,
                    detail_type: DETAIL_TYPE,
                    detail,
                });
            }
            Err(e) => tracing::error!(error = %e, "deployment event not rendered"),
        }
    }
    if entries.is_empty() {
        return;
    }
    let results = bus.put(&entries).await;
    for (i, result) in sent.into_iter().zip(results) {
        if let Err(why) = result {
            let d = &mut report.deployments[i];
            tracing::warn!(function = %d.function, bus = bus.name(), error = %why, "deployment event not sent");
            d.warnings.push(format!(
                "deployment event not sent to event bus {}: {why}",
                bus.name()
            ));
        }
    }
}
