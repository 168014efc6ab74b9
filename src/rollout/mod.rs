//! Progressive delivery: the alias keeps the stable version and sends a share of the traffic to
//! the new one, step by step; each check is a one-time EventBridge Scheduler schedule that invokes
//! the deployer again with a continuation payload. No database: the state is the alias itself
//! (its version and split) plus the schedule's input.

pub mod check;
pub mod gates;
pub mod schedule;
pub mod stop;

use crate::config::Rollout;
use crate::gateway::AliasState;
use crate::gateway::scheduler::OneTime;
use crate::input::AdvanceRequest;
pub use crate::ops::Rollouts;
use crate::ops::{Ctx, FailureKind, StepError, shift};
use crate::record::MoveKind;
use crate::report::RolloutInfo;
use crate::types::{AliasName, FunctionRef, Version};
use chrono::{DateTime, SecondsFormat, Utc};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Schedules the check that continues `c`; returns the schedule's name and due time.
pub async fn schedule_check(
    ctx: &Ctx,
    c: &AdvanceRequest,
    cfg: &Rollout,
) -> Result<(String, DateTime<Utc>), String> {
    let r = &ctx.rollouts;
    let (scheduler, role, target) = r.ready()?;
    let due = schedule::next_due(c.started, cfg.check_secs, ctx.clock().now_utc());
    let name = schedule::name(c, due);
    let mut payload = serde_json::to_value(c).map_err(|e| e.to_string())?;
    if let Some(obj) = payload.as_object_mut() {
        obj.insert("action".into(), "advance".into());
        obj.insert("started".into(), rfc3339(c.started).into());
    }
    let s = OneTime {
        group: r.group.clone(),
        name: name.clone(),
        at: due,
        target_arn: target.clone(),
        role_arn: role.clone(),
        input: payload.to_string(),
    };
    scheduler.create(&s).await.map_err(|e| e.to_string())?;
    Ok((name, due))
}

/// Deletes the pending checks of every rollout on (function, alias) but `keep`'s. Returns warnings:
/// a schedule left behind finds the alias changed and ends `superseded`, so this never fails a run.
pub async fn delete_checks(
    ctx: &Ctx,
    function: &FunctionRef,
    alias: &AliasName,
    keep: Option<Version>,
) -> Vec<String> {
    let r = &ctx.rollouts;
    let Some(scheduler) = r.scheduler.as_ref() else {
        return Vec::new();
    };
    let prefix = schedule::alias_prefix(function, alias);
    let names = match scheduler.list(&r.group, &prefix).await {
        Ok(n) => n,
        Err(e) => return vec![format!("pending rollout checks could not be listed: {e}")],
    };
    let mut warnings = Vec::new();
    for name in names {
        if keep.is_some() && schedule::version_of(&name, &prefix) == keep {
            continue;
        }
        if let Err(e) = scheduler.delete(&r.group, &name).await {
            warnings.push(format!("schedule {name} could not be deleted: {e}"));
        }
    }
    warnings
}

/// The next pending check on (function, alias), for `status`.
pub async fn next_check(ctx: &Ctx, function: &FunctionRef, alias: &AliasName) -> Option<String> {
    let r = &ctx.rollouts;
    let names = r
        .scheduler
        .as_ref()?
        .list(&r.group, &schedule::alias_prefix(function, alias))
        .await
        .ok()?;
    names
        .iter()
        .filter_map(|n| schedule::due_of(n))
        .min()
        .map(rfc3339)
}

/// Starts a rollout of `new` on an alias that serves `stable`: the first weight (guarded), then
/// the first check's schedule. If the schedule cannot be made, the weight is taken back: a canary
/// is never left at a weight with nobody coming back.
pub async fn start(
    ctx: &Ctx,
    function: &FunctionRef,
    alias: &AliasName,
    current: &AliasState,
    stable: Version,
    new: Version,
    cfg: &Rollout,
) -> Result<RolloutInfo, StepError> {
    if let Some(why) = ctx.rollouts.missing() {
        return Err(StepError::of(FailureKind::NotConfigured, why));
    }
    let weight = cfg.weight(1).unwrap_or_default();
    let f = function.as_str();
    let moved = shift(
        ctx,
        f,
        alias,
        Some(current),
        stable,
        vec![(new, weight)],
        MoveKind::Rollout,
    )
    .await?;
    let c = AdvanceRequest {
        function: function.clone(),
        alias: alias.clone(),
        version: new,
        stable_version: stable,
        step: 1,
        started: ctx.clock().now_utc(),
    };
    let (name, due) = match schedule_check(ctx, &c, cfg).await {
        Ok(s) => s,
        Err(e) => {
            let mut why = format!("the rollout's first check could not be scheduled ({e})");
            // Take the weight back, guarded by the RevisionId our own move returned (or, without
            // one, only if the alias is still exactly as we set it): never over someone else's.
            let ours = match moved.revision.clone() {
                Some(revision_id) => Some(AliasState {
                    revision_id,
                    target: crate::types::AliasTarget::Version(stable),
                    routing: vec![(new, weight)],
                    description: String::new(),
                    transition: None,
                }),
                None => ctx
                    .lambda
                    .get_alias(f, alias)
                    .await
                    .ok()
                    .flatten()
                    .filter(|s| s.is_exactly(stable, &[(new, weight)])),
            };
            let back = match ours.as_ref() {
                Some(state) => shift(
                    ctx,
                    f,
                    alias,
                    Some(state),
                    stable,
                    Vec::new(),
                    MoveKind::Rollback,
                )
                .await
                .map(|_| ()),
                None => Err(StepError::new(
                    "the alias is no longer as the rollout set it",
                )),
            };
            match back {
                Ok(()) => why.push_str(&format!(
                    ": the rollout was aborted, all traffic is on version {stable}"
                )),
                Err(back) => why.push_str(&format!(
                    "; taking the weight back failed too ({}): alias {alias} may still send {}% to version {new}",
                    back.message,
                    (weight * 100.0).round()
                )),
            }
            return Err(StepError::new(why));
        }
    };
    Ok(RolloutInfo {
        stable_version: stable,
        new_version: new,
        step: 1,
        steps: cfg.steps.clone(),
        weight,
        weight_changed: true,
        next_check_at: Some(rfc3339(due)),
        schedule: Some(name),
        error_rate: None,
    })
}
