//! After a check has decided: schedule the next one and report the rollout as it stands, or, when
//! no check can be scheduled, take the traffic back (nobody would come back to it); and what to
//! say when the alias is no longer this rollout's.

use crate::input::AdvanceRequest;
use crate::ops::{Ctx, StepError, timed};
use crate::report::{Deployment, End, Ended, FailureKind, RolloutInfo, Step};
use crate::rollout::standing::of_check;
use crate::rollout::{
    self,
    stop::{gate_failed, stop},
};

/// Schedules `next` and reports the rollout as it stands (`kept`: why the weight did not move,
/// told only once a check is really coming); if no check can be scheduled, the rollout is rolled
/// back: nobody would come back to it.
pub(super) async fn schedule_next(
    ctx: &Ctx,
    dep: &mut Deployment,
    next: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    mut info: RolloutInfo,
    kept: Option<String>,
) -> Ended {
    match schedule_step(ctx, dep, next, cfg).await {
        Ok((name, due)) => {
            info.next_check_at = Some(super::rfc3339(due));
            info.schedule = Some(name);
            if let Some(why) = kept {
                dep.warnings.push(format!(
                    "{why}; the weight stays at {}% and the check at {} tries again",
                    (info.weight * 100.0).round(),
                    info.next_check_at.as_deref().unwrap_or_default()
                ));
            }
            rolling(dep, info)
        }
        Err(e) => {
            let mut why = format!(
                "the rollout's next check could not be scheduled ({})",
                e.reason
            );
            if let Some(kept) = kept {
                why = format!("{kept}; {why}");
            }
            cannot_schedule(ctx, dep, next, cfg, info, why).await
        }
    }
}

/// Schedules check `c`, timed as a step of the rollout: the name and when it comes.
pub(super) async fn schedule_step(
    ctx: &Ctx,
    dep: &mut Deployment,
    c: &AdvanceRequest,
    cfg: &crate::config::Rollout,
) -> Result<(String, chrono::DateTime<chrono::Utc>), crate::ops::Failure> {
    timed(ctx, &mut dep.steps, Step::Rollout, async {
        rollout::schedule_check(ctx, c, cfg)
            .await
            .map_err(StepError::new)
    })
    .await
}

/// The rollout stands at `info` and a check is coming: `rolling_out`, with what the gates said
/// (a verdict's note, inconclusive or report only, replaces "the gates passed").
pub(super) fn rolling(dep: &mut Deployment, info: RolloutInfo) -> Ended {
    let said = info
        .check
        .as_ref()
        .and_then(|c| c.note.clone())
        .unwrap_or_else(|| "the gates passed".to_owned());
    let end = End::rolling_out(format!(
        "{}% of traffic on version {}, {said}; next check at {}",
        (info.weight * 100.0).round(),
        info.new_version,
        info.next_check_at.as_deref().unwrap_or_default()
    ));
    dep.rollout = Some(info);
    dep.end(end)
}

/// No check can be scheduled: while the alias is still this rollout's, it is rolled back (nobody
/// would come back to it); if it cannot even be read, the report says what it may still do.
pub(super) async fn cannot_schedule(
    ctx: &Ctx,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    cfg: &crate::config::Rollout,
    info: RolloutInfo,
    why: String,
) -> Ended {
    let weight = info.weight;
    dep.rollout = Some(info);
    match ctx.lambda.get_alias(a.function.as_str(), &a.alias).await {
        Ok(Some(s)) if of_check(&s, a, cfg).is_some() => {
            let why = gate_failed(why);
            stop(ctx, dep, &s, a.stable_version, a.version, why, Some(cfg)).await
        }
        Ok(_) => lost_alias(ctx, dep, a, why).await,
        Err(read) => {
            let reason = format!(
                "{why}, and alias {} could not be read to take the weight back ({read}): {}",
                a.alias,
                rollout::may_still_send(&a.function, &a.alias, a.version, weight)
            );
            dep.fail(Step::Rollout, FailureKind::from(read.kind), reason)
        }
    }
}

/// The alias changed between our read and our move: someone else acted; leave it to them.
pub(super) async fn lost_alias(
    ctx: &Ctx,
    dep: &mut Deployment,
    a: &AdvanceRequest,
    why: String,
) -> Ended {
    let now = ctx
        .lambda
        .get_alias(a.function.as_str(), &a.alias)
        .await
        .ok()
        .flatten();
    dep.version = now.as_ref().and_then(|s| s.target.version());
    let reason = format!(
        "{why}; alias {} is now {}",
        a.alias,
        now.map(|s| s.describe())
            .unwrap_or_else(|| "unreadable".into())
    );
    dep.fail(Step::Rollout, FailureKind::Conflict, reason)
}
