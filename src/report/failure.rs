//! The kinds of failure a report names: decisions (what to mark rejected, what to retry, what a
//! sweep may try again) match on these, never on the sentence beside them.

use serde::Serialize;

/// What went wrong, as far as a decision needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Someone (or something) else changed the function or alias: a guard tripped, Lambda was
    /// busy with another update, or the state is not what this run set.
    Conflict,
    /// A RevisionId guard tripped and nothing showed whose change it was.
    PreconditionFailed,
    /// The code behind `$LATEST` changed between the smoke test and PublishVersion.
    CodeShaMismatch,
    NotFound,
    /// Throttled beyond retries.
    Throttled,
    AccessDenied,
    /// A call or a wait did not finish in time.
    TimedOut,
    /// Lambda could not apply the image (`LastUpdateStatus` or `State` is `Failed`): the image
    /// itself is at fault.
    UpdateFailed,
    /// The smoke test (or a synthetic invocation) failed.
    SmokeFailed,
    /// ECR's checks (scan findings, signature, package type) refused the image.
    ImageRejected,
    /// A rollout gate failed (alarm, error rate).
    GateFailed,
    /// Not started: the invocation was about to be stopped.
    OutOfTime,
    /// What was asked cannot be done as things are (nothing to roll back, no rollout to promote).
    Refused,
    /// Something this deployer needs is not configured (no scheduler, no role).
    NotConfigured,
    /// Anything else: a service error, an unreadable answer.
    Other,
}
