//! Step 2: point `$LATEST` at the new image, guarded by the RevisionId we read.

use crate::aws::{Clock, describe, is_conflict, is_precondition_failed};
use crate::deploy::StepError;
use crate::deploy::poll::until_settled;
use crate::types::RevisionId;
use aws_sdk_lambda::Client;
use std::time::Duration;

/// How many times an update that Lambda refuses because another update is running is tried.
pub const MAX_UPDATE_ATTEMPTS: u32 = 3;

/// `UpdateFunctionCode(ImageUri, RevisionId)`. A `ResourceConflictException` (another update is
/// running) is waited out and retried; a `PreconditionFailedException` (someone changed the
/// function since we read it) stops the run, because we no longer know what we would overwrite.
pub async fn update_code(
    lambda: &Client,
    clock: &Clock,
    function: &str,
    image_uri: &str,
    revision: Option<&RevisionId>,
    timeout: Duration,
) -> Result<(), StepError> {
    let mut revision = revision.cloned();
    let mut attempt = 1;
    loop {
        let res = lambda
            .update_function_code()
            .function_name(function)
            .image_uri(image_uri)
            .set_revision_id(revision.as_ref().map(|r| r.as_str().to_owned()))
            .publish(false)
            .send()
            .await;
        match res {
            Ok(_) => return Ok(()),
            Err(e) if is_precondition_failed(&e) => {
                return Err(StepError::concurrent(format!(
                    "the function changed after it was read ({}); nothing was updated",
                    describe(&e)
                )));
            }
            Err(e) if is_conflict(&e) && attempt < MAX_UPDATE_ATTEMPTS => {
                tracing::info!(
                    function,
                    attempt,
                    "another update is in progress; waiting it out"
                );
                let settled = until_settled(lambda, clock, function, None, timeout).await?;
                revision = settled.state.revision_id;
                attempt += 1;
            }
            Err(e) => {
                return Err(StepError::new(format!(
                    "UpdateFunctionCode failed (attempt {attempt} of {MAX_UPDATE_ATTEMPTS}): {}",
                    describe(&e)
                )));
            }
        }
    }
}
