//! The deployment pipeline for one function, one file per step:
//! [`resolve`] → [`stale`] / duplicate checks → [`image_checks`] → [`pin`] (when the alias follows `$LATEST`) →
//! [`wait`] until ready → [`update`] → [`wait`] until updated → [`smoke`] → [`publish`] →
//! [`promote`] → [`prune`]; after a failure, [`restore`]. [`dry_run`] answers from reads only.
//!
//! The alias moves only in [`promote`], only to a version published from the exact code that
//! passed the smoke test. Any failure before that leaves the alias untouched; if `$LATEST` was
//! changed, it is put back on the image production runs (unless someone else changed the function
//! meanwhile: then their change stays and the report says so).

mod dry_run;
pub(crate) mod image_checks;
mod pin;
mod publish;
mod smoke;
mod stale;
mod update;

use crate::ops::alias::older_push_took_our_place;
use crate::ops::{Ctx, Failure, FailureKind, Latest, Moved, Run, promote, resolve, restore, wait};

use crate::config::Target;
use crate::record::{MoveKind, VersionRecord};
use crate::report::{Deployment, Outcome, Step};
use crate::types::{FunctionRef, ImageRef};
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
    match pipeline(&mut run, target, image, pushed, dry_run).await {
        Ok(outcome) => run.dep.outcome = outcome,
        Err(f) => {
            tracing::warn!(function = %function, step = ?f.step, reason = %f.reason, "deployment failed");
            run.dep.fail(f.step, f.kind, f.reason);
            // We never moved the alias, so it is where we found it, unless we could not read it
            // (then look again), or someone else moved it while we tried (then say where it
            // really is, and leave $LATEST alone too: production is theirs now).
            run.dep.version = run.dep.previous_version;
            if matches!(
                f.step,
                Step::Resolve | Step::PinAlias | Step::PromoteAlias | Step::Rollout
            ) && let Ok(now) = ctx.lambda.get_alias(function.as_str(), &target.alias).await
            {
                let now_on = now.as_ref().and_then(|a| a.target.version());
                let moved = f.step != Step::Resolve && now_on != run.dep.previous_version;
                run.dep.version = now_on;
                if let (true, Some(now)) = (moved, now) {
                    run.latest = Latest::Untouched;
                    run.dep.latest_restore = Some(crate::report::Restore {
                        restored: false,
                        image_uri: run.restore_image.clone(),
                        detail: format!(
                            "not restored: alias {} was changed by someone else during the deployment (it serves {}), so $LATEST was left on the tested image",
                            target.alias,
                            now.describe()
                        ),
                    });
                }
            }
            if let Some(restore) = restore::restore_latest(&mut run, &image.digest).await {
                run.dep.latest_restore = Some(restore);
            }
            // After production is safe again: a sweep must not retry an image that failed here.
            if !dry_run
                && crate::marks::rejects_image(&run.dep)
                && let Some(w) =
                    crate::marks::reject(&ctx.lambda, function.as_str(), &image.digest).await
            {
                run.dep.warnings.push(w);
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
    let f = run.function();
    let f = f.as_str();
    let alias = run.dep.alias.clone();

    // 1. What does production run? Is this event news?
    let live = run
        .step(Step::Resolve, resolve::resolve(lambda, f, &alias))
        .await?;
    let (mut alias_state, mut live_code, canary) = (live.alias, live.code, live.canary);
    run.dep.previous_version = alias_state.as_ref().and_then(|a| a.target.version());
    if let Some(why) = stale::stale_event(alias_state.as_ref(), live_code.as_ref(), image, pushed) {
        run.dep.version = run.dep.previous_version;
        run.dep.reason = Some(why);
        return Ok(Outcome::Skipped);
    }
    if let Some((v, _)) = canary.as_ref().filter(|(_, c)| c.runs(&image.digest)) {
        // The same push again while its rollout runs: the rollout goes on, nothing is touched.
        run.dep.version = run.dep.previous_version;
        run.dep.reason = Some(format!(
            "a rollout of this image (version {v}) is in progress on alias {alias}: nothing to do"
        ));
        return Ok(Outcome::AlreadyLive);
    }
    // Only clean, signed images go further (dry runs too); an image already live is not re-checked.
    let already_live = live_code.as_ref().is_some_and(|c| c.runs(&image.digest));
    if let Some(checks) = target.image_checks.as_ref().filter(|_| !already_live) {
        image_checks::gate(run, checks, image).await?;
    }
    let rolls_out = target.rollout.is_progressive()
        && alias_state
            .as_ref()
            .is_some_and(|a| a.target.version().is_some());
    if dry_run {
        let outcome =
            dry_run::verdict(run, alias_state.as_ref(), live_code.as_ref(), image).await?;
        if rolls_out && outcome == Outcome::WouldDeploy {
            let steps: Vec<String> = target
                .rollout
                .steps
                .iter()
                .map(|p| format!("{p}%"))
                .collect();
            if let Some(r) = run.dep.reason.as_mut() {
                r.push_str(&format!(
                    ", rolling out in steps of {} then 100% (gates checked every {} s, a step every {} s)",
                    steps.join(", "),
                    target.rollout.check_secs,
                    target.rollout.interval_secs
                ));
            }
        }
        return Ok(outcome);
    }
    if rolls_out && let Some(why) = ctx.rollouts.missing() {
        // Found out before anything changes, not after the new version is published.
        return Err(Failure::of(Step::Rollout, FailureKind::NotConfigured, why));
    }
    if let Some(a) = alias_state.clone().filter(|a| a.target.version().is_none()) {
        let (pinned, code) = run
            .step(Step::PinAlias, pin::pin(ctx, f, &alias, &a))
            .await?;
        alias_state = Some(pinned);
        live_code = Some(code);
    }
    let previous = alias_state.as_ref().and_then(|a| a.target.version());
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
            let s = wait::until_settled(lambda, f, None, ctx.wait_budget()).await?;
            pin::check_image_package(&s.state)?;
            Ok(s)
        })
        .await?;
    if run.restore_image.is_none() {
        // First deployment: no alias yet, so "what production runs" is what $LATEST ran.
        run.restore_image = before.state.image_uri.clone();
    }
    let tested = if before.state.runs(&image.digest) && before.state.update_failure().is_none() {
        // $LATEST already runs this digest: a duplicate delivery being handled right now, or a
        // rerun after a failure. Updating again would only disturb the other run's smoke test.
        tracing::info!(
            function = f,
            "$LATEST already runs the pushed digest; not updating it again"
        );
        before.state
    } else {
        run.latest = Latest::Requested;
        let revision = before.state.revision_id.clone();
        run.step(
            Step::UpdateCode,
            update::update_code(ctx, f, image, revision.as_ref()),
        )
        .await?;
        // 3. Until Lambda has applied it.
        let after = run
            .step(Step::WaitUpdated, async {
                Ok(wait::until_settled(lambda, f, None, ctx.wait_budget()).await?)
            })
            .await?;
        tracing::info!(
            function = f,
            polls = after.polls,
            waited_ms = after.waited.as_millis() as u64,
            "update settled"
        );
        if let Some(why) = after.state.update_failure() {
            return Err(Failure::of(
                Step::WaitUpdated,
                FailureKind::UpdateFailed,
                why,
            ));
        }
        if !after.state.runs(&image.digest) {
            return Err(Failure::of(
                Step::WaitUpdated,
                FailureKind::Conflict,
                format!(
                    "$LATEST runs {}, not {}: someone else updated the function during the deployment",
                    after
                        .state
                        .image_uri
                        .as_deref()
                        .unwrap_or(&after.state.code_sha256),
                    image.digest
                ),
            ));
        }
        run.latest = Latest::Ours;
        after.state
    };
    run.dep.code_sha256 = Some(tested.code_sha256.clone());

    // 4. Smoke test $LATEST.
    let result = run
        .step(Step::SmokeTest, async {
            Ok(smoke::run(lambda, f, &target.smoke).await)
        })
        .await?;
    let why = smoke::failure_reason(&result, target.smoke.expect_status.as_deref());
    let passed = result.passed;
    run.dep.smoke_test = Some(result);
    if !passed {
        return Err(Failure::of(Step::SmokeTest, FailureKind::SmokeFailed, why));
    }

    // 5. Publish exactly the tested code.
    let record = VersionRecord::new(image.digest.clone(), previous, pushed, image.tag.as_ref());
    let version = run
        .step(
            Step::Publish,
            publish::publish(ctx, f, &tested, &record.to_description()),
        )
        .await?;

    // 6. Go live: all at once, or the first step of a rollout from the stable version.
    if let (true, Some(current), Some(stable)) = (rolls_out, alias_state.as_ref(), previous) {
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
                    &target.rollout,
                ),
            )
            .await?;
        run.dep.version = Some(stable);
        run.dep.reason = Some(format!(
            "rolling out version {version}: {}% of traffic, next check at {}",
            (info.weight * 100.0).round(),
            info.next_check_at.as_deref().unwrap_or_default()
        ));
        // A rollout it replaces (a newer push during a rollout) stops: its checks are deleted.
        let stale = crate::rollout::delete_checks(ctx, &function, &alias, Some(version)).await;
        run.dep.warnings.extend(stale);
        run.dep.rollout = Some(info);
        return Ok(Outcome::RollingOut);
    }
    let mut replaced = None;
    let promoted = run
        .step(Step::PromoteAlias, async {
            let refused = match promote(
                ctx,
                f,
                &alias,
                alias_state.as_ref(),
                version,
                MoveKind::Deploy,
            )
            .await
            {
                Ok(p) => return Ok(p),
                Err(e) => e,
            };
            // Two pushes deployed side by side and the older went live first: move again, once.
            let older = match pushed {
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
        run.dep.reason = Some(format!(
            "another run of this push moved alias {alias} to version {version} first"
        ));
        return Ok(Outcome::AlreadyLive);
    }
    tracing::info!(function = f, alias = %alias, version = %version, previous = ?previous, "alias moved");

    // 7. Tidy up. Never fails the deployment.
    crate::ops::prune::after_move(ctx, &mut run.dep, target.keep_versions, version, previous).await;
    Ok(Outcome::Deployed)
}
