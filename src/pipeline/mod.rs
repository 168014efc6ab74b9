//! The deployment pipeline for one function, composed of the kernel's operations ([`crate::ops`])
//! and one file per step of its own, in named phases:
//! [`look`] (resolve, [`stale`] and duplicate checks) → [`image_checks`] → [`dry_run`] or
//! [`pin`] (when the alias follows `$LATEST`) → [`stage`] (wait until ready, [`update`], wait until
//! updated) → the smoke test (the kernel's [`crate::ops::smoke`], which a rollout's synthetic
//! traffic shares) → [`publish`] → [`go_live`] (a rollout's first step, or the alias moved at
//! once) → prune; after a failure, [`fail`] puts `$LATEST` back.
//!
//! The alias moves only in [`go_live`], only to a version published from the exact code that
//! passed the smoke test. Any failure before that leaves the alias untouched; if `$LATEST` was
//! changed, it is put back on the image production runs (unless someone else changed the function
//! meanwhile: then their change stays and the report says so).

mod after_move;
mod dry_run;
mod fail;
pub(crate) mod image_checks;
mod index;
mod pin;
mod publish;
mod stage;
mod stale;
mod update;

use crate::ops::alias::older_push_took_our_place;
use crate::ops::{Ctx, Failure, FailureKind, Moved, Run, promote, resolve, smoke};

use crate::config::Target;
use crate::gateway::{AliasState, FunctionState};
use crate::record::{MoveKind, VersionRecord};
use crate::report::{Deployment, End, Outcome, Step};
use crate::types::{Digest, FunctionRef, ImageRef, Version};
use chrono::{DateTime, Utc};

/// Deploys `image` to `function` as `target` says. Never returns an error: every outcome,
/// including failure, is a [`Deployment`] that says what happened.
pub async fn deploy_function(
    ctx: &Ctx,
    function: &FunctionRef,
    target: &Target,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
    dry_run: bool,
) -> Deployment {
    let mut run = Run::new(ctx, Deployment::new(function.clone(), target.alias.clone()));
    let mut job = Job {
        target,
        image,
        pushed,
        dry_run,
        index: None,
    };
    // An image index becomes the image for this function's architecture before anything else.
    let chosen = match index::choose(ctx, function.as_str(), image).await {
        Ok(c) => c,
        Err(f) => {
            fail::fail(&mut run, &job, f).await;
            return run.dep;
        }
    };
    if let Some(c) = &chosen {
        run.dep.index = Some(c.report());
        job.image = &c.image;
        job.index = Some(&c.index);
    }
    match pipeline(&mut run, &job).await {
        Ok(end) => {
            run.dep.end(end);
        }
        Err(f) => fail::fail(&mut run, &job, f).await,
    }
    run.dep
}

/// What one function's deployment was asked to do.
struct Job<'a> {
    target: &'a Target,
    image: &'a ImageRef,
    pushed: Option<DateTime<Utc>>,
    dry_run: bool,
    /// The index `image` was chosen from, when the push named an index.
    index: Option<&'a Digest>,
}

/// Production as [`look`] found it: the alias and the code it serves.
struct Found {
    alias: Option<AliasState>,
    code: Option<FunctionState>,
    /// Whether this deployment goes live in steps (a progressive rollout from a version).
    rolls_out: bool,
}

async fn pipeline(run: &mut Run<'_>, job: &Job<'_>) -> Result<End, Failure> {
    let mut found = match look(run, job).await? {
        Ok(found) => found,
        Err(nothing_to_do) => return Ok(nothing_to_do),
    };
    // Only clean, signed images go further (dry runs too); an image already live is not re-checked.
    let already_live = found
        .code
        .as_ref()
        .is_some_and(|c| c.runs(&job.image.digest));
    if let Some(checks) = job.target.image_checks.as_ref().filter(|_| !already_live) {
        image_checks::gate(run, checks, job.image).await?;
    }
    if job.dry_run {
        return dry_run(run, job, &found).await;
    }
    if found.rolls_out
        && let Some(why) = run.ctx.rollouts.missing()
    {
        // Found out before anything changes, not after the new version is published.
        return Err(Failure::of(Step::Rollout, FailureKind::NotConfigured, why));
    }
    if let Some(a) = found.alias.clone().filter(|a| a.target.version().is_none()) {
        let f = run.function();
        let alias = run.dep.alias.clone();
        let (pinned, code) = run
            .step(Step::PinAlias, pin::pin(run.ctx, &f, &alias, &a))
            .await?;
        found.alias = Some(pinned);
        found.code = Some(code);
    }
    let previous = found.alias.as_ref().and_then(|a| a.target.version());
    run.dep.previous_version = previous;
    if let Some(code) = found.code.as_ref().filter(|c| c.runs(&job.image.digest)) {
        // A duplicate delivery, or a re-push of what is live: nothing to do, nothing touched.
        run.dep.version = previous;
        run.dep.code_sha256 = Some(code.code_sha256.clone());
        return Ok(End::already_live(format!(
            "alias {} already points to version {} which runs {}",
            run.dep.alias,
            previous.map(|v| v.to_string()).unwrap_or_default(),
            job.image.digest
        )));
    }
    run.restore_image = found.code.take().and_then(|c| c.image_uri);
    let labels = labels(run, job).await;
    // The deployment starts now: the sinks that track runs (GitHub's `in_progress`) hear of it
    // before `$LATEST` changes. Bounded by the API timeout; it never fails the deployment.
    let start = crate::notify::Start {
        function: &run.dep.function.clone(),
        target: job.target,
        image: job.image,
        labels: &labels,
    };
    let (ctx, deadline) = (run.ctx, run.ctx.deadline);
    ctx.notifier.started(&start, deadline, &mut run.dep).await;
    let tested = stage::stage(run, job.image).await?;
    run.dep.code_sha256 = Some(tested.code_sha256.clone());
    smoke_test(run, job.target).await?;
    // Publish exactly the tested code.
    let record = VersionRecord::new(
        job.image.digest.clone(),
        previous,
        job.pushed,
        job.image.tag.as_ref(),
    )
    .chosen_from(job.index)
    .created(run.dep.at_start.image_created);
    let f = run.function();
    let version = run
        .step(
            Step::Publish,
            publish::publish(run.ctx, &f, &tested, &record.to_description()),
        )
        .await?;
    go_live(run, job, &found, version, previous).await
}

/// The image's labels, read once per run per image (every function of the push shares the read),
/// for every deployment that changes code: where its lead time counts from (the created label,
/// kept on the deployment and in the version record), and GitHub's commit. Read before the update,
/// in sequence: two ECR calls and one small blob against an update of 30-90 s, and GitHub's start
/// needs the commit first. Unreadable is no problem of the deployment's: lead time then counts from
/// the push (a target with `github` gets its warning from the GitHub sink).
async fn labels(run: &mut Run<'_>, job: &Job<'_>) -> crate::types::LabelsRead {
    let ctx = run.ctx;
    let read = ctx.labels.of(&ctx.ecr, job.image, ctx.time_left()).await;
    match &read {
        Ok(labels) => {
            let latest = job.pushed.unwrap_or_else(|| ctx.clock().now_utc());
            run.dep.at_start.image_created =
                crate::types::labels::created_for_lead_time(labels, latest);
        }
        Err(why) => tracing::info!(
            function = %run.dep.function,
            image = %job.image.digest,
            reason = %why,
            "the image's labels were not read: lead time counts from the push"
        ),
    }
    run.dep.at_start.image_labels = Some(read.clone());
    read
}

/// Step 1: what does production run? Is this event news? `Ok(Err(end))`: nothing to do.
async fn look(run: &mut Run<'_>, job: &Job<'_>) -> Result<Result<Found, End>, Failure> {
    let f = run.function();
    let alias = run.dep.alias.clone();
    let live = run
        .step(Step::Resolve, resolve::resolve(&run.ctx.lambda, &f, &alias))
        .await?;
    run.dep.previous_version = live.alias.as_ref().and_then(|a| a.target.version());
    if let Some(why) = stale::stale_event(
        live.alias.as_ref(),
        live.code.as_ref(),
        job.image,
        job.pushed,
    ) {
        run.dep.version = run.dep.previous_version;
        return Ok(Err(End::skipped(why)));
    }
    if let Some((v, _)) = live
        .canary
        .as_ref()
        .filter(|(_, c)| c.runs(&job.image.digest))
    {
        // The same push again while its rollout runs: the rollout goes on, nothing is touched.
        run.dep.version = run.dep.previous_version;
        return Ok(Err(End::already_live(format!(
            "a rollout of this image (version {v}) is in progress on alias {alias}: nothing to do"
        ))));
    }
    let rolls_out = job.target.rollout.is_progressive()
        && live
            .alias
            .as_ref()
            .is_some_and(|a| a.target.version().is_some());
    Ok(Ok(Found {
        alias: live.alias,
        code: live.code,
        rolls_out,
    }))
}

/// What a real run would do, from reads only; a rollout says its steps.
async fn dry_run(run: &mut Run<'_>, job: &Job<'_>, found: &Found) -> Result<End, Failure> {
    let end = dry_run::verdict(run, found.alias.as_ref(), found.code.as_ref(), job.image).await?;
    if found.rolls_out && end.outcome() == Outcome::WouldDeploy {
        let r = &job.target.rollout;
        let steps: Vec<String> = r.steps.iter().map(|p| format!("{p}%")).collect();
        return Ok(end.and(&format!(
            ", rolling out in steps of {} then 100% (gates checked every {} s, a step every {} s)",
            steps.join(", "),
            r.check_secs,
            r.interval_secs
        )));
    }
    Ok(end)
}

/// Step 3: smoke test `$LATEST`.
async fn smoke_test(run: &mut Run<'_>, target: &Target) -> Result<(), Failure> {
    let f = run.function();
    let lambda = &run.ctx.lambda;
    let result = run
        .step(Step::SmokeTest, async {
            Ok(smoke::run(lambda, &f, &target.smoke).await)
        })
        .await?;
    let why = smoke::failure_reason(&result, target.smoke.expect_status.as_deref());
    let passed = result.passed;
    run.dep.smoke_test = Some(result);
    if !passed {
        return Err(Failure::of(Step::SmokeTest, FailureKind::SmokeFailed, why));
    }
    Ok(())
}

/// Step 4: go live: the first step of a rollout from the stable version, or all at once; then prune.
async fn go_live(
    run: &mut Run<'_>,
    job: &Job<'_>,
    found: &Found,
    version: Version,
    previous: Option<Version>,
) -> Result<End, Failure> {
    let ctx = run.ctx;
    let alias = run.dep.alias.clone();
    if let (true, Some(current), Some(stable)) = (found.rolls_out, found.alias.as_ref(), previous) {
        let function = run.dep.function.clone();
        let info = run
            .step(
                Step::Rollout,
                crate::rollout::start(
                    ctx,
                    &function,
                    &alias,
                    current,
                    stable,
                    version,
                    &job.target.rollout,
                ),
            )
            .await?;
        run.dep.version = Some(stable);
        let rolling = End::rolling_out(format!(
            "rolling out version {version}: {}% of traffic, next check at {}",
            (info.weight * 100.0).round(),
            info.next_check_at.as_deref().unwrap_or_default()
        ));
        // A rollout it replaces (a newer push during a rollout) stops: its checks are deleted.
        let stale = crate::rollout::delete_checks(ctx, &function, &alias, Some(version)).await;
        run.dep.warnings.extend(stale);
        run.dep.rollout = Some(info);
        return Ok(rolling);
    }
    // A new alias has no provisioned concurrency yet: nothing to read.
    let pc = match found.alias {
        Some(_) => crate::ops::settle::provisioned_before(run.ctx, &mut run.dep).await,
        None => None,
    };
    let f = run.function();
    let f = f.as_str();
    let mut replaced = None;
    let promoted = run
        .step(Step::PromoteAlias, async {
            let refused = match promote(
                ctx,
                f,
                &alias,
                found.alias.as_ref(),
                version,
                MoveKind::Deploy,
            )
            .await
            {
                Ok(p) => return Ok(p),
                Err(e) => e,
            };
            // Two pushes deployed side by side and the older went live first: move again, once.
            let older = match job.pushed {
                Some(p) => older_push_took_our_place(ctx, f, &alias, p).await,
                None => None,
            };
            let Some((now, why)) = older else {
                return Err(refused);
            };
            replaced = Some(why);
            promote(ctx, f, &alias, Some(&now), version, MoveKind::Deploy).await
        })
        .await?;
    run.dep.warnings.extend(replaced);
    run.dep.version = Some(version);
    if promoted.moved == Moved::ByAnotherRun {
        // The same push, delivered twice, handled side by side: the other run moved the alias.
        return Ok(End::already_live(format!(
            "another run of this push moved alias {alias} to version {version} first"
        )));
    }
    tracing::info!(function = f, alias = %alias, version = %version, previous = ?previous, "alias moved");
    // Deployed means the new version serves: provisioned concurrency and traffic moved.
    after_move::settle(run, version, previous, &promoted, pc).await?;
    // Tidy up. Never fails the deployment.
    crate::ops::prune::after_move(
        ctx,
        &mut run.dep,
        job.target.keep_versions,
        version,
        previous,
    )
    .await;
    Ok(End::deployed_as_is())
}
