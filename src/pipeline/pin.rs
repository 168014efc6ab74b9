//! An alias that follows `$LATEST` would go live with our update before the smoke test: freeze what
//! it serves into a version first and point the alias there. Callers see no change.

use super::publish::publish;
use crate::gateway::{AliasState, FunctionState};
use crate::ops::promote;
use crate::ops::wait::until_settled;
use crate::ops::{Ctx, StepError};
use crate::record::{MoveKind, VersionRecord};
use crate::types::{AliasName, AliasTarget};

/// Returns the alias as it is after the pin, and the code it serves.
pub async fn pin(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: &AliasState,
) -> Result<(AliasState, FunctionState), StepError> {
    let s = until_settled(&ctx.lambda, function, None, ctx.wait_budget()).await?;
    check_image_package(&s.state)?;
    let digest = s.state.digest().ok_or_else(|| {
        StepError::new("cannot tell which image $LATEST runs, so it cannot be pinned")
    })?;
    let record = VersionRecord {
        pinned: true,
        ..VersionRecord::new(digest, None, None, None)
    };
    let version = publish(ctx, function, &s.state, &record.to_description()).await?;
    let promoted = promote(ctx, function, alias, Some(current), version, MoveKind::Pin).await?;
    let revision_id = promoted
        .revision
        .ok_or_else(|| StepError::new("the alias was pinned, but Lambda returned no RevisionId"))?;
    let pinned = AliasState {
        revision_id,
        target: AliasTarget::Version(version),
        routing: Vec::new(),
        description: String::new(),
        transition: None,
    };
    Ok((pinned, s.state))
}

/// Container images only: a .zip function has no image to point at.
pub fn check_image_package(s: &FunctionState) -> Result<(), StepError> {
    if s.is_image() {
        return Ok(());
    }
    let kind = s.package_type.as_ref().map_or("unknown", |p| p.as_str());
    Err(StepError::new(format!(
        "the function is packaged as {kind}: self-deployer deploys container images only"
    )))
}
