//! Point `$LATEST` at the new image, guarded by the RevisionId we read.

use crate::gateway::ErrorKind;
use crate::ops::wait::until_settled;
use crate::ops::{Ctx, StepError};
use crate::types::{ImageRef, RevisionId};

/// How many times an update that Lambda refuses because another update is running is tried.
pub const MAX_UPDATE_ATTEMPTS: u32 = 3;

/// `UpdateFunctionCode(ImageUri, RevisionId)`. A `ResourceConflictException` (another update is
/// running) is waited out and retried. Any other error is checked before it is believed: if the
/// call went through and only its answer was lost (the SDK's retry then trips our own guard, or
/// times out), `$LATEST` runs our image and the run goes on.
pub async fn update_code(
    ctx: &Ctx,
    function: &str,
    image: &ImageRef,
    revision: Option<&RevisionId>,
) -> Result<(), StepError> {
    let uri = image.uri();
    let mut revision = revision.cloned();
    let mut attempt = 1;
    loop {
        let err = match ctx
            .lambda
            .update_code(function, &uri, revision.as_ref())
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if err.is(ErrorKind::Conflict) && attempt < MAX_UPDATE_ATTEMPTS {
            tracing::info!(
                function,
                attempt,
                "another update is in progress; waiting it out"
            );
            let settled = until_settled(&ctx.lambda, function, None, ctx.wait_budget()).await?;
            if settled.state.runs(&image.digest) && settled.state.update_failure().is_none() {
                // The update in the way was ours: an earlier attempt whose answer was lost.
                return Ok(());
            }
            revision = settled.state.revision_id;
            attempt += 1;
            continue;
        }
        let what = if err.is(ErrorKind::PreconditionFailed) {
            format!("the function changed after it was read ({})", err.message)
        } else {
            format!(
                "UpdateFunctionCode failed (attempt {attempt} of {MAX_UPDATE_ATTEMPTS}): {}",
                err.message
            )
        };
        return match ctx.lambda.get_function(function, None).await {
            Ok(now) if now.runs(&image.digest) => {
                tracing::warn!(function, error = %err, "UpdateFunctionCode reported an error, but $LATEST runs the pushed image: it went through");
                Ok(())
            }
            Ok(now) => Err(StepError::new(format!(
                "{what}; $LATEST still runs {}",
                now.image_uri.as_deref().unwrap_or(&now.code_sha256)
            ))),
            Err(read) => Err(StepError::new(format!(
                "{what}; $LATEST could not be read afterwards ({read}), so it may run the new image"
            ))),
        };
    }
}
