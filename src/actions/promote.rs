//! Promote: during a rollout, the new version takes all traffic now.

use super::Deps;
use crate::input::{InputError, PromoteRequest};
use crate::ops::settle::{self, Settled};
use crate::ops::{promote, timed};
use crate::record::MoveKind;
use crate::report::{ActionKind, Deployment, End, Report, RolloutInfo, Step};
use crate::rollout;

pub async fn on_promote(deps: &Deps<'_>, p: &PromoteRequest) -> Result<Report, InputError> {
    let reached = crate::ops::reach_or_return!(deps, &p.function, ActionKind::Promote);
    let (function, target, deps) = (reached.function, reached.target, &reached.deps);
    let alias = p.alias.clone().unwrap_or_else(|| target.alias.clone());
    let ctx = &deps.ctx;
    let f = function.as_str();
    let mut dep = Deployment::new(function.clone(), alias.clone());
    let current = timed(ctx, &mut dep.steps, Step::Resolve, async {
        Ok(ctx.lambda.get_alias(f, &alias).await?)
    })
    .await;
    match current {
        Err(e) => dep.fail(e.step, e.kind, e.reason),
        Ok(None) => dep.end(End::skipped(format!(
            "alias {alias} does not exist: there is no rollout to promote"
        ))),
        Ok(Some(current)) => match (current.target.version(), current.canary()) {
            (Some(stable), Some((new, weight))) => {
                dep.previous_version = Some(stable);
                dep.version = Some(stable);
                let pc = settle::provisioned_before(ctx, &mut dep).await;
                let moved = timed(
                    ctx,
                    &mut dep.steps,
                    Step::PromoteAlias,
                    promote(ctx, f, &alias, Some(&current), new, MoveKind::Deploy),
                )
                .await;
                match moved {
                    Err(e) => dep.fail(e.step, e.kind, e.reason),
                    Ok(promoted) => {
                        dep.version = Some(new);
                        let promoted_so = format!(
                            "promoted: alias {alias} serves version {new} (was {stable} + {}% {new})",
                            (weight * 100.0).round()
                        );
                        dep.rollout = Some(RolloutInfo {
                            stable_version: stable,
                            new_version: new,
                            step: 0,
                            steps: target.rollout.steps.clone(),
                            weight: 1.0,
                            weight_changed: true,
                            next_check_at: None,
                            schedule: None,
                            error_rate: None,
                            check: None,
                        });
                        let waited =
                            settle::settle_or_say(ctx, &mut dep, new, &promoted, pc.as_ref()).await;
                        if let Settled::AllocationFailed(failed) = waited {
                            let cfg = Some(&target.rollout);
                            rollout::stop::allocation_failed(
                                ctx, &mut dep, &promoted, stable, new, failed, cfg,
                            )
                            .await
                        } else {
                            dep.warnings
                                .extend(rollout::delete_checks(ctx, &function, &alias, None).await);
                            dep.end(End::deployed(promoted_so))
                        }
                    }
                }
            }
            _ => {
                dep.version = current.target.version();
                dep.end(End::skipped(format!(
                    "no rollout is in progress on alias {alias} (it serves {}): nothing to promote",
                    current.describe()
                )))
            }
        },
    };
    let mut report = Report::new(ActionKind::Promote).with_deployments(vec![dep]);
    report.repository = Some(target.repository.to_string());
    report.request_reason = p.reason.clone();
    Ok(report)
}
