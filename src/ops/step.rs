//! One function's run: the report being written, what `$LATEST` holds ([`Latest`], which decides
//! what a failure must put back), and the step runner that times each step and tags its failure.

use super::ctx::Ctx;
use super::failure::{Failure, FailureKind, StepError};
use crate::report::{Deployment, Step, StepTiming};
use std::future::Future;

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
        return Err(Failure::of(step, FailureKind::OutOfTime, why));
    }
    let start = ctx.clock().now();
    let res = fut.await;
    let ms = ctx.clock().since(start).as_millis() as u64;
    steps.push(StepTiming { step, ms });
    res.map_err(|e| Failure::from_step(step, e))
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
