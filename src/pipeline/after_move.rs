//! What real accounts do after an alias move, before a deployment may say `deployed`: the alias's
//! provisioned concurrency is allocated to the new version (and a `FAILED` allocation undoes the
//! move), and Lambda's own transition weights clear. See [`crate::ops::provisioned`] and
//! [`crate::ops::transition`].

use crate::gateway::AliasState;
use crate::ops::alias::Promoted;
use crate::ops::settle::{self, Settled};
use crate::ops::{Failure, Run, promote};
use crate::record::MoveKind;
use crate::report::Provisioned;
use crate::types::{AliasTarget, Version};

/// After our move to `version` (from `previous`): [`settle::settle`]. `Err`: the allocation
/// `FAILED`; the alias was moved back (guarded) and the failure says how that went.
pub(super) async fn settle(
    run: &mut Run<'_>,
    version: Version,
    previous: Option<Version>,
    promoted: &Promoted,
    pc: Option<Provisioned>,
) -> Result<(), Failure> {
    match settle::settle(run.ctx, &mut run.dep, version, promoted, pc.as_ref()).await? {
        Settled::Done => Ok(()),
        Settled::AllocationFailed(mut failed) => {
            let back = move_back(run, version, previous, promoted).await;
            failed.reason = format!("{}; {back}", failed.reason);
            Err(failed)
        }
    }
}

/// The alias back on `previous`, guarded by the RevisionId of our own move: never over a change
/// someone made since. Says what happened.
async fn move_back(
    run: &mut Run<'_>,
    version: Version,
    previous: Option<Version>,
    promoted: &Promoted,
) -> String {
    let ctx = run.ctx;
    let f = run.function();
    let alias = run.dep.alias.clone();
    let Some(previous) = previous else {
        return format!("alias {alias} had no earlier version to go back to");
    };
    let ours = match promoted.revision.clone() {
        Some(revision_id) => AliasState {
            revision_id,
            target: AliasTarget::Version(version),
            routing: Vec::new(),
            description: String::new(),
            transition: None,
        },
        None => match ctx.lambda.get_alias(&f, &alias).await {
            Ok(Some(a)) if a.target == AliasTarget::Version(version) => a,
            _ => return format!("alias {alias} could not be read to move it back"),
        },
    };
    match promote(ctx, &f, &alias, Some(&ours), previous, MoveKind::Rollback).await {
        Ok(_) => format!("alias {alias} moved back to version {previous}"),
        Err(e) => format!("moving alias {alias} back to version {previous} failed: {e}"),
    }
}
