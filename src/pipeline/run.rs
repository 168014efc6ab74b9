//! One function's run: what it needs from outside ([`Ctx`]), the report being written, and what
//! `$LATEST` holds ([`Latest`]), which decides what a failure must put back.

use crate::gateway::{ApiError, Clock, Lambda, ecr::Ecr};
use crate::report::{Deployment, Step, StepTiming};
use std::future::Future;
use std::time::{Duration, SystemTime};

/// No step starts with less than this left of the invocation: enough to put `$LATEST` back, write
/// the report and notify before Lambda stops us.
pub const DEADLINE_RESERVE: Duration = Duration::from_secs(30);

/// What the pipeline needs from outside, for one invocation.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lambda: Lambda,
    /// ECR, for the image checks.
    pub ecr: Ecr,
    pub update_timeout: Duration,
    /// Identifies this run in what it writes (the alias description), so that it can recognise its
    /// own change after a lost response.
    pub run_id: String,
    /// When the Lambda runtime will stop this invocation; `None` in the CLI.
    pub deadline: Option<SystemTime>,
    pub rollouts: crate::rollout::Rollouts,
    /// Roles assumed for targets in other accounts (see [`crate::accounts::ctx_for`]).
    pub accounts: crate::accounts::Accounts,
}

impl Ctx {
    pub fn clock(&self) -> &Clock {
        self.lambda.clock()
    }

    /// Time left before the reserve, if there is a deadline.
    pub fn time_left(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        let left = deadline
            .duration_since(self.clock().now())
            .unwrap_or_default();
        Some(left.saturating_sub(DEADLINE_RESERVE))
    }

    /// How long a wait for Lambda may last: the update timeout, or less when the deadline is nearer.
    pub fn wait_budget(&self) -> Duration {
        match self.time_left() {
            Some(left) => left.min(self.update_timeout),
            None => self.update_timeout,
        }
    }

    /// Why no new step may start now, if none may.
    pub fn out_of_time(&self) -> Option<String> {
        let deadline = self.deadline?;
        let left = deadline
            .duration_since(self.clock().now())
            .unwrap_or_default();
        (left < DEADLINE_RESERVE).then(|| {
            format!(
                "stopped: only {} s of this invocation were left (a step starts only with at least {} s to spare)",
                left.as_secs(),
                DEADLINE_RESERVE.as_secs()
            )
        })
    }
}

/// What a step reports when it fails: one sentence for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError(pub String);

impl StepError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        Self(e.to_string())
    }
}

impl From<String> for StepError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// A step that failed, and how.
#[derive(Debug)]
pub struct Failure {
    pub step: Step,
    pub reason: String,
}

impl Failure {
    pub fn at(step: Step, reason: impl Into<String>) -> Self {
        Self {
            step,
            reason: reason.into(),
        }
    }
}

/// What `$LATEST` holds, as far as this run knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Latest {
    /// We have not asked Lambda to change it.
    Untouched,
    /// We asked (the call may have gone through even if it reported an error); what it runs now
    /// is known only by looking.
    Requested,
    /// It settled on our image.
    Ours,
}

/// Runs one step, appending its duration to `steps`, and tags a failure with the step's name.
/// A step never starts when the invocation is about to be stopped.
pub async fn timed<T>(
    ctx: &Ctx,
    steps: &mut Vec<StepTiming>,
    step: Step,
    fut: impl Future<Output = Result<T, StepError>>,
) -> Result<T, Failure> {
    // Putting things back (and keeping a rollout attended) is never refused for lack of time:
    // each is a single bounded call, and skipping it would leave production unattended.
    if !matches!(step, Step::RestoreLatest | Step::Rollout)
        && let Some(why) = ctx.out_of_time()
    {
        return Err(Failure::at(step, why));
    }
    let start = ctx.clock().now();
    let res = fut.await;
    let ms = ctx.clock().since(start).as_millis() as u64;
    steps.push(StepTiming { step, ms });
    res.map_err(|e| Failure::at(step, e.0))
}

/// One function's deployment as it happens.
pub struct Run<'a> {
    pub ctx: &'a Ctx,
    pub dep: Deployment,
    pub latest: Latest,
    /// The image production ran when we started (by digest), to put `$LATEST` back on.
    pub restore_image: Option<String>,
}

impl<'a> Run<'a> {
    pub fn new(ctx: &'a Ctx, dep: Deployment) -> Self {
        Self {
            ctx,
            dep,
            latest: Latest::Untouched,
            restore_image: None,
        }
    }

    pub async fn step<T>(
        &mut self,
        step: Step,
        fut: impl Future<Output = Result<T, StepError>>,
    ) -> Result<T, Failure> {
        timed(self.ctx, &mut self.dep.steps, step, fut).await
    }

    pub fn function(&self) -> String {
        self.dep.function.as_str().to_owned()
    }
}
