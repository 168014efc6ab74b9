//! One image to a set of functions: the single place that decides whether this run deploys them
//! itself or fans them out. Anything that deploys a set (a push, a deploy by tag, and whatever
//! is added later) calls [`deploy_set`] and gets the same decision.
//!
//! One Lambda image update takes 30-90 s, so a few parallel pipelines fit about 8 functions into
//! one 15-minute invocation. For more, this run deploys none: it sends one asynchronous
//! invocation of the deployer per function (Lambda's own queue holds them, and retries those it
//! throttles while the reserved concurrency is busy), each an ordinary manual deploy that carries
//! the push's time and tag so stale-event protection and the version record stay exact. Above
//! [`batch::PER_FUNCTION_MAX`] functions it sends batches instead (see `batch.rs`: Lambda's rate,
//! not the waiting, is what limits a large fleet), and a summary check (`summary.rs`).

use crate::config::Target;
use crate::gateway::{ApiError, ErrorKind};
use crate::input::{DeployRequest, DeploySource, Payload};
use crate::input::{FleetRequest, Request};
use crate::ops::Deps;
use crate::pipeline::deploy_function;
use crate::report::{ActionKind, Batched, Deployment, End, FailureKind, Report};
use crate::types::{FunctionRef, ImageRef, Reason};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::Value;

pub mod batch;
pub mod members;
pub mod quiet;
pub mod summary;

/// Asynchronous Invokes in flight at once: each is one quick HTTP call (Lambda only queues the
/// payload), so 500 functions are dispatched in a few seconds without a burst that throttles.
pub const DISPATCH_PARALLEL: usize = 16;

/// One image on its way to functions: when it was pushed and why (a person's reason) travel with
/// every dispatched payload; a dry run says what would be done.
#[derive(Clone, Copy)]
pub struct Push<'a> {
    pub image: &'a ImageRef,
    pub pushed: Option<DateTime<Utc>>,
    pub reason: Option<&'a Reason>,
    pub dry_run: bool,
}

/// `image` to `jobs`: deployed by this run when there are at most DEPLOYER_INLINE_MAX of them,
/// otherwise dispatched one function per invocation. `pushed` and `reason` travel with each
/// dispatched payload.
pub async fn deploy_set(
    deps: &Deps<'_>,
    push: Push<'_>,
    jobs: Vec<(FunctionRef, &Target)>,
) -> Report {
    if jobs.len() <= deps.config.inline_max {
        let (image, parallel) = (push.image, deps.config.max_parallel);
        let deployments =
            deploy_concurrently(deps, image, jobs, push.pushed, push.dry_run, parallel).await;
        return Report::new(ActionKind::Deploy)
            .with_image(image)
            .with_deployments(deployments);
    }
    dispatch(deps, push, jobs).await
}

/// Every function through the pipeline in this run, `parallel` at once: DEPLOYER_MAX_PARALLEL
/// for a run that deploys inline, the whole batch for a batch's run (the rate budget, not the
/// parallelism, paces it).
pub(crate) async fn deploy_concurrently(
    deps: &Deps<'_>,
    image: &ImageRef,
    jobs: Vec<(FunctionRef, &Target)>,
    pushed: Option<DateTime<Utc>>,
    dry_run: bool,
    parallel: usize,
) -> Vec<Deployment> {
    futures_util::stream::iter(jobs)
        .map(|(function, target)| async move {
            // A target in another account: its calls sign with its role's credentials.
            let ctx = match crate::ops::accounts::ctx_for(&deps.ctx, target).await {
                Ok(ctx) => ctx,
                Err(why) => return crate::ops::accounts::unreachable(function, target, why),
            };
            // Boxed: the pipeline's future is large, and inlining many would overflow the stack.
            Box::pin(deploy_function(
                &ctx, &function, target, image, pushed, dry_run,
            ))
            .await
        })
        .buffered(parallel.max(1))
        .collect()
        .await
}

/// How many runs share the rate budget with the one `request` starts: a batch says; anything
/// else has the budget to itself.
pub fn runs_sharing(request: &Request) -> usize {
    match request {
        Request::Fleet(FleetRequest::Batch(b)) => b.runs,
        // A summary check may overlap a fleet's last runs: it keeps to half the budget.
        Request::Fleet(FleetRequest::Report(_)) => 2,
        _ => 1,
    }
}

/// What the run needs to dispatch to and could not learn.
fn no_target(n: usize, inline_max: usize) -> String {
    format!(
        "{n} functions are more than DEPLOYER_INLINE_MAX ({inline_max}), so they are dispatched one invocation each, but this run does not know the deployer's function ARN: set DEPLOYER_FUNCTION_ARN (or raise DEPLOYER_INLINE_MAX to deploy them all in this run). Nothing was sent, nothing was deployed"
    )
}

/// `image` to `jobs`, one dispatched run per function (or per batch, for a large fleet).
pub(crate) async fn dispatch(
    deps: &Deps<'_>,
    push: Push<'_>,
    jobs: Vec<(FunctionRef, &Target)>,
) -> Report {
    let Push {
        image,
        pushed,
        reason,
        dry_run,
    } = push;
    let n = jobs.len();
    let Some(target_arn) = deps.ctx.rollouts.target_arn.as_deref() else {
        return Report::failed(ActionKind::Deploy, no_target(n, deps.config.inline_max))
            .with_image(image);
    };
    tracing::info!(image = %image.uri(), functions = n, target = target_arn, dry_run, "dispatching");
    let batched = n > batch::PER_FUNCTION_MAX && !dry_run;
    let to = Dispatch {
        target_arn,
        image,
        pushed,
        reason,
    };
    let (deployments, warning) = if batched {
        batch::dispatch_deploy(deps, to, jobs).await
    } else {
        (dispatch_each(deps, to, jobs, dry_run).await, None)
    };
    let batched = batched.then(|| Batched {
        runs: batch::FANOUT_RUNS.min(n),
        does: "deploys",
    });
    let mut report = Report::new(ActionKind::Deploy)
        .with_image(image)
        .with_dispatches(deployments, batched);
    report.warnings.extend(warning);
    report
}

/// What every dispatched run of one push is sent: where (the deployer's own ARN), the image, when
/// it was pushed and why (a person's reason).
#[derive(Clone, Copy)]
pub(crate) struct Dispatch<'a> {
    pub target_arn: &'a str,
    pub image: &'a ImageRef,
    pub pushed: Option<DateTime<Utc>>,
    pub reason: Option<&'a Reason>,
}

/// One asynchronous invocation per function (a fleet of up to [`batch::PER_FUNCTION_MAX`]).
async fn dispatch_each(
    deps: &Deps<'_>,
    to: Dispatch<'_>,
    jobs: Vec<(FunctionRef, &Target)>,
    dry_run: bool,
) -> Vec<Deployment> {
    let Dispatch {
        target_arn,
        image,
        pushed,
        reason,
    } = to;
    if dry_run {
        return jobs
            .into_iter()
            .map(|(function, target)| {
                Deployment::new(function, target.alias.clone()).ended(End::would_dispatch(format!(
                    "would be dispatched to {target_arn}"
                )))
            })
            .collect();
    }
    // Each function a batch of one: the same sending, deadline and failure handling as batches.
    let one_each = jobs
        .into_iter()
        .map(|(function, target)| {
            let body = payload(&function, image, pushed, reason);
            (body, vec![Deployment::new(function, target.alias.clone())])
        })
        .collect();
    batch::send(deps, target_arn, one_each).await
}

/// Why an asynchronous Invoke did not hand its work over, as the failure it is reported as. A
/// call whose answer never came may well have been queued: unknown, so the run still fails
/// (someone must look), but never "not sent", and a repeat is harmless (the same push deploys
/// once; a rollback finds the alias no longer on what it takes away and leaves it alone).
pub(crate) fn undelivered(e: &ApiError) -> (FailureKind, String) {
    if e.is(ErrorKind::TimedOut) {
        let why = format!(
            "may have been dispatched: {e}; Lambda may have queued it, and then its own run does it: a repeat is harmless (the same push deploys once, a second run ends already_live)"
        );
        (FailureKind::TimedOut, why)
    } else {
        (FailureKind::from(e.kind), format!("not dispatched: {e}"))
    }
}

/// The manual deploy payload one function's run is invoked with (see input/manual.rs). The push
/// time is written with its full precision, so the run's stale-event check and the version record
/// see exactly the event's time.
pub fn payload(
    function: &FunctionRef,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
    reason: Option<&Reason>,
) -> Value {
    let request = DeployRequest {
        source: DeploySource::Image {
            function: function.clone(),
            image: image.clone(),
        },
        pushed,
        reason: reason.cloned(),
        dry_run: false,
    };
    Payload::deploy(&request).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Request, parse_request};
    use chrono::TimeZone;
    use serde_json::json;

    fn image(tag: Option<&str>) -> ImageRef {
        let mut i: ImageRef = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
            "b".repeat(64)
        )
        .parse()
        .unwrap();
        i.tag = tag.map(|t| t.parse().unwrap());
        i
    }

    #[test]
    fn the_payload_parses_back_to_the_same_function_image_time_and_tag() {
        let pushed = Utc
            .timestamp_opt(1_800_000_000, 250_000_000)
            .single()
            .unwrap();
        let f = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:w-1").unwrap();
        let reason: Reason = serde_json::from_value(json!("release 42")).unwrap();
        let p = payload(&f, &image(Some("v2")), Some(pushed), Some(&reason));
        assert_eq!(p["pushed"], "2027-01-15T08:00:00.250Z");
        let Request::Deploy(d) = parse_request(&p, pushed).expect("parses") else {
            panic!("not a deploy: {p}");
        };
        assert_eq!(d.pushed, Some(pushed), "sub-second precision kept");
        assert_eq!(d.reason.as_ref().map(Reason::as_str), Some("release 42"));
        assert!(!d.dry_run);
        match d.source {
            DeploySource::Image { function, image: i } => {
                assert_eq!(function, f);
                assert_eq!(i, image(Some("v2")));
            }
            other => panic!("wrong source {other:?}"),
        }
    }

    #[test]
    fn an_untagged_manual_image_has_neither_tag_nor_pushed() {
        let f = FunctionRef::parse("w-1").unwrap();
        let p = payload(&f, &image(None), None, None);
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["action", "function", "image_uri"]);
    }
}
