//! What real accounts do after an alias move, before anything may say the new version serves: the
//! alias's provisioned concurrency is allocated to it ([`crate::ops::provisioned`]) and Lambda's own
//! transition weights clear ([`crate::ops::transition`]). Shared by every move that ends on one
//! version: a deployment, a rollout's last step, a promote and a rollback. What a `FAILED`
//! allocation calls for differs between them, so it is returned, never acted on here.

use crate::ops::alias::Promoted;
use crate::ops::provisioned::{Waited, until_ready};
use crate::ops::{Ctx, Failure, FailureKind, timed, transition};
use crate::report::{Deployment, Provisioned, Step};
use crate::types::Version;

/// How the wait after a move ended.
#[derive(Debug)]
pub enum Settled {
    /// READY (or nothing to wait for); anything still moving is in the report and its warnings.
    Done,
    /// The allocation `FAILED`: the new version cannot serve. The failure names Lambda's
    /// StatusReason; the caller decides what to put back.
    AllocationFailed(Failure),
}

/// Before the move: whether alias `dep.alias` has provisioned concurrency to wait for. A read
/// that fails is a warning, not a failure: the move itself does not depend on it.
pub async fn provisioned_before(ctx: &Ctx, dep: &mut Deployment) -> Option<Provisioned> {
    let f = dep.function.as_str().to_owned();
    match ctx.lambda.provisioned(&f, &dep.alias).await {
        Ok(pc) => pc,
        Err(e) => {
            dep.warnings.push(format!(
                "provisioned concurrency of alias {} could not be read, so it was not waited for: {e}",
                dep.alias
            ));
            None
        }
    }
}

/// After our move of `dep.alias` to `version`: wait for provisioned concurrency when the alias
/// has it (`pc`, read before the move), then for Lambda's transition when its answer showed one.
/// Not READY or not cleared in time: `traffic_moving` and a warning. `Err`: no time was left to
/// wait at all.
pub async fn settle(
    ctx: &Ctx,
    dep: &mut Deployment,
    version: Version,
    promoted: &Promoted,
    pc: Option<&Provisioned>,
) -> Result<Settled, Failure> {
    let f = dep.function.as_str().to_owned();
    let alias = dep.alias.clone();
    if pc.is_some() {
        let waited = timed(ctx, &mut dep.steps, Step::ProvisionedConcurrency, async {
            Ok(until_ready(ctx, &f, &alias).await)
        })
        .await?;
        match waited {
            Waited::Ready(p) => dep.after_move.provisioned = Some(p),
            Waited::StillAllocating(p, why) => {
                dep.after_move.provisioned = Some(p);
                dep.after_move.traffic_moving = true;
                dep.warnings.push(why);
            }
            Waited::Unreadable(why) => dep.warnings.push(format!(
                "provisioned concurrency could not be followed after the move: {why}"
            )),
            Waited::Failed(p) => {
                let reason = p
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Lambda gave no reason".into());
                dep.after_move.provisioned = Some(p);
                return Ok(Settled::AllocationFailed(Failure::of(
                    Step::ProvisionedConcurrency,
                    FailureKind::UpdateFailed,
                    format!(
                        "provisioned concurrency on alias {alias} FAILED for version {version}: {reason}"
                    ),
                )));
            }
        }
    }
    if promoted.transition.is_some()
        && let Some(why) = transition::until_traffic_moved(ctx, &f, &alias, version).await
    {
        dep.after_move.traffic_moving = true;
        dep.warnings.push(why);
    }
    Ok(Settled::Done)
}

/// As [`settle`] for a move that is done whatever comes next (a rollout's end, a rollback): no
/// time left to wait is said, not failed, since the alias has moved all the same.
pub async fn settle_or_say(
    ctx: &Ctx,
    dep: &mut Deployment,
    version: Version,
    promoted: &Promoted,
    pc: Option<&Provisioned>,
) -> Settled {
    match settle(ctx, dep, version, promoted, pc).await {
        Ok(s) => s,
        Err(e) => {
            dep.after_move.traffic_moving = true;
            dep.warnings.push(format!(
                "alias {} points to version {version}, but it was not waited for: {}",
                dep.alias, e.reason
            ));
            Settled::Done
        }
    }
}
