//! Ending a rollout early: all traffic back on the stable version (guarded), pending checks
//! deleted, the new image marked rejected, `$LATEST` put back on the stable image as after a failed
//! smoke test. Used by a failed gate, a check that cannot be scheduled, and an alarm event.

use crate::gateway::AliasState;
use crate::input::AdvanceRequest;
use crate::ops::{Ctx, Failure, Latest, Run, restore_latest, shift, timed};
use crate::record::MoveKind;
use crate::report::{Deployment, Ended, FailureKind, Step};
use crate::rollout;
use crate::rollout::standing::standing;
use crate::types::Version;

/// A gate failed (or the rollout cannot go on): all traffic back on `stable` (guarded), pending
/// checks deleted, `$LATEST` put back on the stable image as after a failed smoke test.
pub async fn stop(
    ctx: &Ctx,
    dep: &mut Deployment,
    current: &AliasState,
    stable: Version,
    new: Version,
    why: Failure,
    cfg: Option<&crate::config::Rollout>,
) -> Ended {
    let f = dep.function.as_str().to_owned();
    let alias = dep.alias.clone();
    let back = timed(
        ctx,
        &mut dep.steps,
        Step::Rollout,
        shift(
            ctx,
            &f,
            &alias,
            Some(current),
            stable,
            Vec::new(),
            MoveKind::Rollback,
        ),
    )
    .await;
    if let Err(e) = back {
        let stopping = Stopping {
            current,
            stable,
            new,
            why,
            cfg,
        };
        return not_taken_back(ctx, dep, stopping, e).await;
    }
    dep.version = Some(stable);
    // Time to restore counts from the rollout's last weight (the record of that move).
    dep.bad_live_since = current.record().filter(|r| r.to == stable).map(|r| r.moved);
    if let Some(r) = dep.rollout.as_mut() {
        r.weight_changed = true;
    }
    tracing::warn!(function = %f, %alias, %stable, %new, reason = %why.reason, "rollout rolled back");
    dep.warnings
        .extend(rollout::delete_checks(ctx, &dep.function, &alias, None).await);
    reject_and_restore(ctx, dep, stable, new).await;
    let rolled_back = format!("{}: rolled back to version {stable}", why.reason);
    dep.fail(why.step, why.kind, rolled_back)
}

/// A failed gate's (or an alarm's) reason to stop a rollout, as the failure it is reported as.
pub fn gate_failed(why: impl Into<String>) -> Failure {
    Failure::of(Step::Rollout, FailureKind::GateFailed, why)
}

/// What [`stop`] was asked: the alias as the rollout last saw it, the two versions, why it stops,
/// and the rollout's configuration (the steps a split still standing is matched against).
struct Stopping<'a> {
    current: &'a AliasState,
    stable: Version,
    new: Version,
    why: Failure,
    cfg: Option<&'a crate::config::Rollout>,
}

/// The traffic could not be taken back: say where the alias is, and make sure someone comes back
/// to it while the split is there (this step's check, never a second chain).
async fn not_taken_back(
    ctx: &Ctx,
    dep: &mut Deployment,
    stopping: Stopping<'_>,
    e: Failure,
) -> Ended {
    let Stopping {
        current,
        stable,
        new,
        why,
        cfg,
    } = stopping;
    let f = dep.function.as_str().to_owned();
    let alias = dep.alias.clone();
    // Not rolled back: the subject must not say it was.
    dep.rollout = None;
    let read = ctx.lambda.get_alias(&f, &alias).await;
    let unreadable = read.is_err();
    let now = read.ok().flatten();
    dep.version = now.as_ref().and_then(|s| s.target.version());
    // While the split is still there, someone must come back: this step's check, whose gates
    // will call for the rollback again. Counted from when the weight was set (the record), it
    // has the name of the check already pending, if one is: never a second chain.
    let mut again = String::new();
    if let (Some(s), Some(cfg)) = (now.as_ref(), cfg)
        && let Some((v, w)) = s.canary().filter(|(v, _)| *v == new)
    {
        let by_weight = cfg.step_of(w).map(|n| (n, ctx.clock().now_utc()));
        again = match standing(s, stable, v, cfg, by_weight) {
            Some(at) => {
                let c = AdvanceRequest {
                    function: dep.function.clone(),
                    alias: alias.clone(),
                    version: v,
                    stable_version: stable,
                    step: at.step,
                    started: at.since,
                    tally: Default::default(),
                };
                match rollout::schedule_check(ctx, &c, cfg).await {
                    Ok((_, due)) => format!("; a check at {} tries again", super::rfc3339(due)),
                    Err(e) => format!(
                        "; no check could be scheduled either ({e}): {}",
                        rollout::may_still_send(&dep.function, &alias, v, w)
                    ),
                }
            }
            None => format!(
                "; it is not a step of this rollout, so no check comes back to it: {}",
                rollout::may_still_send(&dep.function, &alias, v, w)
            ),
        };
    } else if unreadable && let Some((_, w)) = current.canary() {
        again = format!(
            "; {}",
            rollout::may_still_send(&dep.function, &alias, new, w)
        );
    }
    let reason = format!(
        "{}; taking the traffic back failed ({}): alias {alias} is {}{again}",
        why.reason,
        e.reason,
        now.map(|s| s.describe())
            .unwrap_or_else(|| "unreadable".into())
    );
    dep.fail(why.step, why.kind, reason)
}

/// After the traffic is back on `stable`: the image the gates rejected is marked (the next sweep
/// must not bring it back) and `$LATEST` goes back on what production runs.
async fn reject_and_restore(ctx: &Ctx, dep: &mut Deployment, stable: Version, new: Version) {
    let f = dep.function.as_str().to_owned();
    let alias = dep.alias.clone();
    // $LATEST runs the new image: put it back on what production runs again.
    let stable_image = ctx
        .lambda
        .get_function(&f, Some(&stable.to_string()))
        .await
        .ok()
        .and_then(|s| s.image_uri);
    let new_digest = ctx
        .lambda
        .get_function(&f, Some(&new.to_string()))
        .await
        .ok()
        .and_then(|s| s.digest());
    // The image the gates rejected must not come back with the next reconcile sweep.
    if let Some(d) = new_digest.as_ref()
        && let Some(w) = crate::marks::reject(&ctx.lambda, &f, d).await
    {
        dep.warnings.push(w);
    }
    if let Some(digest) = new_digest {
        let mut run = Run::new(
            ctx,
            std::mem::replace(dep, Deployment::new(dep.function.clone(), alias.clone())),
        );
        run.latest = Latest::Requested;
        run.restore_image = stable_image;
        let restore = restore_latest(&mut run, &digest).await;
        *dep = run.dep;
        dep.latest_restore = restore;
    }
}

/// After the move that ended a rollout (its last step, or a promote), the alias's provisioned
/// concurrency `FAILED` to allocate to `new`: the version cannot initialise, so the rollout stops
/// as a failed gate stops it (all traffic back on `stable`, guarded by the RevisionId of our own
/// move, checks deleted, the image rejected, `$LATEST` restored), failed at
/// `provisioned_concurrency` with Lambda's reason.
pub async fn allocation_failed(
    ctx: &Ctx,
    dep: &mut Deployment,
    promoted: &crate::ops::alias::Promoted,
    stable: Version,
    new: Version,
    failed: Failure,
    cfg: Option<&crate::config::Rollout>,
) -> Ended {
    let f = dep.function.as_str().to_owned();
    let alias = dep.alias.clone();
    let ours = match promoted.revision.clone() {
        Some(revision_id) => Some(AliasState {
            revision_id,
            target: crate::types::AliasTarget::Version(new),
            routing: Vec::new(),
            description: String::new(),
            transition: None,
        }),
        None => match ctx.lambda.get_alias(&f, &alias).await {
            Ok(Some(a)) if a.target.version() == Some(new) && !a.has_routing() => Some(a),
            _ => None,
        },
    };
    match ours {
        Some(ours) => stop(ctx, dep, &ours, stable, new, failed, cfg).await,
        None => {
            let reason = format!(
                "{}; alias {alias} could not be read as our move left it, so it was not moved back to version {stable}: a person must look at it",
                failed.reason
            );
            dep.fail(failed.step, failed.kind, reason)
        }
    }
}
