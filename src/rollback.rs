//! Instant rollback: move the alias back to an earlier, immutable version. No rebuild, no update
//! of `$LATEST`, one guarded UpdateAlias.

use crate::action::RollbackRequest;
use crate::aws::{describe, is_not_found};
use crate::deploy::publish::VersionRecord;
use crate::deploy::resolve::AliasState;
use crate::deploy::state::FunctionState;
use crate::deploy::{Ctx, Failure, StepError, promote, timed};
use crate::report::{Deployment, Outcome, Step};
use crate::types::{AliasName, AliasTarget, FunctionRef, ImageRef, Version};

/// Where the alias is and where it would go.
struct Plan {
    alias: AliasState,
    current: Version,
    target: Version,
    /// How the target was chosen, for the report.
    how: String,
    target_image: Option<ImageRef>,
}

pub async fn rollback(
    ctx: &Ctx,
    ecr: &aws_sdk_ecr::Client,
    function: &FunctionRef,
    alias: &AliasName,
    req: &RollbackRequest,
) -> Deployment {
    let mut dep = Deployment::new(function.clone(), alias.clone());
    match run(ctx, ecr, function, alias, req, &mut dep).await {
        Ok(outcome) => dep.outcome = outcome,
        Err(f) => {
            tracing::warn!(function = %function, step = ?f.step, reason = %f.error.reason, "rollback failed");
            dep.outcome = Outcome::Failed;
            dep.failed_step = Some(f.step);
            dep.reason = Some(f.error.reason);
        }
    }
    dep
}

async fn run(
    ctx: &Ctx,
    ecr: &aws_sdk_ecr::Client,
    function: &FunctionRef,
    alias: &AliasName,
    req: &RollbackRequest,
    dep: &mut Deployment,
) -> Result<Outcome, Failure> {
    let f = function.as_str();
    let plan = timed(
        &ctx.clock,
        &mut dep.steps,
        Step::Resolve,
        plan(ctx, f, alias, req.version),
    )
    .await?;
    dep.previous_version = Some(plan.current);
    dep.version = Some(plan.current);
    if plan.target == plan.current {
        dep.reason = Some(format!(
            "alias {alias} already points to version {}",
            plan.target
        ));
        return Ok(Outcome::AlreadyLive);
    }
    if !req.force {
        let image = plan.target_image.clone();
        timed(&ctx.clock, &mut dep.steps, Step::CheckImage, async {
            let image = image.ok_or_else(|| {
                StepError::new(format!(
                    "cannot tell which ECR image version {} runs, so cannot check it still exists; pass force to roll back anyway",
                    plan.target
                ))
            })?;
            match crate::ecr::image_exists(ecr, &image).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(StepError::new(format!(
                    "version {} runs {}, which no longer exists in ECR (a lifecycle rule?): Lambda could not start it; pass force to roll back anyway",
                    plan.target,
                    image.uri()
                ))),
                Err(e) => Err(StepError::new(format!("{e}; pass force to roll back without this check"))),
            }
        })
        .await?;
    }
    if req.dry_run {
        dep.reason = Some(format!(
            "dry run: would move alias {alias} from version {} to version {} ({})",
            plan.current, plan.target, plan.how
        ));
        return Ok(Outcome::WouldRollBack);
    }
    timed(
        &ctx.clock,
        &mut dep.steps,
        Step::PromoteAlias,
        promote::promote(&ctx.lambda, f, alias, Some(&plan.alias), plan.target),
    )
    .await?;
    dep.version = Some(plan.target);
    dep.reason = Some(format!(
        "alias {alias} moved from version {} to version {} ({})",
        plan.current, plan.target, plan.how
    ));
    tracing::info!(function = f, alias = %alias, from = %plan.current, to = %plan.target, "rolled back");
    Ok(Outcome::RolledBack)
}

async fn plan(
    ctx: &Ctx,
    f: &str,
    alias: &AliasName,
    explicit: Option<Version>,
) -> Result<Plan, StepError> {
    let lambda = &ctx.lambda;
    let got = lambda
        .get_alias()
        .function_name(f)
        .name(alias.as_str())
        .send()
        .await
        .map_err(|e| {
            if is_not_found(&e) {
                StepError::new(format!(
                    "alias {alias} does not exist ({}): there is nothing to roll back",
                    describe(&e)
                ))
            } else {
                StepError::new(format!("GetAlias failed: {}", describe(&e)))
            }
        })?;
    let alias_state = AliasState::from_output(&got, alias)?;
    let current = match alias_state.target {
        AliasTarget::Version(v) => v,
        AliasTarget::Latest => {
            return Err(StepError::new(format!(
                "alias {alias} points to $LATEST, not a version: there is no earlier version it ran"
            )));
        }
    };

    let (target, how) = match explicit {
        Some(v) => (v, "version named in the request".to_owned()),
        None => previous_of(ctx, f, current).await?,
    };
    let target_state = if target == current {
        None
    } else {
        let out = lambda
            .get_function()
            .function_name(f)
            .qualifier(target.to_string())
            .send()
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    StepError::new(format!("version {target} does not exist"))
                } else {
                    StepError::new(format!("GetFunction {target} failed: {}", describe(&e)))
                }
            })?;
        Some(FunctionState::from_output(&out).map_err(StepError::new)?)
    };
    let target_image = target_state
        .as_ref()
        .and_then(|s| s.image_uri.as_deref())
        .and_then(|u| crate::action::parse_image_uri(u).ok());
    Ok(Plan {
        alias: alias_state,
        current,
        target,
        how,
        target_image,
    })
}

/// The version that was live before `current`: recorded exactly in the description of versions
/// this deployer published (`previous=N`); for anyone else's versions, the highest existing
/// numbered version below `current`.
async fn previous_of(ctx: &Ctx, f: &str, current: Version) -> Result<(Version, String), StepError> {
    let out = ctx
        .lambda
        .get_function()
        .function_name(f)
        .qualifier(current.to_string())
        .send()
        .await
        .map_err(|e| StepError::new(format!("GetFunction {current} failed: {}", describe(&e))))?;
    let description = out
        .configuration()
        .and_then(|c| c.description())
        .unwrap_or_default();
    if let Some(prev) = VersionRecord::parse(description).and_then(|r| r.previous) {
        return Ok((prev, format!("version {current} recorded previous={prev}")));
    }
    let mut versions = Vec::new();
    let mut pages = ctx
        .lambda
        .list_versions_by_function()
        .function_name(f)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            StepError::new(format!("ListVersionsByFunction failed: {}", describe(&e)))
        })?;
        versions.extend(
            page.versions()
                .iter()
                .filter_map(|c| c.version().and_then(Version::parse)),
        );
    }
    highest_below(&versions, current)
        .map(|v| {
            (
                v,
                format!("highest version below {current}: version {current} records no previous"),
            )
        })
        .ok_or_else(|| {
            StepError::new(format!(
                "there is no version below {current} to roll back to"
            ))
        })
}

/// The fallback rule, pure.
pub fn highest_below(versions: &[Version], current: Version) -> Option<Version> {
    versions.iter().copied().filter(|v| *v < current).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_picks_the_highest_version_below_the_current_one() {
        let vs: Vec<Version> = [1, 4, 2, 7, 9]
            .iter()
            .map(|n| Version::new(*n).unwrap())
            .collect();
        let v = |n| Version::new(n).unwrap();
        assert_eq!(highest_below(&vs, v(7)), Some(v(4)));
        assert_eq!(highest_below(&vs, v(9)), Some(v(7)));
        assert_eq!(highest_below(&vs, v(1)), None);
    }
}
