//! Fleet rollback: every configured function of a repository (with a digest, those whose alias
//! runs it) back to its previous version. Each function is rolled back exactly as a single
//! rollback is (the same guarded alias move, the same refusals, a rollout stopped), by
//! [`super::rollback::on_rollback`]; above DEPLOYER_INLINE_MAX the functions are fanned out in
//! batches at the same rate budget as a deploy (see fanout/batch.rs).

use super::Deps;
use crate::fanout::batch::{self, FANOUT_RUNS, PER_FUNCTION_MAX};
use crate::fanout::summary;
use crate::input::{
    BatchRequest, BatchWork, FleetKind, FleetReportRequest, FleetRollbackRequest, InputError,
    Payload, RollbackRequest,
};
use crate::report::{ActionKind, Batched, Deployment, End, Report};
use crate::types::{Digest, FunctionRef, Reason, Repository};
use futures_util::StreamExt;
use serde_json::Value;

pub async fn on_fleet_rollback(
    deps: &Deps<'_>,
    r: &FleetRollbackRequest,
) -> Result<Report, InputError> {
    let functions = functions_of(deps, &r.repository)?;
    let n = functions.len();
    // A dry run only reads, so this run does it all: nothing to gain from dispatching it.
    if n <= deps.config.inline_max || r.dry_run {
        let report = Box::pin(roll_back_all(
            deps,
            &r.repository,
            &functions,
            r.digest.as_ref(),
            r.reason.as_ref(),
            r.dry_run,
        ))
        .await?;
        return Ok(report);
    }
    let mut report = Report::new(ActionKind::Rollback);
    report.repository = Some(r.repository.to_string());
    report.request_reason = r.reason.clone();
    let Some(target_arn) = deps.ctx.rollouts.target_arn.as_deref() else {
        report = Report::failed(
            ActionKind::Rollback,
            format!(
                "{n} functions are more than DEPLOYER_INLINE_MAX ({}), so their rollback is dispatched, but this run does not know the deployer's function ARN: set DEPLOYER_FUNCTION_ARN (or raise DEPLOYER_INLINE_MAX). Nothing was sent, nothing was rolled back",
                deps.config.inline_max
            ),
        );
        report.repository = Some(r.repository.to_string());
        return Ok(report);
    };
    let started = deps.ctx.clock().now_utc();
    let key = summary::key(FleetKind::Rollback, started, None);
    let check = Payload::fleet_report(&FleetReportRequest {
        kind: FleetKind::Rollback,
        repository: r.repository.clone(),
        image: None,
        digest: r.digest.clone(),
        key: key.clone(),
        started,
        members: None,
    })
    .to_json();
    let summary_key = match summary::schedule(deps, &check, n).await {
        Ok(()) => Some(key),
        Err(why) => {
            report.warnings.push(format!(
                "no fleet summary ({why}): each function's run tells its own outcome"
            ));
            None
        }
    };
    let runs = if n > PER_FUNCTION_MAX { FANOUT_RUNS } else { n };
    let batches = batches(deps, r, functions, runs, summary_key);
    let deployments = batch::send(deps, target_arn, batches).await;
    let batched = (n > PER_FUNCTION_MAX).then(|| Batched {
        runs: FANOUT_RUNS.min(n),
        does: "rolls back",
    });
    Ok(report.with_dispatches(deployments, batched))
}

/// `functions` in at most `runs` batches: each one's `rollback_batch` payload, and its functions
/// as the report lists them until the batch is sent.
fn batches(
    deps: &Deps<'_>,
    r: &FleetRollbackRequest,
    functions: Vec<FunctionRef>,
    runs: usize,
    summary: Option<String>,
) -> Vec<(Value, Vec<Deployment>)> {
    let alias_of = |f: &FunctionRef| {
        deps.allowed(f, Some(&r.repository))
            .map(|(_, t)| t.alias.clone())
            .unwrap_or_else(|_| deps.config.alias.clone())
    };
    let batches = batch::split(functions, runs);
    let runs = batches.len();
    batches
        .into_iter()
        .map(|b| {
            let deployments = b
                .iter()
                .map(|f| Deployment::new(f.clone(), alias_of(f)))
                .collect();
            let batch = BatchRequest {
                work: BatchWork::Rollback {
                    repository: r.repository.clone(),
                    digest: r.digest.clone(),
                },
                functions: b,
                runs,
                reason: r.reason.clone(),
                summary: summary.clone(),
            };
            (Payload::batch(&batch).to_json(), deployments)
        })
        .collect()
}

/// Every function configured for `repository`, each once, in configuration order.
fn functions_of(deps: &Deps<'_>, repository: &Repository) -> Result<Vec<FunctionRef>, InputError> {
    deps.targets_of(repository)?;
    let configured = crate::fanout::members::configured(deps.config, repository);
    Ok(configured.into_iter().map(|(f, _)| f).collect())
}

/// Rolls back `functions` in this run, all at once (the rate budget paces them). With `digest`,
/// a function whose alias runs another image is left alone and says so.
pub async fn roll_back_all(
    deps: &Deps<'_>,
    repository: &Repository,
    functions: &[FunctionRef],
    digest: Option<&Digest>,
    reason: Option<&Reason>,
    dry_run: bool,
) -> Result<Report, InputError> {
    let results: Vec<Result<Vec<Deployment>, InputError>> = futures_util::stream::iter(functions)
        .map(|f| Box::pin(roll_back_one(deps, repository, f, digest, reason, dry_run)))
        .buffered(functions.len().max(1))
        .collect()
        .await;
    let mut deployments = Vec::with_capacity(functions.len());
    for r in results {
        deployments.extend(r?);
    }
    let mut report = Report::new(ActionKind::Rollback).with_deployments(deployments);
    report.dry_run = dry_run;
    report.repository = Some(repository.to_string());
    report.request_reason = reason.cloned();
    Ok(report)
}

async fn roll_back_one(
    deps: &Deps<'_>,
    repository: &Repository,
    f: &FunctionRef,
    digest: Option<&Digest>,
    reason: Option<&Reason>,
    dry_run: bool,
) -> Result<Vec<Deployment>, InputError> {
    let (function, target) = deps.allowed(f, Some(repository))?;
    if let Some(digest) = digest {
        // GetFunction of the alias: the version it points to and that version's image, read
        // against GetFunction's own quota rather than the control plane's.
        let runs = match deps.for_target(target).await {
            Ok(d) => d
                .ctx
                .lambda
                .get_function(function.as_str(), Some(target.alias.as_str()))
                .await
                .map(|s| s.digest()),
            Err(why) => {
                return Ok(vec![crate::ops::accounts::unreachable(
                    function, target, why,
                )]);
            }
        };
        let mut dep = Deployment::new(function.clone(), target.alias.clone());
        match runs {
            Ok(Some(d)) if &d == digest => {}
            Ok(other) => {
                return Ok(vec![dep.ended(End::skipped(format!(
                    "alias {} runs {}, not {}: left alone",
                    target.alias,
                    other.map_or_else(|| "an unknown image".to_owned(), |d| d.short()),
                    digest.short()
                )))]);
            }
            Err(e) => {
                dep.fail(
                    crate::report::Step::Resolve,
                    crate::report::FailureKind::from(e.kind),
                    e.to_string(),
                );
                return Ok(vec![dep]);
            }
        }
    }
    let req = RollbackRequest {
        function,
        version: None,
        alias: Some(target.alias.clone()),
        reason: reason.cloned(),
        dry_run,
        force: false,
    };
    let report = super::rollback::on_rollback(deps, &req).await?;
    Ok(report.deployments)
}
