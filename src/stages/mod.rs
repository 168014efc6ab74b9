//! Stages: the same digest, promoted. When a deployment to a function that a later target follows
//! (`after`) ends `deployed`, a one-time EventBridge Scheduler schedule brings a promotion check
//! once the bake is over (`actions::promote_stage` runs it). No database: the check's payload
//! carries the digest, and the earlier stage's alias says whether it still runs it.

use crate::config::{Config, Target};
use crate::input::{Payload, PromoteStageRequest};
use crate::ops::Ctx;
use crate::report::{Outcome, PromotionCheck, Report};
use crate::rollout::schedule::hash12;
use crate::types::{Digest, FunctionRef};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Does `after_function` (as an `after` names it) name `function` (as configured)?
pub fn names(after_function: &FunctionRef, function: &FunctionRef) -> bool {
    if after_function.is_arn() && function.is_arn() {
        after_function == function
    } else {
        after_function.name() == function.name()
    }
}

/// The targets that follow `function`.
pub fn later_stages<'a>(config: &'a Config, function: &FunctionRef) -> Vec<&'a Target> {
    config
        .targets
        .iter()
        .filter(|t| {
            t.after
                .as_ref()
                .is_some_and(|a| names(&a.function, function))
        })
        .collect()
}

/// `sd-stage-<12 hex naming (from, to)>-`: every pending check of one pair of stages. Within the
/// deployer's `sd-*` schedules (its IAM policy), never a rollout's `sd-<12 hex>-` (`s` is no hex digit).
pub fn check_prefix(from: &FunctionRef, to: &FunctionRef) -> String {
    format!("sd-stage-{}-", hash12(from.as_str(), to.as_str()))
}

/// At most 64 characters of `[0-9a-zA-Z-_.]`, deterministic per (from, to, due): a duplicate
/// delivery of the deployment's report creates the same schedule, which the scheduler refuses.
pub fn check_name(from: &FunctionRef, to: &FunctionRef, due: DateTime<Utc>) -> String {
    format!("{}{}", check_prefix(from, to), due.format("%Y%m%dT%H%M%S"))
}

/// The payload of a promotion request (a check's schedule input, or what a person sends).
pub fn payload(
    from: &FunctionRef,
    to: &FunctionRef,
    digest: Option<&Digest>,
    due: Option<DateTime<Utc>>,
) -> Value {
    let request = PromoteStageRequest {
        from: from.clone(),
        to: to.clone(),
        digest: digest.cloned(),
        due,
        now: false,
        reason: None,
    };
    Payload::PromoteStage(&request).to_json()
}

/// What a person runs to promote now (the CLI; the Lambda payload is [`payload`] with `now`).
pub fn command(from: &FunctionRef, to: &FunctionRef) -> String {
    format!(
        "self-deployer promote-stage --from {} --to {} --now",
        from.as_str(),
        to.as_str()
    )
}

/// After a run: a promotion check for every stage that follows a function this run deployed.
/// Never fails the run: a check that cannot be scheduled is reported with its error (a person
/// can still promote by hand).
pub async fn schedule_checks(config: &Config, ctx: &Ctx, report: &mut Report) {
    if report.dry_run {
        return;
    }
    let mut checks = Vec::new();
    for d in report
        .deployments
        .iter()
        .filter(|d| d.outcome == Outcome::Deployed)
    {
        let later = later_stages(config, &d.function);
        if later.is_empty() {
            continue;
        }
        // The image the run deployed; a finished rollout's report names none, and then the
        // version the alias now serves says it.
        let mut digest = report
            .image_digest
            .as_deref()
            .and_then(|s| s.parse().ok())
            .or_else(|| d.code_sha256.as_deref().and_then(Digest::from_code_sha256));
        if digest.is_none()
            && let Some(v) = d.version
        {
            digest = version_digest(config, ctx, &d.function, v).await;
        }
        for t in later {
            let Some(after) = t.after.as_ref() else {
                continue;
            };
            let to = &t.functions[0];
            let due = due_after(ctx.clock().now_utc(), after.bake_secs);
            let mut check = PromotionCheck {
                from: d.function.to_string(),
                to: t.functions.iter().map(|f| f.to_string()).collect(),
                digest: digest.as_ref().map(|d| d.to_string()).unwrap_or_default(),
                due: due.to_rfc3339_opts(SecondsFormat::Secs, true),
                schedule: None,
                manual: after.manual,
                error: None,
            };
            match digest.as_ref() {
                None => check.error = Some("the digest the alias serves could not be told".into()),
                Some(digest) => match schedule(ctx, &d.function, to, digest, due).await {
                    Ok(name) => check.schedule = Some(name),
                    Err(e) => check.error = Some(e),
                },
            }
            if let Some(e) = &check.error {
                tracing::warn!(from = %check.from, to = %to, error = %e, "promotion check not scheduled");
            }
            checks.push(check);
        }
    }
    report.promotion_checks.extend(checks);
}

/// What `version` of `function` runs, read with its target's credentials; `None` if unknown.
async fn version_digest(
    config: &Config,
    ctx: &Ctx,
    function: &FunctionRef,
    version: crate::types::Version,
) -> Option<Digest> {
    let (_, target) = crate::config::stage::target_of(&config.targets, function, None)?;
    let tctx = crate::ops::accounts::ctx_for(ctx, target).await.ok()?;
    let state = tctx
        .lambda
        .get_function(function.as_str(), Some(&version.to_string()))
        .await
        .ok()?;
    state.digest()
}

/// `bake_secs` after `now`, rounded up to the second (schedules and records keep whole seconds,
/// and a check must never come before the bake is over).
fn due_after(now: DateTime<Utc>, bake_secs: u64) -> DateTime<Utc> {
    let up = i64::from(now.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(now.timestamp() + up + bake_secs as i64, 0).unwrap_or(now)
}

/// Replaces the pair's pending check (an older digest's) with one for `digest` at `due`.
async fn schedule(
    ctx: &Ctx,
    from: &FunctionRef,
    to: &FunctionRef,
    digest: &Digest,
    due: DateTime<Utc>,
) -> Result<String, String> {
    let r = &ctx.rollouts;
    let (scheduler, role, target) = r.ready()?;
    let name = check_name(from, to, due);
    // A check left behind would only end `superseded`; deleting it keeps the schedule list honest.
    match scheduler.list(&r.group, &check_prefix(from, to)).await {
        Ok(pending) => {
            for old in pending.into_iter().filter(|n| *n != name) {
                if let Err(e) = scheduler.delete(&r.group, &old).await {
                    tracing::warn!(schedule = %old, error = %e, "older promotion check not deleted");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "pending promotion checks could not be listed"),
    }
    let s = crate::gateway::scheduler::OneTime {
        group: r.group.clone(),
        name: name.clone(),
        at: due,
        target_arn: target.clone(),
        role_arn: role.clone(),
        input: payload(from, to, Some(digest), Some(due)).to_string(),
    };
    scheduler.create(&s).await.map_err(|e| e.to_string())?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn check_names_are_short_safe_and_per_pair() {
        let from = FunctionRef::parse(&"f".repeat(64)).unwrap();
        let to = FunctionRef::parse("api-prod").unwrap();
        let due = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let n = check_name(&from, &to, due);
        assert!(n.len() <= 64, "{n}");
        assert!(n.starts_with(&check_prefix(&from, &to)));
        assert!(n.ends_with("-20261204T120000"), "{n}");
        assert_ne!(check_prefix(&from, &to), check_prefix(&to, &from));
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }
}
