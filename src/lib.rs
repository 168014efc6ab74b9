//! self-deployer: deploys Lambda functions the moment their container image lands in ECR.
//!
//! `$LATEST` is staging, versions are immutable snapshots, the alias is the contract with callers.
//! The alias only ever moves to a version published from code that passed the smoke test.
//!
//! The doors: [`runtime`] (Lambda) and [`cli`]. Both parse [`input`] into a request and hand it
//! to the [`engine`], which dispatches to one of the [`actions`]. The actions compose the kernel
//! (`ops`: the run context, typed failures, guarded alias moves, waits, restores): a deployment is
//! the `pipeline`, a rollout `rollout`, a fleet `fanout`. Only the `gateway` talks to AWS.

pub mod actions;
pub mod cli;
pub mod config;
pub mod dora;
pub mod engine;
pub mod error;
pub mod input;
pub mod notify;
pub mod plan;
pub mod report;
pub mod runtime;
pub mod setup;
pub mod signals;
pub mod types;

pub(crate) mod fanout;
pub(crate) mod gateway;
pub(crate) mod marks;
pub(crate) mod ops;
pub(crate) mod pipeline;
pub(crate) mod record;
pub(crate) mod rollout;
pub(crate) mod stages;
pub(crate) mod text;
pub(crate) mod timeline;

/// For benchmarks and tests that measure the poll schedule.
pub use ops::wait::poll_interval;

/// The retry classifier `setup` gives the Lambda client (tests give their client the same).
pub use gateway::budget::ThrottlesToTheBudget;

/// The pipeline's own wait for Lambda to finish an update of `$LATEST`, on the client's clock
/// (`examples/poll_strategies.rs` compares it with the SDK's waiter). `Err` says why it stopped.
pub async fn wait_until_settled(
    client: aws_sdk_lambda::Client,
    function: &str,
    timeout: std::time::Duration,
) -> Result<(), String> {
    let lambda = gateway::Lambda::new(client);
    ops::wait::until_settled(&lambda, function, None, timeout)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
