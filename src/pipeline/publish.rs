//! Freeze exactly the smoke-tested code into an immutable version.

use crate::gateway::ErrorKind;
use crate::gateway::FunctionState;
use crate::ops::wait::until_settled;
use crate::ops::{Ctx, StepError};
use crate::types::Version;

/// `PublishVersion` guarded twice: `CodeSha256` is the code that passed the smoke test, and
/// `RevisionId` is the function as it was then. If anyone changed code or configuration in
/// between, Lambda refuses and nothing untested becomes a version. Waits until the new version
/// is Active, so the alias never moves to a version that cannot start yet.
pub async fn publish(
    ctx: &Ctx,
    function: &str,
    tested: &FunctionState,
    description: &str,
) -> Result<Version, StepError> {
    let code_sha256 = tested.code_sha256.as_str();
    let out = ctx
        .lambda
        .publish(
            function,
            code_sha256,
            tested.revision_id.as_ref(),
            description,
        )
        .await
        .map_err(|e| {
            if e.is(ErrorKind::PreconditionFailed) || e.is(ErrorKind::CodeShaMismatch) {
                StepError::new(format!(
                    "the function changed after the smoke test ({}); nothing was published",
                    e.message
                ))
            } else {
                StepError::from(e)
            }
        })?;
    let version = out.version;
    // Belt and braces: Lambda enforces the CodeSha256 guard; a response that contradicts it
    // (an emulator, a bug) must still not reach the alias.
    if let Some(sha) = out.code_sha256.filter(|sha| sha != code_sha256) {
        return Err(StepError::new(format!(
            "version {version} has CodeSha256 {sha}, not the smoke-tested {code_sha256}"
        )));
    }
    if out.pending {
        let settled = until_settled(
            &ctx.lambda,
            function,
            Some(&version.to_string()),
            ctx.wait_budget(),
        )
        .await?;
        if let Some(why) = settled.state.update_failure() {
            return Err(StepError::new(format!(
                "version {version} did not become active: {why}"
            )));
        }
    }
    Ok(version)
}
