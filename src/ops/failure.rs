//! Failures as data: every step that fails says which kind of failure it was (decisions match on
//! [`FailureKind`], never on the sentence) and one sentence for people (the report renders it).

use crate::gateway::{ApiError, ErrorKind};
pub use crate::report::FailureKind;
use crate::report::Step;

impl From<ErrorKind> for FailureKind {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::PreconditionFailed => FailureKind::PreconditionFailed,
            ErrorKind::CodeShaMismatch => FailureKind::CodeShaMismatch,
            ErrorKind::Conflict => FailureKind::Conflict,
            ErrorKind::NotFound => FailureKind::NotFound,
            ErrorKind::Throttled => FailureKind::Throttled,
            ErrorKind::AccessDenied => FailureKind::AccessDenied,
            ErrorKind::TimedOut => FailureKind::TimedOut,
            ErrorKind::Other => FailureKind::Other,
        }
    }
}

/// What a step reports when it fails: its kind, and one sentence for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    pub kind: FailureKind,
    pub message: String,
}

impl StepError {
    /// A failure of no particular kind (the sentence says it all).
    pub fn new(message: impl Into<String>) -> Self {
        Self::of(FailureKind::Other, message)
    }

    pub fn of(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        Self::of(e.kind.into(), e.to_string())
    }
}

impl From<String> for StepError {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

/// A step that failed, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub step: Step,
    pub kind: FailureKind,
    pub reason: String,
}

impl Failure {
    pub fn of(step: Step, kind: FailureKind, reason: impl Into<String>) -> Self {
        Self {
            step,
            kind,
            reason: reason.into(),
        }
    }

    /// `e`, which happened at `step`.
    pub fn from_step(step: Step, e: StepError) -> Self {
        Self::of(step, e.kind, e.message)
    }
}
