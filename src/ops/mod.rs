//! The kernel every action runs on: the run's context ([`Ctx`], [`Deps`]), typed failures, the step
//! runner, and the few guarded operations that change production or put it back: move the alias
//! ([`alias`]), wait for Lambda ([`wait`]), put `$LATEST` back ([`restore`]), prune versions
//! ([`prune`]), read what production runs ([`resolve`]), and reach a target in another account
//! ([`accounts`]); and the smoke test ([`smoke`]: invoke, and judge the answer), which a
//! deployment runs on `$LATEST` and a rollout's synthetic traffic on each version.
//!
//! It imports only the floors below it (gateway, report, record, config, input, types): the
//! compositions above it (pipeline, rollout, stages, fan-out, actions) use it, never the reverse.

pub mod accounts;
pub mod alias;
mod ctx;
mod deps;
mod failure;
pub mod labels;
pub mod provisioned;
pub mod prune;
pub mod resolve;
pub mod restore;
pub mod settle;
pub mod smoke;
mod step;
pub mod transition;
pub mod wait;

pub use alias::{Moved, promote, shift};
pub use ctx::{Ctx, DEADLINE_RESERVE, Rollouts};
pub use deps::Deps;
pub(crate) use deps::reach_or_return;
pub use failure::{Failure, FailureKind, StepError};
pub use restore::restore_latest;
pub use step::{Latest, Run, timed};
