//! A rollout check, brought by its schedule: is the alias still as this rollout left it? Then the
//! gates; then wait, shift the next weight, finish, or roll back ([`super::stop`]).

use crate::config::Target;
use crate::gateway::AliasState;
use crate::input::AdvanceRequest;
use crate::ops::{Ctx, StepError, shift, timed};
use crate::record::MoveKind;
use crate::report::{Deployment, FailureKind, Outcome, RolloutInfo, Step};
use crate::rollout::{self, stop::stop, verdict};
use crate::types::FunctionRef;
use chrono::SecondsFormat;

pub async fn check(
    ctx: &Ctx,
    target: &Target,
    function: &FunctionRef,
    a: &AdvanceRequest,
    dep: &mut Deployment,
) -> Outcome {
    let cfg = &target.rollout;
    let f = function.as_str();
    // The rule: a check acts only on the alias exactly as its own step set it; anything
    // else (a person's change, a newer rollout, changed steps) is superseded and left alone.
    let Some(weight) = cfg.weight(a.step) else {
        dep.reason = Some(format!(
            "superseded: the target's rollout has no step {} any more (steps {:?}); promote or roll back by hand",
            a.step, cfg.steps
        ));
        return Outcome::Skipped;
    };
    let current = match timed(ctx, &mut dep.steps, Step::Resolve, async {
        Ok(ctx.lambda.get_alias(f, &a.alias).await?)
    })
    .await
    {
        Ok(Some(s)) => s,
        Ok(None) => {
            dep.reason = Some(format!("superseded: alias {} no longer exists", a.alias));
            return Outcome::Skipped;
        }
        Err(e) => {
            // Nothing was changed. Someone must come back: the same check, one period later.
            dep.failed_step = Some(e.step);
            dep.failure_kind = Some(e.kind);
            let again = timed(ctx, &mut dep.steps, Step::Rollout, async {
                rollout::schedule_check(ctx, a, cfg)
                    .await
                    .map_err(StepError::new)
            })
            .await;
            dep.reason = Some(match again {
                Ok((_, due)) => format!(
                    "{}; nothing was changed, and this check runs again at {}",
                    e.reason,
                    due.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
                Err(s) => format!(
                    "{}; nothing was changed, and the check could not be scheduled again ({}): roll back or promote by hand",
                    e.reason, s.reason
                ),
            });
            return Outcome::Failed;
        }
    };
    if !current.is_exactly(a.stable_version, &[(a.version, weight)]) {
        dep.version = current.target.version();
        dep.reason = Some(format!(
            "superseded: alias {} is now {}, not {} + {}% {} as this rollout left it",
            a.alias,
            current.describe(),
            a.stable_version,
            (weight * 100.0).round(),
            a.version
        ));
        return Outcome::Skipped;
    }
    let now = ctx.clock().now_utc();
    // Issue 26: one call for the verdict (gates, synthetic traffic, evidence), one match on it.
    // Lambda's metrics name the function by its bare name, also when it is configured by ARN.
    let judged = verdict::judge(ctx, target, function.name(), a, now).await;
    let mut info = RolloutInfo {
        stable_version: a.stable_version,
        new_version: a.version,
        step: a.step,
        steps: cfg.steps.clone(),
        weight,
        weight_changed: false,
        next_check_at: None,
        schedule: None,
        error_rate: judged.error_rate.clone(),
        check: Some(judged.reading.clone()),
    };
    let hold = match judged.act {
        verdict::Act::RollBack(why) => {
            dep.rollout = Some(info);
            return stop(
                ctx,
                dep,
                &current,
                a.stable_version,
                a.version,
                why,
                Some(cfg),
            )
            .await;
        }
        verdict::Act::Hold => true,
        verdict::Act::OnSchedule => false,
    };
    // The same step's next check carries what this one made and told.
    let same_step = AdvanceRequest {
        tally: judged.tally.clone(),
        ..a.clone()
    };
    dep.reason = judged.note.clone();
    let lasted = !hold && (now - a.started).num_seconds() >= cfg.interval_secs as i64;
    let next = if !lasted {
        // The step has not lasted its interval yet (or holds for evidence): same weight.
        same_step
    } else if let Some(next_weight) = cfg.weight(a.step + 1) {
        let moved = timed(
            ctx,
            &mut dep.steps,
            Step::Rollout,
            shift(
                ctx,
                f,
                &a.alias,
                Some(&current),
                a.stable_version,
                vec![(a.version, next_weight)],
                MoveKind::Rollout,
            ),
        )
        .await;
        if let Err(e) = moved {
            return not_moved(ctx, dep, a, cfg, info, e.reason).await;
        }
        info.step = a.step + 1;
        info.weight = next_weight;
        info.weight_changed = true;
        AdvanceRequest {
            step: a.step + 1,
            started: now,
            tally: Default::default(),
            ..a.clone()
        }
    } else {
        return finish(ctx, target, dep, &current, a, info).await;
    };
    schedule_next(ctx, dep, a, &next, cfg, info).await
}

/// Schedules the check after this one and reports the rollout as it stands; if no check can be
/// scheduled, the rollout is rolled back: nobody would come back to it.
async fn schedule_next(
    ctx: &Ctx,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    next: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    mut info: RolloutInfo,
) -> Outcome {
    let f = a.function.as_str();
    match timed(ctx, &mut dep.steps, Step::Rollout, async {
        rollout::schedule_check(ctx, next, cfg)
            .await
            .map_err(StepError::new)
    })
    .await
    {
        Ok((name, due)) => {
            info.next_check_at = Some(due.to_rfc3339_opts(SecondsFormat::Secs, true));
            info.schedule = Some(name);
            // A verdict's note (inconclusive, report only) replaces "the gates passed".
            let said = dep
                .reason
                .take()
                .unwrap_or_else(|| "the gates passed".to_owned());
            dep.reason = Some(format!(
                "{}% of traffic on version {}, {said}; next check at {}",
                (info.weight * 100.0).round(),
                a.version,
                info.next_check_at.as_deref().unwrap_or_default()
            ));
            dep.rollout = Some(info);
            Outcome::RollingOut
        }
        Err(e) => {
            let why = format!(
                "the rollout's next check could not be scheduled ({})",
                e.reason
            );
            let weight = info.weight;
            let now_state = ctx.lambda.get_alias(f, &a.alias).await.ok().flatten();
            dep.rollout = Some(info);
            match now_state {
                // Still this rollout's split: nobody would come back to it, so it ends.
                Some(s) if s.is_exactly(a.stable_version, &[(a.version, weight)]) => {
                    stop(ctx, dep, &s, a.stable_version, a.version, why, Some(cfg)).await
                }
                _ => lost_alias(ctx, dep, &a.function, a, why).await,
            }
        }
    }
}

/// A weight change that did not happen: if the alias is still as this rollout left it, the same
/// check comes again later (the weight stays); if someone else changed it, it is theirs.
async fn not_moved(
    ctx: &Ctx,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    info: RolloutInfo,
    why: String,
) -> Outcome {
    let f = a.function.as_str();
    let now = ctx.lambda.get_alias(f, &a.alias).await;
    // Someone else's only when we can see it is; unreadable means try again later.
    let theirs = matches!(&now, Ok(s) if !s.as_ref().is_some_and(|s| s.is_exactly(a.stable_version, &[(a.version, info.weight)])));
    if theirs {
        return lost_alias(ctx, dep, &a.function, a, why).await;
    }
    dep.warnings.push(format!(
        "{why}; the weight stays at {}% and this check comes again",
        (info.weight * 100.0).round()
    ));
    schedule_next(ctx, dep, a, a, cfg, info).await
}

/// Every gate passed after the last step: the new version takes all traffic.
async fn finish(
    ctx: &Ctx,
    target: &Target,
    dep: &mut Deployment,
    current: &AliasState,
    a: &AdvanceRequest,
    mut info: RolloutInfo,
) -> Outcome {
    let f = a.function.as_str();
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
    if let Err(e) = moved {
        return not_moved(ctx, dep, a, &target.rollout, info, e.reason).await;
    }
    dep.version = Some(a.version);
    info.weight = 1.0;
    info.weight_changed = true;
    dep.rollout = Some(info);
    dep.reason = Some(format!(
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
    Outcome::Deployed
}

/// The alias changed between our read and our move: someone else acted; leave it to them.
async fn lost_alias(
    ctx: &Ctx,
    dep: &mut Deployment,
    function: &FunctionRef,
    a: &AdvanceRequest,
    why: String,
) -> Outcome {
    let now = ctx
        .lambda
        .get_alias(function.as_str(), &a.alias)
        .await
        .ok()
        .flatten();
    dep.version = now.as_ref().and_then(|s| s.target.version());
    dep.failed_step = Some(Step::Rollout);
    dep.failure_kind = Some(FailureKind::Conflict);
    dep.reason = Some(format!(
        "{why}; alias {} is now {}",
        a.alias,
        now.map(|s| s.describe())
            .unwrap_or_else(|| "unreadable".into())
    ));
    Outcome::Failed
}
