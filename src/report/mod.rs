//! The report: what every run ends in. It says exactly what changed, per function and per step.

use serde::Serialize;

mod at_start;
mod deployment;
mod end;
mod failure;
mod fleet;
mod image_checks;
mod index;
mod provisioned;
mod rollout;
mod stage;
mod summary;

pub use at_start::{AtStart, Told};
pub use deployment::Deployment;
pub use end::{End, Ended, Level};
pub use failure::FailureKind;
pub use fleet::FleetSummary;
pub use index::IndexChoice;
pub use provisioned::{AfterMove, Allocation, Provisioned};

pub use image_checks::{Finding, ImageChecksResult, ImageVerdict, SeverityCounts, SignatureCheck};
pub use rollout::{CheckReading, ErrorRate, Evidence, Latency, Notice, RolloutInfo, Verdict};
pub use stage::{PromotionCheck, StageInfo};
pub use summary::Batched;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Deployed,
    AlreadyLive,
    Skipped,
    Failed,
    RolledBack,
    /// A rollout is in progress: part of the traffic is on the new version, a check is scheduled.
    RollingOut,
    /// Dry run: this is what a real run would have done.
    WouldDeploy,
    WouldRollBack,
    /// Fan-out: this function's deployment was handed to its own invocation of the deployer,
    /// which reports (and notifies) on its own.
    Dispatched,
    /// Dry run of a fan-out: this function would have been dispatched.
    WouldDispatch,
    /// Reconcile: the alias runs the newest matching image (or something pushed later).
    InSync,
    /// Reconcile: the alias is not where this deployer last put it (moved by hand); left alone.
    Drift,
    /// Reconcile: the newest image failed or was rolled back on this function; never retried by a sweep.
    Rejected,
    /// Reconcile: not started, too little time was left in this invocation; the next sweep does it.
    Deferred,
    /// A stage with `after.manual`: the digest has baked and waits for a person to promote it.
    ReadyToPromote,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Deployed => "deployed",
            Outcome::AlreadyLive => "already_live",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::RollingOut => "rolling_out",
            Outcome::WouldDeploy => "would_deploy",
            Outcome::WouldRollBack => "would_roll_back",
            Outcome::Dispatched => "dispatched",
            Outcome::WouldDispatch => "would_dispatch",
            Outcome::InSync => "in_sync",
            Outcome::Drift => "drift",
            Outcome::Rejected => "rejected",
            Outcome::Deferred => "deferred",
            Outcome::ReadyToPromote => "ready_to_promote",
        }
    }

    /// Did this run change what callers get?
    pub fn changed_production(self) -> bool {
        matches!(
            self,
            Outcome::Deployed | Outcome::RolledBack | Outcome::RollingOut
        )
    }
}

/// The pipeline's steps, in the order they run. The names are the report's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Read the alias and what the version behind it runs.
    Resolve,
    /// What ECR says about the new image (scan findings, signature) lets it through.
    ImageChecks,
    /// Rollback: the version's image still exists in ECR.
    CheckImage,
    /// The alias followed `$LATEST`: freeze what it serves into a version first.
    PinAlias,
    /// Wait out an update someone else started.
    WaitReady,
    UpdateCode,
    WaitUpdated,
    SmokeTest,
    Publish,
    PromoteAlias,
    /// A progressive rollout: a weight set, a check scheduled, gates read, or traffic put back.
    Rollout,
    Prune,
    /// After the move: the alias's provisioned concurrency allocated to the new version.
    ProvisionedConcurrency,
    /// After a failure: put `$LATEST` back on the image production runs.
    RestoreLatest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepTiming {
    pub step: Step,
    pub ms: u64,
}

/// What the smoke test saw. Present whenever the smoke test ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmokeResult {
    pub passed: bool,
    /// The Invoke call itself failed (throttled beyond retries, access denied, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke_error: Option<String>,
    pub status_code: Option<i64>,
    pub function_error: Option<String>,
    /// The start of the response payload (bounded), on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_excerpt: Option<String>,
    /// The decoded end of the invocation's log (bounded), on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
}

/// Whether `$LATEST` was put back after a failed deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restore {
    pub restored: bool,
    /// The image `$LATEST` was put back on (or would have been).
    pub image_uri: Option<String>,
    pub detail: String,
}

/// The result of handing the report to the notifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationStatus {
    pub sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why nothing was sent when nothing failed (no topic configured, nothing worth telling).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the run was asked to do: one registry for payloads, the CLI, metrics and events.
pub use crate::types::ActionKind;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub action: ActionKind,
    pub dry_run: bool,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub repository: Option<String>,
    pub image_tag: Option<String>,
    pub image_digest: Option<String>,
    pub image_uri: Option<String>,
    pub event_time: Option<String>,
    /// The free-text reason a person gave with a manual rollback or deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_reason: Option<crate::types::Reason>,
    pub deployments: Vec<Deployment>,
    pub notification: Option<NotificationStatus>,
    /// What went wrong around the run without changing its outcome (a notification sink that could
    /// not deliver). Per-function problems are in each deployment's `warnings`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A promotion between stages: the stage the digest came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageInfo>,
    /// Promotion checks scheduled for the stages that follow a function this run deployed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promotion_checks: Vec<PromotionCheck>,
    /// Lambda answered 429 this many times during the run; each was waited out and retried while
    /// the invocation had time (a call still throttled then fails as `throttled`).
    #[serde(skip_serializing_if = "is_zero")]
    pub throttles: u32,
    /// A fleet's summary (one message for a push or rollback above DEPLOYER_INLINE_MAX).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetSummary>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Report {
    /// An empty report of `action`; its outcome follows from what is added.
    pub fn new(action: ActionKind) -> Self {
        Self {
            action,
            dry_run: false,
            outcome: Outcome::Skipped,
            reason: None,
            repository: None,
            image_tag: None,
            image_digest: None,
            image_uri: None,
            event_time: None,
            request_reason: None,
            deployments: Vec::new(),
            notification: None,
            warnings: Vec::new(),
            stage: None,
            promotion_checks: Vec::new(),
            throttles: 0,
            fleet: None,
        }
    }

    /// A run that deployed nothing on purpose.
    pub fn skipped(action: ActionKind, reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            ..Self::new(action)
        }
    }

    /// A run that could not start its work (the reason says what a person should look at).
    pub fn failed(action: ActionKind, reason: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Failed,
            reason: Some(reason.into()),
            ..Self::new(action)
        }
    }

    /// A stage promotion that waits for a person (`after.manual`): a run-level outcome, with the
    /// command to run in its reason.
    pub fn ready_to_promote(reason: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::ReadyToPromote,
            reason: Some(reason.into()),
            ..Self::new(ActionKind::PromoteStage)
        }
    }

    /// The deployments, and the outcome and reason that follow from them.
    pub fn with_deployments(mut self, deployments: Vec<Deployment>) -> Self {
        let (outcome, reason) = summary::summarize(self.action, &deployments);
        self.outcome = outcome;
        self.reason = reason;
        self.deployments = deployments;
        self
    }

    /// A fleet's summary: its outcome follows from the runs it waited for (their own reports,
    /// read back), not from deployments of this run; one of `deployed`, `rolled_back`, `failed`.
    pub fn of_fleet(action: ActionKind, outcome: Outcome, reason: impl Into<String>) -> Self {
        debug_assert!(
            matches!(
                outcome,
                Outcome::Deployed | Outcome::RolledBack | Outcome::Failed
            ),
            "a fleet ends deployed, rolled back or failed"
        );
        Self {
            outcome,
            reason: Some(reason.into()),
            ..Self::new(action)
        }
    }

    /// A fan-out's deployments (each handed to its own run, or not), and the outcome and reason
    /// that follow from them.
    pub fn with_dispatches(
        mut self,
        deployments: Vec<Deployment>,
        batched: Option<Batched>,
    ) -> Self {
        let (outcome, reason) = summary::dispatched(&deployments, batched);
        self.outcome = outcome;
        self.reason = reason;
        self.deployments = deployments;
        self
    }

    /// The image the run was about.
    pub fn with_image(mut self, image: &crate::types::ImageRef) -> Self {
        self.repository = Some(image.repository.to_string());
        self.image_tag = image.tag.as_ref().map(|t| t.to_string());
        self.image_digest = Some(image.digest.to_string());
        self.image_uri = Some(image.uri());
        self
    }

    pub fn is_failure(&self) -> bool {
        self.outcome == Outcome::Failed
    }
}

/// The snake_case name of a step, as in the JSON.
pub fn step_name(step: Step) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AliasName, FunctionRef, Version};

    fn dep(name: &str, outcome: Outcome) -> Deployment {
        let mut d = Deployment::new(
            FunctionRef::parse(name).unwrap(),
            AliasName::parse("live").unwrap(),
        );
        d.outcome = outcome;
        d
    }

    #[test]
    fn one_failure_fails_the_run_and_names_the_step() {
        let mut bad = dep("b", Outcome::Failed);
        bad.failed_step = Some(Step::SmokeTest);
        let (o, r) = summary::summarize(ActionKind::Deploy, &[dep("a", Outcome::Deployed), bad]);
        assert_eq!(o, Outcome::Failed);
        assert_eq!(r.unwrap(), "1 of 2 failed: b at smoke_test");
    }

    #[test]
    fn deployed_and_already_live_mix_is_deployed() {
        let (o, r) = summary::summarize(
            ActionKind::Deploy,
            &[dep("a", Outcome::Deployed), dep("b", Outcome::AlreadyLive)],
        );
        assert_eq!(o, Outcome::Deployed);
        assert_eq!(r.unwrap(), "1 of 2 deployed, 1 already live");
        let (o, _) = summary::summarize(ActionKind::Deploy, &[dep("a", Outcome::AlreadyLive)]);
        assert_eq!(o, Outcome::AlreadyLive);
        assert_eq!(
            summary::summarize(ActionKind::Deploy, &[]).0,
            Outcome::Skipped
        );
    }

    #[test]
    fn json_shape_uses_snake_case_and_string_versions() {
        let mut d = dep("a", Outcome::Deployed);
        d.version = Version::new(42);
        d.steps.push(StepTiming {
            step: Step::WaitUpdated,
            ms: 1200,
        });
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["outcome"], "deployed");
        assert_eq!(v["version"], "42");
        assert_eq!(v["steps"][0]["step"], "wait_updated");
        assert_eq!(v["failed_step"], serde_json::Value::Null);
        assert_eq!(step_name(Step::PromoteAlias), "promote_alias");
    }
}
