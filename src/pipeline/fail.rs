//! After a failed deployment: say where and why, put `$LATEST` back, mark an image at fault.

use super::Job;
use crate::ops::{Failure, Latest, Run, restore};
use crate::report::Step;

/// After a failure: the report says where and why; `$LATEST` goes back on what production runs
/// (unless someone else changed the alias meanwhile: then production is theirs); an image at fault
/// is marked so that a sweep does not retry it.
pub(super) async fn fail(run: &mut Run<'_>, job: &Job<'_>, f: Failure) {
    let ctx = run.ctx;
    let function = run.dep.function.clone();
    let alias = job.target.alias.clone();
    tracing::warn!(function = %function, step = ?f.step, reason = %f.reason, "deployment failed");
    let step = f.step;
    run.dep.fail(f.step, f.kind, f.reason);
    // We never moved the alias, so it is where we found it, unless we could not read it
    // (then look again), or someone else moved it while we tried (then say where it
    // really is, and leave $LATEST alone too: production is theirs now).
    run.dep.version = run.dep.previous_version;
    if matches!(
        step,
        Step::Resolve
            | Step::PinAlias
            | Step::PromoteAlias
            | Step::Rollout
            | Step::ProvisionedConcurrency
    ) && let Ok(now) = ctx.lambda.get_alias(function.as_str(), &alias).await
    {
        let now_on = now.as_ref().and_then(|a| a.target.version());
        let moved = step != Step::Resolve && now_on != run.dep.previous_version;
        run.dep.version = now_on;
        if let (true, Some(now)) = (moved, now) {
            run.latest = Latest::Untouched;
            run.dep.latest_restore = Some(crate::report::Restore {
                restored: false,
                image_uri: run.restore_image.clone(),
                detail: format!(
                    "not restored: alias {alias} was changed by someone else during the deployment (it serves {}), so $LATEST was left on the tested image",
                    now.describe()
                ),
            });
        }
    }
    if let Some(restore) = restore::restore_latest(run, &job.image.digest).await {
        run.dep.latest_restore = Some(restore);
    }
    // After production is safe again: a sweep must not retry an image that failed here. A sweep
    // sees the index that was pushed, so that is what is marked.
    let pushed_digest = job.index.unwrap_or(&job.image.digest);
    if !job.dry_run
        && crate::marks::rejects_image(&run.dep)
        && let Some(w) = crate::marks::reject(&ctx.lambda, function.as_str(), pushed_digest).await
    {
        run.dep.warnings.push(w);
    }
}
