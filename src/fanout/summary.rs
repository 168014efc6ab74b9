//! One summary per fleet: `DEPLOYED api v2 to 498 of 500 functions; 2 failed: f17 (…), f233 (…)`.
//!
//! The runs of a fan-out are asynchronous and the deployer has no database, so the summary is
//! gathered from the functions themselves: the dispatching run schedules a one-time check
//! (EventBridge Scheduler) for about when the fleet should be done; the check reads each
//! function's alias (does it run the image, or record this rollback?) and, for those that do not,
//! the failure tag its run left (`self-deployer:fleet-failure`, naming the fleet's key and why).
//! Until every function has an outcome, the check schedules itself again a minute later; after
//! `DEPLOYER_FLEET_REPORT_SECS` it sends the summary anyway, naming the stragglers. Meanwhile the
//! batches' runs notify each failure at once and no success (see `quiet.rs`).

use crate::input::{FleetKind, FleetReportRequest, Payload};
use crate::ops::{Ctx, Deps};
use crate::record::{AliasRecord, MoveKind};
use crate::report::{ActionKind, FleetSummary, Outcome, Report};
use crate::types::{Digest, FunctionRef};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// Where a batch's run leaves a function's failure for the summary: `KEY why`.
pub const FAILURE_TAG: &str = "self-deployer:fleet-failure";
/// How often an unfinished fleet is looked at again.
pub const RECHECK: Duration = Duration::from_secs(60);
/// Names in a summary, per list; the rest are counted.
const NAMED: usize = 10;

/// The first check: when a fleet of `n` should be done at `rps` (4 calls a function, the longest
/// update on top), and never sooner than a minute.
pub fn first_check_after(n: usize, rps: u32) -> Duration {
    let calls = (n * 4) as f64 / f64::from(rps.max(1));
    Duration::from_secs_f64(calls) + Duration::from_secs(90)
}

/// A fleet's key: its kind, when it started, and (a deploy) the image.
pub fn key(kind: FleetKind, started: DateTime<Utc>, digest: Option<&Digest>) -> String {
    let k = match kind {
        FleetKind::Deploy => "deploy",
        FleetKind::Rollback => "rollback",
    };
    match digest {
        Some(d) => format!("{k}-{}-{}", started.timestamp(), &d.hex()[..12]),
        None => format!("{k}-{}", started.timestamp()),
    }
}

/// Schedules a fleet's first summary check; `Err` says why there will be no summary (then every
/// function's run tells its own outcome, as with `DEPLOYER_NOTIFY_FLEET=each`).
pub async fn schedule(deps: &Deps<'_>, payload: &Value, n: usize) -> Result<(), String> {
    if deps.config.fleet.notify == crate::config::fleet::NotifyFleet::Each {
        return Err("DEPLOYER_NOTIFY_FLEET is each".into());
    }
    let after = first_check_after(n, deps.config.fleet.control_plane_rps);
    create(&deps.ctx, payload, after).await
}

async fn create(ctx: &Ctx, payload: &Value, after: Duration) -> Result<(), String> {
    let r = &ctx.rollouts;
    let (scheduler, role, target) = r.ready()?;
    let at =
        ctx.clock().now_utc() + chrono::Duration::from_std(after).map_err(|e| e.to_string())?;
    let key = payload["key"].as_str().unwrap_or("fleet");
    let s = crate::gateway::scheduler::OneTime {
        group: r.group.clone(),
        name: format!("fleet-{key}-{}", at.timestamp()),
        at,
        target_arn: target.clone(),
        role_arn: role.clone(),
        input: payload.to_string(),
    };
    scheduler
        .create(&s)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Where one function of the fleet is.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Done,
    Failed(String),
    Pending,
    /// A rollback by digest: this function did not run it, so it was never asked.
    NotAsked,
}

/// The check: reads every function; the summary when all are done or time is up, else schedules
/// the next check.
pub async fn on_report(deps: &Deps<'_>, r: &FleetReportRequest) -> Report {
    let functions = crate::input::members::select(
        super::members::configured(deps.config, &r.repository),
        r.members.as_deref(),
    );
    let states: Vec<(FunctionRef, State)> = futures_util::stream::iter(functions)
        .map(|(f, alias)| async move {
            let s = state_of(&deps.ctx, r, &f, &alias).await;
            (f, s)
        })
        .buffered(32)
        .collect()
        .await;
    let asked: Vec<&(FunctionRef, State)> = states
        .iter()
        .filter(|(_, s)| *s != State::NotAsked)
        .collect();
    let pending = asked.iter().filter(|(_, s)| *s == State::Pending).count();
    let waited = deps
        .ctx
        .clock()
        .now_utc()
        .signed_duration_since(r.started)
        .to_std()
        .unwrap_or_default();
    let action = match r.kind {
        FleetKind::Deploy => ActionKind::Deploy,
        FleetKind::Rollback => ActionKind::Rollback,
    };
    let give_up = waited >= Duration::from_secs(deps.config.fleet.report_secs);
    if pending > 0 && !give_up {
        // The same check again: this very request, as it came.
        let p = Payload::fleet_report(r).to_json();
        let mut report = Report::skipped(
            action,
            format!(
                "{pending} of {} functions have no outcome yet: checked again in {} s",
                asked.len(),
                RECHECK.as_secs()
            ),
        );
        if let Err(e) = create(&deps.ctx, &p, RECHECK).await {
            report = Report::failed(
                action,
                format!(
                    "{pending} of {} functions have no outcome yet, and the next check could not be scheduled: {e}",
                    asked.len()
                ),
            );
        }
        report.repository = Some(r.repository.to_string());
        return report;
    }
    summary(r, action, &asked, deps.config.fleet.report_secs)
}

async fn state_of(
    ctx: &Ctx,
    r: &FleetReportRequest,
    f: &FunctionRef,
    alias: &crate::types::AliasName,
) -> State {
    let name = f.as_str();
    let done = match (r.kind, &r.image) {
        (FleetKind::Deploy, Some(image)) => ctx
            .lambda
            .get_function(name, Some(alias.as_str()))
            .await
            .ok()
            .and_then(|s| s.digest())
            .is_some_and(|d| d == image.digest),
        _ => {
            let rolled = ctx
                .lambda
                .get_alias(name, alias)
                .await
                .ok()
                .flatten()
                .and_then(|a| AliasRecord::parse(&a.description))
                .is_some_and(|rec| rec.kind == MoveKind::Rollback && rec.moved >= r.started);
            if !rolled
                && let Some(d) = &r.digest
                && let Ok(s) = ctx.lambda.get_function(name, Some(alias.as_str())).await
                && s.digest().as_ref() != Some(d)
            {
                return State::NotAsked;
            }
            rolled
        }
    };
    if done {
        return State::Done;
    }
    let tags = match ctx.lambda.function_arn(name).await {
        Ok(arn) => ctx.lambda.tags(&arn).await.unwrap_or_default(),
        Err(_) => Default::default(),
    };
    match tags
        .get(FAILURE_TAG)
        .and_then(|v| v.strip_prefix(r.key.as_str()))
    {
        Some(why) => State::Failed(why.trim().to_owned()),
        None => State::Pending,
    }
}

fn summary(
    r: &FleetReportRequest,
    action: ActionKind,
    asked: &[&(FunctionRef, State)],
    report_secs: u64,
) -> Report {
    let n = asked.len();
    let done = asked.iter().filter(|(_, s)| *s == State::Done).count();
    let failed: Vec<String> = asked
        .iter()
        .filter_map(|(f, s)| match s {
            State::Failed(why) => Some(format!("{} ({why})", f.name())),
            _ => None,
        })
        .collect();
    let pending: Vec<String> = asked
        .iter()
        .filter(|(_, s)| *s == State::Pending)
        .map(|(f, _)| f.name().to_owned())
        .collect();
    let what = match (r.kind, &r.image) {
        (FleetKind::Deploy, Some(i)) => {
            let label = i
                .tag
                .as_ref()
                .map_or_else(|| i.digest.short(), |t| t.to_string());
            format!(
                "DEPLOYED {} {label} to {done} of {n} functions",
                r.repository
            )
        }
        _ => format!("ROLLED BACK {} on {done} of {n} functions", r.repository),
    };
    let mut line = what.clone();
    if !failed.is_empty() {
        line.push_str(&format!("; {} failed: {}", failed.len(), named(&failed)));
    }
    if !pending.is_empty() {
        line.push_str(&format!(
            "; {} without an outcome after {report_secs} s: {}",
            pending.len(),
            named(&pending)
        ));
    }
    let mut subject = what;
    if !failed.is_empty() {
        subject.push_str(&format!("; {} failed", failed.len()));
    }
    if !pending.is_empty() {
        subject.push_str(&format!("; {} unfinished", pending.len()));
    }
    let outcome = match (failed.is_empty() && pending.is_empty(), r.kind) {
        (false, _) => Outcome::Failed,
        (true, FleetKind::Deploy) => Outcome::Deployed,
        (true, FleetKind::Rollback) => Outcome::RolledBack,
    };
    let mut report = Report::of_fleet(action, outcome, line);
    report.repository = Some(r.repository.to_string());
    if let Some(i) = &r.image {
        report.image_uri = Some(i.uri());
        report.image_digest = Some(i.digest.to_string());
        report.image_tag = i.tag.as_ref().map(|t| t.to_string());
    }
    report.fleet = Some(FleetSummary {
        subject,
        functions: n,
        done,
        failed: failed.len(),
        unfinished: pending.len(),
    });
    report
}

fn named(names: &[String]) -> String {
    crate::text::first_names(names, NAMED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_check_comes_when_the_fleet_should_be_done() {
        assert_eq!(first_check_after(500, 10), Duration::from_secs(290));
        assert_eq!(first_check_after(30, 10), Duration::from_secs(102));
    }
}
