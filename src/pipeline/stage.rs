//! Step 2 of a deployment: `$LATEST` onto the new image, and the wait until Lambda has applied it.

use super::{pin, update};
use crate::gateway::FunctionState;
use crate::ops::{Failure, FailureKind, Latest, Run, wait};
use crate::report::Step;
use crate::types::ImageRef;

/// Step 2: wait out anyone else's update, then point `$LATEST` at the new image and wait until Lambda
/// has applied it. Returns what `$LATEST` runs: the code the smoke test will test.
pub(super) async fn stage(run: &mut Run<'_>, image: &ImageRef) -> Result<FunctionState, Failure> {
    let ctx = run.ctx;
    let lambda = &ctx.lambda;
    let f = run.function();
    let f = f.as_str();
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
    if before.state.runs(&image.digest) && before.state.update_failure().is_none() {
        // $LATEST already runs this digest: a duplicate delivery being handled right now, or a
        // rerun after a failure. Updating again would only disturb the other run's smoke test.
        tracing::info!(
            function = f,
            "$LATEST already runs the pushed digest; not updating it again"
        );
        return Ok(before.state);
    }
    run.latest = Latest::Requested;
    let revision = before.state.revision_id.clone();
    run.step(
        Step::UpdateCode,
        update::update_code(ctx, f, image, revision.as_ref()),
    )
    .await?;
    let after = run
        .step(Step::WaitUpdated, async {
            Ok(wait::until_runnable(lambda, f, ctx.wait_budget()).await?)
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
    Ok(after.state)
}
