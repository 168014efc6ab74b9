//! The deployment pipeline for one function, one file per step:
//! [`resolve`] → pin (when the alias follows `$LATEST`) → [`poll`] until ready → [`update`] →
//! [`poll`] until updated → [`smoke`] → [`publish`] → [`promote`] → [`prune`].
//!
//! The alias moves only in [`promote`], only to a version published from the exact code that
//! passed the smoke test. Any failure before that leaves the alias untouched; if `$LATEST` was
//! changed, it is put back on the image production runs (unless someone else changed the function
//! meanwhile: then their change stays and the report says so).

pub mod poll;
pub mod promote;
pub mod prune;
pub mod publish;
pub mod resolve;
pub mod smoke;
pub mod state;
pub mod update;

use crate::aws::Clock;
use crate::config::Target;
use crate::report::{Deployment, Outcome, Restore, Step, StepTiming};
use crate::types::{AliasName, AliasTarget, FunctionRef, ImageRef, RevisionId, Version};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::PackageType;
use chrono::{DateTime, Utc};
use poll::{PollError, Settled, until_settled};
use publish::VersionRecord;
use resolve::AliasState;
use state::FunctionState;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

/// What a step reports when it fails.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    pub reason: String,
    /// Someone else changed the function or alias while we worked (a RevisionId guard tripped).
    /// We then change nothing further, not even to restore `$LATEST`.
    pub concurrent: bool,
}

impl StepError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            concurrent: false,
        }
    }

    pub fn concurrent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            concurrent: true,
        }
    }
}

impl From<PollError> for StepError {
    fn from(e: PollError) -> Self {
        Self::new(e.to_string())
    }
}

/// A step that failed, and how.
#[derive(Debug)]
pub(crate) struct Failure {
    pub step: Step,
    pub error: StepError,
}

/// Runs one step, appending its duration to `steps`, and tags a failure with the step's name.
pub(crate) async fn timed<T>(
    clock: &Clock,
    steps: &mut Vec<StepTiming>,
    step: Step,
    fut: impl Future<Output = Result<T, StepError>>,
) -> Result<T, Failure> {
    let start = clock.now();
    let res = fut.await;
    let ms = clock.since(start).as_millis() as u64;
    steps.push(StepTiming { step, ms });
    res.map_err(|error| Failure { step, error })
}

/// What the pipeline needs from outside: the Lambda client, its clock, the update timeout.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lambda: Client,
    pub clock: Clock,
    pub update_timeout: Duration,
}

impl Ctx {
    pub fn new(lambda: Client, update_timeout: Duration) -> Self {
        let clock = Clock::of(lambda.config());
        Self {
            lambda,
            clock,
            update_timeout,
        }
    }
}

/// One function's run: the report being written, and what a restore would need.
struct Run<'a> {
    ctx: &'a Ctx,
    dep: Deployment,
    /// Our UpdateFunctionCode went through: `$LATEST` no longer runs what it ran.
    latest_changed: bool,
    /// The image production ran when we started (by digest), to put `$LATEST` back on.
    restore_image: Option<String>,
    /// We saw the function settle after our update, with this RevisionId (if Lambda sent one).
    after_update: Option<Option<RevisionId>>,
}

impl Run<'_> {
    /// Runs one step, recording its duration, and tags a failure with the step's name.
    async fn step<T>(
        &mut self,
        step: Step,
        fut: impl Future<Output = Result<T, StepError>>,
    ) -> Result<T, Failure> {
        timed(&self.ctx.clock, &mut self.dep.steps, step, fut).await
    }
}

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
    let mut run = Run {
        ctx,
        dep: Deployment::new(function.clone(), target.alias.clone()),
        latest_changed: false,
        restore_image: None,
        after_update: None,
    };
    match pipeline(&mut run, target, image, pushed, dry_run).await {
        Ok(outcome) => run.dep.outcome = outcome,
        Err(f) => {
            tracing::warn!(function = %function, step = ?f.step, reason = %f.error.reason, "deployment failed");
            run.dep.outcome = Outcome::Failed;
            // We never moved the alias, so it is where we found it, unless someone else moved it.
            if !f.error.concurrent {
                run.dep.version = run.dep.previous_version;
            }
            run.dep.failed_step = Some(f.step);
            run.dep.reason = Some(f.error.reason.clone());
            if run.latest_changed {
                let restore = restore_latest(&mut run, &f).await;
                run.dep.latest_restore = Some(restore);
            }
        }
    }
    run.dep
}

async fn pipeline(
    run: &mut Run<'_>,
    target: &Target,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
    dry_run: bool,
) -> Result<Outcome, Failure> {
    let ctx = run.ctx;
    let lambda = &ctx.lambda;
    let function = run.dep.function.as_str().to_owned();
    let f = function.as_str();
    let alias = run.dep.alias.clone();
    let timeout = ctx.update_timeout;

    // 1. What does production run?
    let live = run
        .step(Step::Resolve, resolve::resolve(lambda, f, &alias))
        .await?;
    run.dep.previous_version = match live.alias.as_ref().map(|a| a.target) {
        Some(AliasTarget::Version(v)) => Some(v),
        _ => None,
    };
    let mut alias_state = live.alias;
    let mut live_code = live.code;
    if let Some(why) = stale_event(live_code.as_ref(), image, pushed) {
        // EventBridge does not keep order: an older push arriving after a newer one went live must
        // not roll production back by accident (a manual deploy can still do it on purpose).
        run.dep.version = run.dep.previous_version;
        run.dep.reason = Some(why);
        return Ok(Outcome::Skipped);
    }
    if dry_run {
        return dry_run_verdict(run, &alias, alias_state.as_ref(), live_code.as_ref(), image).await;
    }
    if let Some(a) = alias_state
        .clone()
        .filter(|a| a.target == AliasTarget::Latest)
    {
        // An alias on the mutable $LATEST would go live with our update before the smoke test.
        // Freeze what it serves into a version first; callers see no change.
        let (version, revision, code) = run.step(Step::PinAlias, pin(ctx, f, &alias, &a)).await?;
        alias_state = Some(AliasState {
            revision_id: revision,
            target: AliasTarget::Version(version),
            has_routing: false,
        });
        live_code = Some(code);
    }
    let previous = match alias_state.as_ref().map(|a| a.target) {
        Some(AliasTarget::Version(v)) => Some(v),
        _ => None,
    };
    run.dep.previous_version = previous;
    if let Some(code) = live_code.as_ref().filter(|c| c.runs(&image.digest)) {
        // A duplicate delivery, or a re-push of what is live: nothing to do, nothing touched.
        run.dep.version = previous;
        run.dep.code_sha256 = Some(code.code_sha256.clone());
        run.dep.reason = Some(format!(
            "alias {alias} already points to version {} which runs {}",
            previous.map(|v| v.to_string()).unwrap_or_default(),
            image.digest
        ));
        return Ok(Outcome::AlreadyLive);
    }
    run.restore_image = live_code.and_then(|c| c.image_uri);

    // 2. Wait out anyone else's update, then point $LATEST at the new image.
    let before = run
        .step(Step::WaitReady, async {
            let s = until_settled(lambda, &ctx.clock, f, None, timeout).await?;
            check_image_package(&s.state)?;
            Ok(s)
        })
        .await?;
    if run.restore_image.is_none() {
        // First deployment: no alias yet, so "what production runs" is what $LATEST ran.
        run.restore_image = before.state.image_uri.clone();
    }
    let after: Settled =
        if before.state.runs(&image.digest) && before.state.update_failure().is_none() {
            // $LATEST already runs this digest: a duplicate delivery being handled right now, or a
            // rerun after a failure. Updating again would only disturb the other run's smoke test.
            tracing::info!(
                function = f,
                "$LATEST already runs the pushed digest; not updating it again"
            );
            before
        } else {
            let uri = image.uri();
            run.step(
                Step::UpdateCode,
                update::update_code(
                    lambda,
                    &ctx.clock,
                    f,
                    &uri,
                    before.state.revision_id.as_ref(),
                    timeout,
                ),
            )
            .await?;
            run.latest_changed = true;

            // 3. Until Lambda has applied it.
            let after: Settled = run
                .step(Step::WaitUpdated, async {
                    Ok(until_settled(lambda, &ctx.clock, f, None, timeout).await?)
                })
                .await?;
            run.after_update = Some(after.state.revision_id.clone());
            tracing::info!(
                function = f,
                polls = after.polls,
                waited_ms = after.waited.as_millis() as u64,
                "update settled"
            );
            after
        };
    if let Some(why) = after.state.update_failure() {
        return Err(Failure {
            step: Step::WaitUpdated,
            error: StepError::new(why),
        });
    }
    if !after.state.runs(&image.digest) {
        return Err(Failure {
            step: Step::WaitUpdated,
            error: StepError::concurrent(format!(
                "$LATEST runs {}, not {}: someone else updated the function during the deployment",
                after
                    .state
                    .image_uri
                    .as_deref()
                    .unwrap_or(&after.state.code_sha256),
                image.digest
            )),
        });
    }
    run.dep.code_sha256 = Some(after.state.code_sha256.clone());

    // 4. Smoke test $LATEST.
    let expect = target.smoke.expect_status.as_deref();
    let result = run
        .step(Step::SmokeTest, async {
            Ok(smoke::run(lambda, f, &target.smoke).await)
        })
        .await?;
    let passed = result.passed;
    let why = smoke::failure_reason(&result, expect);
    run.dep.smoke_test = Some(result);
    if !passed {
        return Err(Failure {
            step: Step::SmokeTest,
            error: StepError::new(why),
        });
    }

    // 5. Publish exactly the tested code.
    let record = VersionRecord {
        digest: image.digest.clone(),
        previous,
        pushed,
        tag: image.tag.clone(),
        pinned: false,
    };
    let version = run
        .step(
            Step::Publish,
            publish::publish(
                lambda,
                &ctx.clock,
                f,
                &after.state.code_sha256,
                after.state.revision_id.as_ref(),
                &record.to_description(),
                timeout,
            ),
        )
        .await?;

    // 6. Go live.
    let moved = run
        .step(
            Step::PromoteAlias,
            promote::promote(lambda, f, &alias, alias_state.as_ref(), version),
        )
        .await;
    match moved {
        Ok(_) => {}
        // The guard tripped because another run of the same push got there first: the alias
        // already serves exactly this version. Anything else someone did stays theirs.
        Err(f_)
            if f_.error.concurrent
                && promote::landed(lambda, f, &alias, version).await.is_some() =>
        {
            run.dep.version = Some(version);
            run.dep.reason = Some(format!(
                "another run of this push moved alias {alias} to version {version} first"
            ));
            return Ok(Outcome::AlreadyLive);
        }
        Err(f_) => return Err(f_),
    }
    run.dep.version = Some(version);
    tracing::info!(function = f, alias = %alias, version = %version, previous = ?previous, "alias moved");

    // 7. Tidy up. Never fails the deployment.
    if target.keep_versions > 0 {
        let protected: BTreeSet<Version> =
            [Some(version), previous].into_iter().flatten().collect();
        let (pruned, warnings) = run
            .step(Step::Prune, async {
                Ok(prune::prune(lambda, f, target.keep_versions, protected).await)
            })
            .await?;
        run.dep.pruned_versions = pruned;
        run.dep.warnings.extend(warnings);
    }
    Ok(Outcome::Deployed)
}

/// What a real run would do, from reads only: already live, or which alias would move from where.
async fn dry_run_verdict(
    run: &mut Run<'_>,
    alias: &AliasName,
    alias_state: Option<&AliasState>,
    live_code: Option<&FunctionState>,
    image: &ImageRef,
) -> Result<Outcome, Failure> {
    let ctx = run.ctx;
    let f = run.dep.function.as_str().to_owned();
    let latest = run
        .step(Step::WaitReady, async {
            let out = ctx
                .lambda
                .get_function()
                .function_name(&f)
                .send()
                .await
                .map_err(|e| {
                    StepError::new(format!("GetFunction failed: {}", crate::aws::describe(&e)))
                })?;
            let state = FunctionState::from_output(&out).map_err(StepError::new)?;
            check_image_package(&state)?;
            Ok(state)
        })
        .await?;
    let previous = match alias_state.map(|a| a.target) {
        Some(AliasTarget::Version(v)) => Some(v),
        _ => None,
    };
    run.dep.previous_version = previous;
    // A dry run leaves the alias where it is.
    run.dep.version = previous;
    let pinned = alias_state.is_some_and(|a| a.target == AliasTarget::Latest);
    if !pinned && live_code.is_some_and(|c| c.runs(&image.digest)) {
        run.dep.reason = Some(format!("alias {alias} already runs {}", image.digest));
        return Ok(Outcome::AlreadyLive);
    }
    let from = match (alias_state.map(|a| a.target), previous) {
        (None, _) => format!("create alias {alias}"),
        (Some(AliasTarget::Latest), _) => {
            format!("pin alias {alias} (now on $LATEST) to a version first, then move it")
        }
        (_, Some(v)) => format!("move alias {alias} from version {v}"),
        _ => format!("move alias {alias}"),
    };
    let busy = if latest.is_settling() {
        " after the update in progress"
    } else {
        ""
    };
    run.dep.reason = Some(format!(
        "dry run: would update $LATEST to {}{busy}, smoke test it, publish a version and {from}",
        image.uri()
    ));
    Ok(Outcome::WouldDeploy)
}

/// `Some(reason)` when the live version records a push later than this event's: this event is
/// stale. Pure, for the report's sake and for tests.
pub fn stale_event(
    live: Option<&FunctionState>,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
) -> Option<String> {
    let pushed = pushed?;
    let live = live?;
    if live.runs(&image.digest) {
        return None;
    }
    let record = VersionRecord::parse(&live.description)?;
    let live_pushed = record.pushed?;
    (live_pushed > pushed).then(|| {
        format!(
            "stale_event: this image was pushed at {}, but the live code ({}) was pushed later, at {}",
            pushed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            record.tag.as_deref().unwrap_or(record.digest.as_str()),
            live_pushed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    })
}

fn check_image_package(s: &FunctionState) -> Result<(), StepError> {
    match &s.package_type {
        Some(PackageType::Image) | None => Ok(()),
        Some(other) => Err(StepError::new(format!(
            "the function is packaged as {}: self-deployer deploys container images only",
            other.as_str()
        ))),
    }
}

/// Freezes what an alias on `$LATEST` serves into a version and points the alias at it.
async fn pin(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: &AliasState,
) -> Result<(Version, RevisionId, FunctionState), StepError> {
    let s = until_settled(&ctx.lambda, &ctx.clock, function, None, ctx.update_timeout).await?;
    check_image_package(&s.state)?;
    let digest = s.state.digest().ok_or_else(|| {
        StepError::new("cannot tell which image $LATEST runs, so it cannot be pinned")
    })?;
    let record = VersionRecord {
        digest,
        previous: None,
        pushed: None,
        tag: None,
        pinned: true,
    };
    let version = publish::publish(
        &ctx.lambda,
        &ctx.clock,
        function,
        &s.state.code_sha256,
        s.state.revision_id.as_ref(),
        &record.to_description(),
        ctx.update_timeout,
    )
    .await?;
    let revision = promote::promote(&ctx.lambda, function, alias, Some(current), version).await?;
    Ok((version, revision, s.state))
}

/// After a failure: put `$LATEST` back on the image production runs, guarded by the RevisionId we
/// last saw, so that a change someone else made in the meantime is never overwritten.
async fn restore_latest(run: &mut Run<'_>, failure: &Failure) -> Restore {
    let image = run.restore_image.clone();
    let not = |detail: &str| Restore {
        restored: false,
        image_uri: image.clone(),
        detail: detail.to_owned(),
    };
    if failure.error.concurrent {
        return not(
            "not restored: someone else changed the function during the deployment, and their change was left in place",
        );
    }
    let Some(uri) = image.clone() else {
        return not("not restored: there is no earlier image to go back to");
    };
    if failure.step == Step::WaitUpdated && run.after_update.is_none() {
        return not(
            "not restored: the update's outcome is unknown (still in progress or unreadable); $LATEST may run the new image",
        );
    }
    let ctx = run.ctx;
    let f = run.dep.function.as_str().to_owned();
    let revision = run.after_update.clone();
    let res = run
        .step(Step::RestoreLatest, async {
            let revision = match revision {
                Some(r) => r,
                None => {
                    until_settled(&ctx.lambda, &ctx.clock, &f, None, ctx.update_timeout)
                        .await?
                        .state
                        .revision_id
                }
            };
            update::update_code(
                &ctx.lambda,
                &ctx.clock,
                &f,
                &uri,
                revision.as_ref(),
                ctx.update_timeout,
            )
            .await?;
            let s = until_settled(&ctx.lambda, &ctx.clock, &f, None, ctx.update_timeout).await?;
            match s.state.update_failure() {
                Some(why) => Err(StepError::new(why)),
                None => Ok(()),
            }
        })
        .await;
    match res {
        Ok(()) => Restore {
            restored: true,
            image_uri: image,
            detail: "$LATEST runs the live image again".to_owned(),
        },
        Err(f) => {
            tracing::error!(reason = %f.error.reason, "could not restore $LATEST");
            not(&format!("not restored: {}", f.error.reason))
        }
    }
}
