//! Instant rollback: move the alias back to an earlier, immutable version (or clear a canary
//! split). No rebuild, no update of `$LATEST`, one guarded UpdateAlias.

use super::Deps;
use crate::gateway::{AliasState, ErrorKind};
use crate::input::{InputError, RollbackRequest};
use crate::ops::settle::{self, Settled};
use crate::ops::{Failure, FailureKind, Moved, StepError, promote, timed};
use crate::pipeline::image_checks;
use crate::record::{MoveKind, VersionRecord};
use crate::report::{ActionKind, Deployment, End, Report, Step};
use crate::types::{AliasName, ImageRef, Version};

pub async fn on_rollback(deps: &Deps<'_>, r: &RollbackRequest) -> Result<Report, InputError> {
    let reached = crate::ops::reach_or_return!(deps, &r.function, ActionKind::Rollback);
    let (function, target, deps) = (reached.function, reached.target, &reached.deps);
    let alias = r.alias.clone().unwrap_or_else(|| target.alias.clone());
    let mut dep = Deployment::new(function.clone(), alias.clone());
    // Rollbacks are never gated, but the report shows what ECR says of the target's image now.
    let show_scan = target.image_checks.is_some();
    match run(deps, &alias, r, show_scan, &mut dep).await {
        Ok(end) => {
            dep.end(end);
        }
        Err(f) => {
            tracing::warn!(function = %function, step = ?f.step, reason = %f.reason, "rollback failed");
            dep.fail(f.step, f.kind, f.reason);
        }
    }
    let mut report = Report::new(ActionKind::Rollback).with_deployments(vec![dep]);
    report.dry_run = r.dry_run;
    report.repository = Some(target.repository.to_string());
    report.request_reason = r.reason.clone();
    Ok(report)
}

/// Where the alias is and where it would go.
struct Plan {
    alias: AliasState,
    current: Version,
    target: Version,
    /// How the target was chosen, for the report.
    how: String,
    target_image: Option<ImageRef>,
    /// Lambda already says the target's image was deleted (StateReasonCode `ImageDeleted`).
    target_deleted: Option<String>,
}

async fn run(
    deps: &Deps<'_>,
    alias: &AliasName,
    req: &RollbackRequest,
    show_scan: bool,
    dep: &mut Deployment,
) -> Result<End, Failure> {
    let ctx = &deps.ctx;
    let f = dep.function.as_str().to_owned();
    let plan = timed(
        ctx,
        &mut dep.steps,
        Step::Resolve,
        plan(deps, &f, alias, req.version),
    )
    .await?;
    dep.previous_version = Some(plan.current);
    dep.version = Some(plan.current);
    // The target's image: how GitHub's deployment of it is found when it was created at its run's
    // start, before the version was known.
    dep.at_start.image_digest = plan.target_image.as_ref().map(|i| i.digest.to_string());
    let from = plan.alias.describe();
    if plan.target == plan.current && !plan.alias.has_routing() {
        return Ok(End::already_live(format!(
            "alias {alias} already points to version {}",
            plan.target
        )));
    }
    if !req.force && plan.target != plan.current {
        timed(
            ctx,
            &mut dep.steps,
            Step::CheckImage,
            image_still_there(deps, &plan),
        )
        .await?;
    }
    let moves = format!(
        "from version {from} to version {} ({})",
        plan.target, plan.how
    );
    let scan_of_target = async {
        match plan.target_image.as_ref().filter(|_| show_scan) {
            Some(image) => image_checks::current_scan(&deps.ctx.ecr, image).await,
            None => None,
        }
    };
    if req.dry_run {
        dep.image_checks = scan_of_target.await;
        return Ok(End::would_roll_back(format!(
            "dry run: would move alias {alias} {moves}"
        )));
    }
    let pc = settle::provisioned_before(ctx, dep).await;
    let promoted = timed(
        ctx,
        &mut dep.steps,
        Step::PromoteAlias,
        promote(
            ctx,
            &f,
            alias,
            Some(&plan.alias),
            plan.target,
            MoveKind::Rollback,
        ),
    )
    .await?;
    dep.version = Some(plan.target);
    if promoted.moved == Moved::ByAnotherRun {
        return Ok(End::already_live(format!(
            "alias {alias} already points to version {}: another run moved it there first",
            plan.target
        )));
    }
    // Time to restore counts from when the alias last moved to what it served (our record of
    // that move, only while it describes the alias as found: a person's change has no time).
    dep.bad_live_since = plan
        .alias
        .record()
        .filter(|r| r.to == plan.current)
        .map(|r| r.moved);
    end_split(deps, dep, alias, &plan).await;
    tracing::info!(function = %f, alias = %alias, from = %from, to = %plan.target, "rolled back");
    reject_what_was_taken_away(ctx, dep, &f, &plan).await;
    let waited = settle::settle_or_say(ctx, dep, plan.target, &promoted, pc.as_ref()).await;
    if let Settled::AllocationFailed(failed) = waited {
        return Err(stays_unready(failed, alias, &plan, &moves));
    }
    // After the move, so that it never delays it; a scan that cannot be read is left out.
    dep.image_checks = scan_of_target.await;
    Ok(End::rolled_back(format!("alias {alias} moved {moves}")))
}

/// A split the rollback cleared (a rollout, or a canary set by hand) is reported, and its pending
/// check deleted: a rollout ended by hand must not come back.
async fn end_split(deps: &Deps<'_>, dep: &mut Deployment, alias: &AliasName, plan: &Plan) {
    let Some((new, weight)) = plan.alias.canary() else {
        return;
    };
    dep.rollout = Some(crate::report::RolloutInfo {
        stable_version: plan.current,
        new_version: new,
        step: 0,
        steps: Vec::new(),
        weight,
        weight_changed: true,
        next_check_at: None,
        schedule: None,
        error_rate: None,
        check: None,
    });
    let function = dep.function.clone();
    dep.warnings
        .extend(crate::rollout::delete_checks(&deps.ctx, &function, alias, None).await);
}

/// The target's provisioned concurrency failed after the move. Production was already bad
/// before the rollback, so the alias is never moved again automatically: the failure says so.
fn stays_unready(failed: Failure, alias: &AliasName, plan: &Plan, moves: &str) -> Failure {
    Failure {
        reason: format!(
            "{}; alias {alias} stays on version {} (moved {moves}): it has no provisioned concurrency ready, so requests wait for cold starts or are throttled. Fix what stops version {} from initialising, or roll back to another version by hand",
            failed.reason, plan.target, plan.target
        ),
        ..failed
    }
}

/// Lambda could start the target version: its image still exists (Lambda's own state first: it
/// knows even when ECR cannot be asked, in another account).
async fn image_still_there(deps: &Deps<'_>, plan: &Plan) -> Result<(), StepError> {
    let image = plan.target_image.clone();
    let deleted = plan.target_deleted.clone();
    let target = plan.target;
    let image = image.ok_or_else(|| {
        StepError::new(format!(
            "cannot tell which ECR image version {target} runs, so cannot check it still exists; pass force to roll back anyway"
        ))
    })?;
    // Lambda's own state first: it knows even when ECR cannot be asked (another account).
    if let Some(why) = deleted {
        return Err(StepError::of(
            FailureKind::ImageRejected,
            format!("version {target} cannot start: {why}; pass force to roll back anyway"),
        ));
    }
    match deps.ctx.ecr.image_exists(&image).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(StepError::of(
            FailureKind::ImageRejected,
            format!(
                "version {target} runs {}, which no longer exists in ECR (a lifecycle rule?): Lambda could not start it; pass force to roll back anyway",
                image.uri()
            ),
        )),
        Err(e) => Err(StepError::new(format!(
            "{e}; pass force to roll back without this check"
        ))),
    }
}

async fn reject_what_was_taken_away(
    ctx: &crate::ops::Ctx,
    dep: &mut Deployment,
    f: &str,
    plan: &Plan,
) {
    // What was taken away (the canary's version when a split was cleared) must not come back
    // with the next reconcile sweep.
    let gone = plan.alias.canary().map_or(plan.current, |(v, _)| v);
    if gone != plan.target
        && let Ok(s) = ctx.lambda.get_function(f, Some(&gone.to_string())).await
        // A sweep sees what was pushed: the image index, when the image was chosen from one.
        && let Some(d) = VersionRecord::parse(&s.description)
            .and_then(|r| r.index)
            .or_else(|| s.digest())
        && let Some(w) = crate::marks::reject(&ctx.lambda, f, &d).await
    {
        dep.warnings.push(w);
    }
}

async fn plan(
    deps: &Deps<'_>,
    f: &str,
    alias: &AliasName,
    explicit: Option<Version>,
) -> Result<Plan, StepError> {
    let lambda = &deps.ctx.lambda;
    let alias_state = lambda.get_alias(f, alias).await?.ok_or_else(|| {
        StepError::new(format!(
            "alias {alias} does not exist: there is nothing to roll back"
        ))
    })?;
    let current = alias_state.target.version().ok_or_else(|| {
        StepError::new(format!(
            "alias {alias} points to $LATEST, not a version: there is no earlier version it ran"
        ))
    })?;
    let (target, how) = match explicit {
        Some(v) => (v, "version named in the request".to_owned()),
        // A canary split set by hand (or a rollout): rolling back means all traffic on the
        // version the alias itself names.
        None if alias_state.has_routing() => (current, "the split is cleared".to_owned()),
        None => previous_of(deps, f, current).await?,
    };
    let target_state = if target == current {
        None
    } else {
        Some(
            lambda
                .get_function(f, Some(&target.to_string()))
                .await
                .map_err(|e| {
                    if e.is(ErrorKind::NotFound) {
                        StepError::of(
                            FailureKind::NotFound,
                            format!("version {target} does not exist"),
                        )
                    } else {
                        StepError::new(format!("GetFunction {target} failed: {}", e.message))
                    }
                })?,
        )
    };
    let target_image = target_state
        .as_ref()
        .and_then(|s| s.image_uri.as_deref())
        .and_then(|u| u.parse::<ImageRef>().ok());
    Ok(Plan {
        alias: alias_state,
        current,
        target,
        how,
        target_image,
        target_deleted: target_state.as_ref().and_then(|s| s.image_deleted()),
    })
}

/// The version that was live before `current`: recorded exactly in the description of versions
/// this deployer published (`previous=N`), if that version still exists; otherwise the highest
/// existing numbered version below `current`.
async fn previous_of(
    deps: &Deps<'_>,
    f: &str,
    current: Version,
) -> Result<(Version, String), StepError> {
    let lambda = &deps.ctx.lambda;
    let live = lambda
        .get_function(f, Some(&current.to_string()))
        .await
        .map_err(|e| StepError::new(format!("GetFunction {current} failed: {}", e.message)))?;
    let recorded = VersionRecord::parse(&live.description).and_then(|r| r.previous);
    if let Some(prev) = recorded {
        match lambda.get_function(f, Some(&prev.to_string())).await {
            Ok(_) => return Ok((prev, format!("version {current} recorded previous={prev}"))),
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => {
                return Err(StepError::new(format!(
                    "GetFunction {prev} failed: {}",
                    e.message
                )));
            }
        }
    }
    let versions: Vec<Version> = lambda
        .list_versions(f)
        .await?
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    rollback_target(current, recorded, &versions).ok_or_else(|| {
        StepError::new(format!(
            "there is no version below {current} to roll back to"
        ))
    })
}

/// Where a rollback without a version goes, from the versions that exist: the recorded previous
/// version if it still exists, else the highest existing version below `current`. Pure, shared with
/// `status`, so that what status shows is what a rollback would do.
pub fn rollback_target(
    current: Version,
    recorded: Option<Version>,
    existing: &[Version],
) -> Option<(Version, String)> {
    if let Some(prev) = recorded.filter(|p| existing.contains(p)) {
        return Some((prev, format!("version {current} recorded previous={prev}")));
    }
    let below = existing.iter().copied().filter(|v| *v < current).max()?;
    let why = match recorded {
        Some(prev) => format!(
            "highest version below {current}: the recorded previous={prev} no longer exists"
        ),
        None => format!("highest version below {current}: version {current} records no previous"),
    };
    Some((below, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_previous_wins_while_it_exists_then_the_highest_below() {
        let v = |n| Version::new(n).unwrap();
        let vs: Vec<Version> = [1, 4, 2, 7, 9].iter().map(|n| v(*n)).collect();
        assert_eq!(rollback_target(v(7), None, &vs).map(|t| t.0), Some(v(4)));
        assert_eq!(rollback_target(v(9), None, &vs).map(|t| t.0), Some(v(7)));
        assert_eq!(rollback_target(v(1), None, &vs), None);
        assert_eq!(
            rollback_target(v(9), Some(v(2)), &vs).map(|t| t.0),
            Some(v(2))
        );
        let (t, why) = rollback_target(v(9), Some(v(3)), &vs).unwrap();
        assert_eq!(t, v(7));
        assert!(why.contains("previous=3 no longer exists"), "{why}");
    }
}
