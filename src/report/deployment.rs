//! One function's part of a run: what it moved, each step, and how it ended (written through
//! `end` or `fail`, never field by field).

use super::{
    AfterMove, AtStart, End, Ended, FailureKind, ImageChecksResult, IndexChoice, Outcome, Restore,
    RolloutInfo, SmokeResult, Step, StepTiming,
};
use crate::types::{AliasName, FunctionRef, Version};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub function: FunctionRef,
    pub alias: AliasName,
    pub outcome: Outcome,
    /// The version the alias points to at the end of the run.
    pub version: Option<Version>,
    /// The version the alias pointed to when the run started.
    pub previous_version: Option<Version>,
    pub code_sha256: Option<String>,
    /// When the image named was an image index: the index and the image chosen from it.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexChoice>,
    /// After the move: traffic still moving, provisioned concurrency (flattened).
    #[serde(flatten)]
    pub after_move: AfterMove,
    pub failed_step: Option<Step>,
    /// What kind of failure it was (with `failed_step`); what decisions read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_kind: Option<FailureKind>,
    pub reason: Option<String>,
    pub steps: Vec<StepTiming>,
    pub pruned_versions: Vec<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke_test: Option<SmokeResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_restore: Option<Restore>,
    /// A progressive rollout in progress, started, advanced, finished or rolled back by this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutInfo>,
    /// What ECR said about the image, when the target has image_checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_checks: Option<ImageChecksResult>,
    /// Things that went wrong without failing the deployment (e.g. a version that could not be pruned).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// When the version this run took the traffic away from went live (the alias record's move
    /// time, before this run's move): what time to restore counts from (DORA). Set by a rollback,
    /// a gate's or an alarm's stop of a rollout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_live_since: Option<chrono::DateTime<chrono::Utc>>,
    /// This finding (a drift) was notified by an earlier run: the notifier leaves it out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub notified_before: bool,
    /// What happened when this deployment started, for what runs at its end (not in the report).
    #[serde(skip)]
    pub at_start: AtStart,
}

impl Deployment {
    pub fn new(function: FunctionRef, alias: AliasName) -> Self {
        Self {
            function,
            alias,
            outcome: Outcome::Failed,
            version: None,
            previous_version: None,
            code_sha256: None,
            index: None,
            after_move: AfterMove::default(),
            failed_step: None,
            failure_kind: None,
            reason: None,
            steps: Vec::new(),
            pruned_versions: Vec::new(),
            smoke_test: None,
            latest_restore: None,
            rollout: None,
            image_checks: None,
            warnings: Vec::new(),
            bad_live_since: None,
            notified_before: false,
            at_start: AtStart::default(),
        }
    }

    /// Marks this deployment failed at `step`, of `kind`, for `reason`: the one way a failure is
    /// written into a report.
    pub fn fail(&mut self, step: Step, kind: FailureKind, reason: impl Into<String>) -> Ended {
        self.failed(Some(step), kind, reason.into())
    }

    /// Marks this deployment failed before any of its steps ran (a fan-out that could not hand
    /// it to its own run): the kind, and the reason.
    pub fn fail_outside_steps(&mut self, kind: FailureKind, reason: impl Into<String>) -> Ended {
        self.failed(None, kind, reason.into())
    }

    fn failed(&mut self, step: Option<Step>, kind: FailureKind, reason: String) -> Ended {
        self.outcome = Outcome::Failed;
        self.failed_step = step;
        self.failure_kind = Some(kind);
        self.reason = Some(reason);
        Ended::written()
    }

    /// Writes how this function's part ended (short of a failure: `fail`); the one way an
    /// outcome and its sentence are written into a deployment.
    pub fn end(&mut self, end: End) -> Ended {
        self.outcome = end.outcome;
        if let Some(reason) = end.reason {
            self.reason = Some(reason);
        }
        Ended::written()
    }

    /// Puts `what` in front of the sentence ("missed push of …: alias live moved …"), or in
    /// front of `otherwise` when there is none yet (a dispatched function: its run's reason).
    pub fn prefix_reason(&mut self, what: &str, otherwise: Option<String>) {
        self.reason = Some(match self.reason.take().or(otherwise) {
            Some(r) => format!("{what}: {r}"),
            None => what.to_string(),
        });
    }

    /// This deployment, ended so.
    pub fn ended(mut self, end: End) -> Self {
        let _ = self.end(end);
        self
    }
}
