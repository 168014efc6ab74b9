//! What real accounts do after an alias move, before a deployment may say `deployed`: the alias's
//! provisioned concurrency is allocated to the new version (and a `FAILED` allocation undoes the
//! move), and Lambda's own transition weights clear. See [`crate::ops::provisioned`] and
//! [`crate::ops::transition`].

use crate::gateway::AliasState;
use crate::ops::alias::Promoted;
use crate::ops::provisioned::{Waited, until_ready};
use crate::ops::{Failure, FailureKind, Run, promote, transition};
use crate::record::MoveKind;
use crate::report::{Provisioned, Step};
use crate::types::{AliasTarget, Version};

/// Before the move: whether the alias (when it `exists`) has provisioned concurrency to wait for.
/// A read that fails is a warning, not a failure: the move itself does not depend on it.
pub(super) async fn provisioned_before(run: &mut Run<'_>, exists: bool) -> Option<Provisioned> {
    if !exists {
        return None;
    }
    let f = run.function();
    match run.ctx.lambda.provisioned(&f, &run.dep.alias).await {
        Ok(pc) => pc,
        Err(e) => {
            run.dep.warnings.push(format!(
                "provisioned concurrency of alias {} could not be read, so it was not waited for: {e}",
                run.dep.alias
            ));
            None
        }
    }
}

/// After our move to `version` (from `previous`): wait for provisioned concurrency when the alias
/// has it, then for Lambda's transition when its answer showed one. `Err`: the allocation
/// `FAILED`; the alias was moved back (guarded) and the failure says how that went.
pub(super) async fn settle(
    run: &mut Run<'_>,
    version: Version,
    previous: Option<Version>,
    promoted: &Promoted,
    pc: Option<Provisioned>,
) -> Result<(), Failure> {
    let ctx = run.ctx;
    let f = run.function();
    let alias = run.dep.alias.clone();
    if pc.is_some() {
        let waited = run
            .step(Step::ProvisionedConcurrency, async {
                Ok(until_ready(ctx, &f, &alias).await)
            })
            .await?;
        match waited {
            Waited::Ready(p) => run.dep.after_move.provisioned = Some(p),
            Waited::StillAllocating(p, why) => {
                run.dep.after_move.provisioned = Some(p);
                run.dep.after_move.traffic_moving = true;
                run.dep.warnings.push(why);
            }
            Waited::Unreadable(why) => run.dep.warnings.push(format!(
                "provisioned concurrency could not be followed after the move: {why}"
            )),
            Waited::Failed(p) => {
                let reason = p
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Lambda gave no reason".into());
                run.dep.after_move.provisioned = Some(p);
                let back = move_back(run, version, previous, promoted).await;
                return Err(Failure::of(
                    Step::ProvisionedConcurrency,
                    FailureKind::UpdateFailed,
                    format!(
                        "provisioned concurrency on alias {alias} FAILED for version {version}: {reason}; {back}"
                    ),
                ));
            }
        }
    }
    if promoted.transition.is_some()
        && let Some(why) = transition::until_traffic_moved(ctx, &f, &alias, version).await
    {
        run.dep.after_move.traffic_moving = true;
        run.dep.warnings.push(why);
    }
    Ok(())
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
