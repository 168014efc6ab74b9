//! A rollout check, brought by its schedule: where does the rollout really stand (the alias and
//! the record of the deployer's last weight, [`super::standing`])? Then the gates; then wait,
//! shift the next weight or finish ([`super::forward`]), or roll back ([`super::stop`]).

use super::next::schedule_next;
use crate::config::Target;
use crate::input::AdvanceRequest;
use crate::ops::{Ctx, timed};
use crate::report::{Deployment, End, Ended, RolloutInfo, Step};
use crate::rollout::standing::{Standing, of_check};
use crate::rollout::stop::{gate_failed, stop};
use crate::rollout::{self, forward, verdict};
use crate::types::FunctionRef;

pub async fn check(
    ctx: &Ctx,
    target: &Target,
    function: &FunctionRef,
    a: &AdvanceRequest,
    dep: &mut Deployment,
) -> Ended {
    let cfg = &target.rollout;
    let f = function.as_str();
    // The rule: a check acts only on the alias as this rollout set it; anything else (a
    // person's change, a newer rollout, changed steps) is superseded and left alone.
    let Some(weight) = cfg.weight(a.step) else {
        return dep.end(End::skipped(format!(
            "superseded: the target's rollout has no step {} any more (steps {:?}); promote or roll back by hand",
            a.step, cfg.steps
        )));
    };
    let current = match timed(ctx, &mut dep.steps, Step::Resolve, async {
        Ok(ctx.lambda.get_alias(f, &a.alias).await?)
    })
    .await
    {
        Ok(Some(s)) => s,
        Ok(None) => {
            return dep.end(End::skipped(format!(
                "superseded: alias {} no longer exists",
                a.alias
            )));
        }
        Err(e) => return unreadable(ctx, dep, a, cfg, weight, e).await,
    };
    // Read from the alias, not from the payload: a weight whose answer was lost is taken on from
    // where it is, and a step's clock starts when its weight was really set (a check replayed into
    // a later rollout of the same version never counts time from the earlier one).
    let Some(at) = of_check(&current, a, cfg) else {
        return superseded(dep, a, &current, weight);
    };
    let now = ctx.clock().now_utc();
    let this = step_check(a, &at);
    // Lambda's metrics name the function by its bare name, also when it is configured by ARN.
    let judged = verdict::judge(ctx, target, function.name(), &this, now).await;
    let info = rollout_info(a, cfg, &at, &judged);
    let hold = match judged.act {
        verdict::Act::RollBack(why) => {
            dep.rollout = Some(info);
            return stop(
                ctx,
                dep,
                &current,
                a.stable_version,
                a.version,
                gate_failed(why),
                Some(cfg),
            )
            .await;
        }
        verdict::Act::Hold => true,
        verdict::Act::OnSchedule => false,
    };
    // The same step's next check carries what this one made and told.
    let this = AdvanceRequest {
        tally: judged.tally.clone(),
        ..this
    };
    if hold || (now - at.since).num_seconds() < cfg.interval_secs as i64 {
        // The step has not lasted its interval yet (or holds for evidence): same weight.
        return schedule_next(ctx, dep, &this, cfg, info, None).await;
    }
    match cfg.weight(at.step + 1) {
        Some(next) => forward::shift_next(ctx, dep, &current, &this, next, cfg, info).await,
        None => forward::finish(ctx, target, dep, &current, &this, info).await,
    }
}

/// This step's check as the chain names it: duplicate, replayed and late checks of one step all
/// schedule the same next check, which EventBridge Scheduler creates once. What earlier checks of
/// the step made and told (the tally) belongs to that step only.
fn step_check(a: &AdvanceRequest, at: &Standing) -> AdvanceRequest {
    AdvanceRequest {
        step: at.step,
        started: at.since,
        tally: if at.step == a.step {
            a.tally.clone()
        } else {
            Default::default()
        },
        ..a.clone()
    }
}

/// What the report tells of the rollout as this check found it (the weight not yet moved).
fn rollout_info(
    a: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    at: &Standing,
    judged: &verdict::Judged,
) -> RolloutInfo {
    RolloutInfo {
        stable_version: a.stable_version,
        new_version: a.version,
        step: at.step,
        steps: cfg.steps.clone(),
        weight: at.weight,
        weight_changed: false,
        next_check_at: None,
        schedule: None,
        error_rate: judged.error_rate.clone(),
        check: Some(judged.reading.clone()),
    }
}

/// The alias could not be read: nothing was changed. Someone must come back: the same check, one
/// period later (or the report says what the alias may still do).
async fn unreadable(
    ctx: &Ctx,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    weight: f64,
    e: crate::ops::Failure,
) -> Ended {
    let function = &a.function;
    // Nothing was changed. Someone must come back: the same check, one period later.
    let again = super::next::schedule_step(ctx, dep, a, cfg).await;
    let reason = match again {
        Ok((_, due)) => format!(
            "{}; nothing was changed, and this check runs again at {}",
            e.reason,
            super::rfc3339(due)
        ),
        Err(s) => format!(
            "{}; nothing was changed, and the check could not be scheduled again ({}): {}",
            e.reason,
            s.reason,
            rollout::may_still_send(function, &a.alias, a.version, weight)
        ),
    };
    dep.fail(e.step, e.kind, reason)
}

/// The alias is not as this rollout left it (a person's change, a newer rollout): left alone.
fn superseded(
    dep: &mut Deployment,
    a: &AdvanceRequest,
    current: &crate::gateway::AliasState,
    weight: f64,
) -> Ended {
    dep.version = current.target.version();
    dep.end(End::skipped(format!(
        "superseded: alias {} is now {}, not {} + {}% {} as this rollout left it",
        a.alias,
        current.describe(),
        a.stable_version,
        (weight * 100.0).round(),
        a.version
    )))
}
