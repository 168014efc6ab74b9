//! A check whose step has lasted moves the rollout forward: the next weight, or all traffic on the
//! new version after the last step. Schedule, then shift: the next step's check exists before its
//! weight is set, so a move that fails, or whose answer is lost while the alias cannot be read
//! again, always has a check coming, and that check reads from the alias what really happened.

use super::next::{cannot_schedule, lost_alias, rolling, schedule_next, schedule_step};
use super::rfc3339;
use crate::config::{Rollout, Target};
use crate::gateway::{AliasState, ApiError};
use crate::input::AdvanceRequest;
use crate::ops::alias::{Promoted, Weight, set_weight};
use crate::ops::settle::{self, Settled};
use crate::ops::{Ctx, Failure, shift, timed};
use crate::record::MoveKind;
use crate::report::{Deployment, End, Ended, Provisioned, RolloutInfo, Step};
use crate::rollout::standing::of_check;
use crate::rollout::{self, stop};
use chrono::{DateTime, Utc};

/// Step `this.step` has lasted and passed its gates: the next step's check, then its weight.
pub(super) async fn shift_next(
    ctx: &Ctx,
    dep: &mut Deployment,
    current: &AliasState,
    this: &AdvanceRequest,
    next_weight: f64,
    cfg: &Rollout,
    mut info: RolloutInfo,
) -> Ended {
    let f = this.function.as_str();
    let now = ctx.clock().now_utc();
    let next = AdvanceRequest {
        step: this.step + 1,
        started: now,
        // A new step gathers its own evidence.
        tally: Default::default(),
        ..this.clone()
    };
    let scheduled = schedule_step(ctx, dep, &next, cfg).await;
    let (name, due) = match scheduled {
        Ok(s) => s,
        Err(e) => {
            let why = format!(
                "the rollout's next check could not be scheduled ({})",
                e.reason
            );
            return cannot_schedule(ctx, dep, this, cfg, info, why).await;
        }
    };
    info.next_check_at = Some(rfc3339(due));
    info.schedule = Some(name.clone());
    let w = Weight {
        stable: this.stable_version,
        canary: this.version,
        weight: next_weight,
        step: next.step,
        at: now,
    };
    let moved = timed(
        ctx,
        &mut dep.steps,
        Step::Rollout,
        set_weight(ctx, f, &this.alias, current, &w),
    )
    .await;
    let e = match moved {
        Ok(_) => return moved_to(dep, info, next.step, next_weight),
        Err(e) => e,
    };
    // Where is the alias now? The check just scheduled reads it again either way.
    match ctx.lambda.get_alias(f, &this.alias).await {
        Ok(Some(s)) => match of_check(&s, this, cfg) {
            Some(st) if st.step == next.step => moved_to(dep, info, next.step, next_weight),
            Some(_) => {
                // Not moved, still ours: the next step's check finds this step and tries again.
                dep.warnings.push(format!(
                    "{}; the weight stays at {}% and the check at {} tries the next step again",
                    e.reason,
                    (info.weight * 100.0).round(),
                    rfc3339(due)
                ));
                rolling(dep, info)
            }
            None => {
                dep.warnings.extend(rollout::delete_check(ctx, &name).await);
                lost_alias(ctx, dep, this, e.reason).await
            }
        },
        Ok(None) => {
            dep.warnings.extend(rollout::delete_check(ctx, &name).await);
            lost_alias(ctx, dep, this, e.reason).await
        }
        Err(read) => unknown(dep, this, &e, &read, Some(due), next_weight, info),
    }
}

fn moved_to(dep: &mut Deployment, mut info: RolloutInfo, step: usize, weight: f64) -> Ended {
    info.step = step;
    info.weight = weight;
    info.weight_changed = true;
    rolling(dep, info)
}

/// A move went out, its answer was lost and the alias cannot be read again: whether it happened
/// is unknown. The report says so, what the alias may do meanwhile, and what comes next.
fn unknown(
    dep: &mut Deployment,
    a: &AdvanceRequest,
    e: &Failure,
    read: &ApiError,
    due: Option<DateTime<Utc>>,
    to: f64,
    info: RolloutInfo,
) -> Ended {
    let next = match due {
        Some(due) => format!(
            "the check at {} reads which and takes the rollout on from there; meanwhile ",
            rfc3339(due)
        ),
        None => "and no check could be scheduled: ".into(),
    };
    let reason = format!(
        "{}; the move to {}% may have happened all the same, and alias {} could not be read again ({read}): {next}{}",
        e.reason,
        (to * 100.0).round(),
        a.alias,
        rollout::may_still_send(&a.function, &a.alias, a.version, to.max(info.weight))
    );
    dep.rollout = Some(info);
    dep.fail(Step::Rollout, e.kind, reason)
}

/// Every gate passed after the last step: the new version takes all traffic.
pub(super) async fn finish(
    ctx: &Ctx,
    target: &Target,
    dep: &mut Deployment,
    current: &AliasState,
    a: &AdvanceRequest,
    mut info: RolloutInfo,
) -> Ended {
    let f = a.function.as_str();
    let pc = settle::provisioned_before(ctx, dep).await;
    let moved = timed(
        ctx,
        &mut dep.steps,
        Step::PromoteAlias,
        shift(
            ctx,
            f,
            &a.alias,
            Some(current),
            a.version,
            Vec::new(),
            MoveKind::Deploy,
        ),
    )
    .await;
    let e = match moved {
        Ok(promoted) => return finished(ctx, target, dep, a, info, &promoted, pc).await,
        Err(e) => e,
    };
    let cfg = &target.rollout;
    match ctx.lambda.get_alias(f, &a.alias).await {
        Ok(Some(s)) if of_check(&s, a, cfg).is_some() => {
            // Still this step: the same check comes again and tries to finish again.
            schedule_next(ctx, dep, a, cfg, info, Some(e.reason)).await
        }
        Ok(_) => lost_alias(ctx, dep, a, e.reason).await,
        Err(read) => {
            let again = rollout::schedule_check(ctx, a, cfg).await;
            if let Ok((name, _)) = &again {
                info.schedule = Some(name.clone());
            }
            let due = again.ok().map(|(_, due)| due);
            info.next_check_at = due.map(rfc3339);
            unknown(dep, a, &e, &read, due, info.weight, info)
        }
    }
}

/// The alias serves the new version alone: once its provisioned concurrency is allocated and
/// Lambda's transition cleared, the rollout is done (a `FAILED` allocation stops it instead).
async fn finished(
    ctx: &Ctx,
    target: &Target,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    mut info: RolloutInfo,
    promoted: &Promoted,
    pc: Option<Provisioned>,
) -> Ended {
    dep.version = Some(a.version);
    info.weight = 1.0;
    info.weight_changed = true;
    dep.rollout = Some(info);
    let waited = settle::settle_or_say(ctx, dep, a.version, promoted, pc.as_ref()).await;
    if let Settled::AllocationFailed(failed) = waited {
        let cfg = Some(&target.rollout);
        return stop::allocation_failed(
            ctx,
            dep,
            promoted,
            a.stable_version,
            a.version,
            failed,
            cfg,
        )
        .await;
    }
    let end = End::deployed(format!(
        "the rollout finished: alias {} serves version {} (was {})",
        a.alias, a.version, a.stable_version
    ));
    dep.warnings
        .extend(rollout::delete_checks(ctx, &a.function, &a.alias, Some(a.version)).await);
    crate::ops::prune::after_move(
        ctx,
        dep,
        target.keep_versions,
        a.version,
        Some(a.stable_version),
    )
    .await;
    dep.end(end)
}
