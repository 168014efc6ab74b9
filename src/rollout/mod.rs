//! Progressive delivery: the alias keeps the stable version and sends a share of the traffic to
//! the new one, step by step; each check is a one-time EventBridge Scheduler schedule that invokes
//! the deployer again with a continuation payload. No database: the state is the alias itself
//! (its version and split) plus the schedule's input.

pub mod baseline;
pub mod check;
mod forward;
pub mod gates;
mod next;
pub mod schedule;
pub mod standing;
pub mod stop;
pub mod synthetic;
pub mod verdict;

use crate::config::Rollout;
use crate::gateway::AliasState;
use crate::gateway::scheduler::OneTime;
use crate::input::AdvanceRequest;
pub use crate::ops::Rollouts;
use crate::ops::alias::{Weight, set_weight};
use crate::ops::{Ctx, FailureKind, StepError};
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
    let payload = crate::input::Payload::Advance(c).to_json();
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

/// The next pending check on (function, alias), for `status` and a sweep: `Ok(None)` when the schedule group was listed and
/// holds none (a split with nobody coming back: stalled), `Err` when it cannot be told.
pub async fn pending_check(
    ctx: &Ctx,
    function: &FunctionRef,
    alias: &AliasName,
) -> Result<Option<String>, String> {
    let r = &ctx.rollouts;
    let scheduler = r
        .scheduler
        .as_ref()
        .ok_or_else(|| "this deployer has no EventBridge Scheduler client".to_owned())?;
    let names = scheduler
        .list(&r.group, &schedule::alias_prefix(function, alias))
        .await
        .map_err(|e| e.to_string())?;
    Ok(names
        .iter()
        .filter_map(|n| schedule::due_of(n))
        .min()
        .map(rfc3339))
}

/// Deletes one pending check by name (a check made for a move that then did not happen). A check
/// left behind finds the alias not as it expects and ends `superseded`: a warning at most.
pub async fn delete_check(ctx: &Ctx, name: &str) -> Option<String> {
    let r = &ctx.rollouts;
    let scheduler = r.scheduler.as_ref()?;
    match scheduler.delete(&r.group, name).await {
        Ok(()) => None,
        Err(e) => Some(format!(
            "schedule {name} could not be deleted ({e}): it will find the alias changed and end superseded"
        )),
    }
}

/// The words a report carries whenever a weight may be left with nobody sure to come back: what
/// the alias may still do, and what a person runs to end it either way.
pub fn may_still_send(
    function: &FunctionRef,
    alias: &AliasName,
    new: Version,
    weight: f64,
) -> String {
    format!(
        "alias {alias} may still send {}% of traffic to version {new}: `self-deployer rollback --function {function}` takes it back, `self-deployer promote --function {function}` finishes it",
        (weight * 100.0).round()
    )
}

/// Starts a rollout of `new` on an alias that serves `stable`: first the first check's schedule,
/// then the first weight (guarded). Schedule, then shift: a move that fails or whose answer is
/// lost always has a check coming, which reads from the alias what really happened. If the
/// schedule cannot be made, nothing is moved: a canary is never left at a weight with nobody
/// coming back.
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
    let at = ctx.clock().now_utc();
    let c = AdvanceRequest {
        function: function.clone(),
        alias: alias.clone(),
        version: new,
        stable_version: stable,
        step: 1,
        started: at,
        tally: Default::default(),
    };
    let (name, due) = match schedule_check(ctx, &c, cfg).await {
        Ok(s) => s,
        Err(e) => {
            // A create whose answer was lost may have been applied: its check would find no
            // split and end superseded, but it is not left behind when it can be deleted.
            let leftover = schedule::name(&c, schedule::next_due(at, cfg.check_secs, at));
            if let Some(w) = delete_check(ctx, &leftover).await {
                tracing::warn!(warning = %w, "a first check may be left behind");
            }
            return Err(StepError::new(format!(
                "the rollout's first check could not be scheduled ({e}): the rollout was aborted, all traffic is on version {stable}"
            )));
        }
    };
    let info = RolloutInfo {
        stable_version: stable,
        new_version: new,
        step: 1,
        steps: cfg.steps.clone(),
        weight,
        weight_changed: true,
        next_check_at: Some(rfc3339(due)),
        schedule: Some(name.clone()),
        error_rate: None,
        check: None,
    };
    let w = Weight {
        stable,
        canary: new,
        weight,
        step: 1,
        at,
    };
    let Err(e) = set_weight(ctx, f, alias, current, &w).await else {
        return Ok(info);
    };
    // Did the weight land? Read the alias once more: the check is kept only if it may have.
    match ctx.lambda.get_alias(f, alias).await {
        Ok(Some(s)) if s.is_exactly(stable, &[(new, weight)]) => Ok(info),
        Ok(_) => {
            if let Some(w) = delete_check(ctx, &name).await {
                tracing::warn!(warning = %w, "the first check of a rollout that did not start is left behind");
            }
            Err(e)
        }
        Err(read) => Err(StepError::of(
            e.kind,
            format!(
                "{}; the first weight ({}%) may have been set all the same, and alias {alias} could not be read again ({read}): the check at {} reads which, and takes the rollout on from there or ends; meanwhile {}",
                e.message,
                (weight * 100.0).round(),
                rfc3339(due),
                may_still_send(function, alias, new, weight)
            ),
        )),
    }
}
