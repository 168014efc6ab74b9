//! Batches: how a large fleet fits Lambda's rate limit.
//!
//! Waiting on an image update costs nothing, so one invocation can wait on many functions at
//! once; what limits a fleet is Lambda's control-plane rate (15 per second per account and Region,
//! for all callers). Above [`PER_FUNCTION_MAX`] functions, the fleet is split into [`FANOUT_RUNS`]
//! batches, one asynchronous invocation each; each run deploys its whole batch concurrently at
//! its share of `DEPLOYER_CONTROL_PLANE_RPS` (the budget divided by the runs), so together they
//! keep to the budget and the fleet is live after about `calls ÷ budget + the longest update`.
//!
//! A batch's run never dispatches: the fan-out is one level deep. Lambda's recursive-loop
//! detection stops chains of Lambda-to-Lambda invocations after about 16 hops, and a deployer that
//! re-dispatched could build such a chain.

use crate::config::Target;
use crate::input::{BatchRequest, BatchWork, FleetKind, FleetReportRequest, InputError, Payload};
use crate::ops::Deps;
use crate::report::{ActionKind, Deployment, End, FailureKind, Report};
use crate::types::{FunctionRef, ImageRef};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::Value;

/// Up to this many functions, each gets its own run, as before batches: each run makes a handful
/// of calls, and Lambda's queue and the throttle handling absorb the overlap.
pub const PER_FUNCTION_MAX: usize = 20;

/// Runs a large fleet is split into. The IaC reserves 10 concurrent executions: the dispatching
/// run, these 8, and one for a summary check or another push, so all batches run at once and
/// each one's share of the budget is exact.
pub const FANOUT_RUNS: usize = 8;

/// `jobs` in at most `runs` contiguous batches of nearly equal size (the first ones one longer).
pub fn split<T>(jobs: Vec<T>, runs: usize) -> Vec<Vec<T>> {
    let runs = runs.clamp(1, jobs.len().max(1));
    let (base, extra) = (jobs.len() / runs, jobs.len() % runs);
    let mut it = jobs.into_iter();
    (0..runs)
        .map(|i| it.by_ref().take(base + usize::from(i < extra)).collect())
        .filter(|b: &Vec<T>| !b.is_empty())
        .collect()
}

/// Sends each batch's payload as one asynchronous invocation of `target_arn`; every function of a
/// batch is `Dispatched`, or failed with why its batch could not be sent.
pub(crate) async fn send(
    deps: &Deps<'_>,
    target_arn: &str,
    batches: Vec<(Value, Vec<Deployment>)>,
) -> Vec<Deployment> {
    let sent: Vec<Vec<Deployment>> = futures_util::stream::iter(batches)
        .map(|(payload, mut deps_of_batch)| async move {
            let failed = match deps.ctx.out_of_time() {
                Some(why) => Some((FailureKind::OutOfTime, format!("not dispatched: {why}"))),
                None => deps
                    .ctx
                    .lambda
                    .invoke_event(target_arn, payload.to_string().into_bytes())
                    .await
                    .err()
                    .map(|e| {
                        tracing::warn!(functions = deps_of_batch.len(), error = %e, "not dispatched, or maybe");
                        super::undelivered(&e)
                    }),
            };
            for d in &mut deps_of_batch {
                match &failed {
                    Some((kind, why)) => d.fail_outside_steps(*kind, why.clone()),
                    None => d.end(End::dispatched()),
                };
            }
            deps_of_batch
        })
        .buffered(super::DISPATCH_PARALLEL)
        .collect()
        .await;
    sent.into_iter().flatten().collect()
}

/// A deploy fanned out in batches: the report lists every function as dispatched (or not), and
/// a warning when the fleet gets no summary (each function's run then tells its own outcome).
pub(crate) async fn dispatch_deploy(
    deps: &Deps<'_>,
    to: super::Dispatch<'_>,
    jobs: Vec<(FunctionRef, &Target)>,
) -> (Vec<Deployment>, Option<String>) {
    let super::Dispatch {
        target_arn,
        image,
        pushed,
        reason,
    } = to;
    let started = deps.ctx.clock().now_utc();
    let key = super::summary::key(FleetKind::Deploy, started, Some(&image.digest));
    // The functions this push goes to, of all the repository's: what the summary waits for.
    let chosen: Vec<FunctionRef> = jobs.iter().map(|(f, _)| f.clone()).collect();
    let all = super::members::configured(deps.config, &image.repository);
    let members = crate::input::members::mask(&all, &chosen);
    let check = Payload::fleet_report(&FleetReportRequest {
        kind: FleetKind::Deploy,
        repository: image.repository.clone(),
        image: Some(image.clone()),
        digest: None,
        key: key.clone(),
        started,
        members: Some(members),
    })
    .to_json();
    // Scheduled before anything is sent: a batch is told to keep quiet only when its summary
    // is sure to come.
    let (summary, warning) = match super::summary::schedule(deps, &check, jobs.len()).await {
        Ok(()) => (Some(key), None),
        Err(why) => (
            None,
            Some(format!(
                "no fleet summary ({why}): each function's run tells its own outcome"
            )),
        ),
    };
    let batches = split(jobs, FANOUT_RUNS);
    let runs = batches.len();
    let batches = batches
        .into_iter()
        .map(|b| {
            let batch = BatchRequest {
                work: BatchWork::Deploy {
                    image: image.clone(),
                    pushed,
                },
                functions: b.iter().map(|(f, _)| f.clone()).collect(),
                runs,
                reason: reason.cloned(),
                summary: summary.clone(),
            };
            let payload = Payload::batch(&batch).to_json();
            let deployments = b
                .into_iter()
                .map(|(f, t)| Deployment::new(f, t.alias.clone()))
                .collect();
            (payload, deployments)
        })
        .collect();
    (send(deps, target_arn, batches).await, warning)
}

/// One run's batch of a deploy: every function in it at once, paced by this run's share of the
/// budget.
pub async fn on_deploy_batch(
    deps: &Deps<'_>,
    b: &BatchRequest,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
) -> Result<Report, InputError> {
    let mut jobs = Vec::with_capacity(b.functions.len());
    for f in &b.functions {
        jobs.push(deps.allowed(f, Some(&image.repository))?);
    }
    let Some(home) = deps.home else {
        return Ok(Report::failed(ActionKind::Deploy, crate::plan::HOME_UNKNOWN).with_image(image));
    };
    for (_, target) in &jobs {
        if let Some(why) = home.refuses(target, &image.account, &image.region) {
            return Err(InputError::new("payload.image_uri", why));
        }
    }
    let n = jobs.len();
    let deployments = super::deploy_concurrently(deps, image, jobs, pushed, false, n).await;
    let mut report = Report::new(ActionKind::Deploy)
        .with_image(image)
        .with_deployments(deployments);
    report.repository = Some(image.repository.to_string());
    report.request_reason = b.reason.clone();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_splits_into_nearly_equal_contiguous_batches() {
        let sizes = |n: usize, runs: usize| {
            split((0..n).collect::<Vec<_>>(), runs)
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(500, 8), [63, 63, 63, 63, 62, 62, 62, 62]);
        assert_eq!(sizes(3, 8), [1, 1, 1]);
        assert_eq!(sizes(0, 8), Vec::<usize>::new());
        assert_eq!(split(vec![1, 2, 3, 4, 5], 2), [vec![1, 2, 3], vec![4, 5]]);
    }
}
