//! Provisioned concurrency (PC) on the alias a deployment moves. "Lambda deallocates the provisioned
//! concurrency from the old version and allocates it to the new version" (Lambda developer guide),
//! which takes a minute or two; until then the new version is not what PC serves. A deployment is
//! `deployed` only once the alias's PC is `READY` again; `FAILED` (the new version could not
//! initialise) undoes the move.

use crate::ops::Ctx;
use crate::report::{Allocation, Provisioned};
use crate::types::AliasName;
use std::time::Duration;

/// Between reads while PC is allocated: it takes minutes, so a read every few seconds notices it
/// soon enough without spending the control plane's quota.
const POLL: Duration = Duration::from_secs(5);

/// How the wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Waited {
    Ready(Provisioned),
    Failed(Provisioned),
    /// Not `READY` when the bound (DEPLOYER_PROVISIONED_WAIT_SECS, or the invocation's deadline)
    /// came; the sentence says so.
    StillAllocating(Provisioned, String),
    /// It could not be read; the sentence says why.
    Unreadable(String),
}

/// Waits until alias `alias` of `function` has its PC `READY` (or `FAILED`), logging the
/// allocation as it goes; bounded by `ctx.provisioned_wait` and the invocation's deadline.
pub async fn until_ready(ctx: &Ctx, function: &str, alias: &AliasName) -> Waited {
    let clock = ctx.clock();
    let start = clock.now();
    let bound = match ctx.time_left() {
        Some(left) => left.min(ctx.provisioned_wait),
        None => ctx.provisioned_wait,
    };
    loop {
        let pc = match ctx.lambda.provisioned(function, alias).await {
            Ok(Some(pc)) => pc,
            // Removed meanwhile: nothing left to wait for.
            Ok(None) => {
                return Waited::Unreadable(format!(
                    "alias {alias} no longer has provisioned concurrency"
                ));
            }
            Err(e) => return Waited::Unreadable(e.to_string()),
        };
        tracing::info!(
            function,
            %alias,
            allocated = pc.allocated,
            requested = pc.requested,
            status = %pc.status,
            "provisioned concurrency"
        );
        match pc.allocation() {
            Allocation::Ready => return Waited::Ready(pc),
            Allocation::Failed => return Waited::Failed(pc),
            Allocation::InProgress => {}
        }
        let waited = clock.since(start);
        if waited >= bound {
            let why = format!(
                "provisioned concurrency on alias {alias} was still {} after {} s ({} of {} allocated): the alias points to the new version; Lambda goes on allocating",
                pc.status,
                waited.as_secs(),
                pc.allocated,
                pc.requested
            );
            return Waited::StillAllocating(pc, why);
        }
        clock.sleep(POLL.min(bound - waited)).await;
    }
}
