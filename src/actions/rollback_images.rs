//! Whether the images rollback targets run still exist in ECR. Lifecycle rules delete old images,
//! and Lambda cannot start a version whose image is gone (StateReasonCode `ImageDeleted` when it
//! needs to re-optimise it), so `status` and `history` say so before anyone relies on it. One
//! BatchGetImage for the digests shown; a read that fails leaves the answer unknown (`None`).

use crate::ops::Ctx;
use crate::types::{Account, Digest, ImageRef, Repository, Version};
use std::collections::HashSet;

/// Does the image version `version` of `function` runs still exist? `None`: cannot tell.
pub(super) async fn version_image_exists(
    ctx: &Ctx,
    function: &str,
    version: Version,
) -> Option<bool> {
    let state = ctx
        .lambda
        .get_function(function, Some(&version.to_string()))
        .await
        .ok()?;
    if state.image_deleted().is_some() {
        return Some(false);
    }
    let image: ImageRef = state.image_uri.as_deref()?.parse().ok()?;
    let found = ctx
        .ecr
        .present(
            &image.account,
            &image.repository,
            std::slice::from_ref(&image.digest),
        )
        .await
        .ok()?;
    Some(found.contains(&image.digest))
}

/// Which of `digests` exist in `registry`/`repository`; `None` when ECR could not be asked.
pub(super) async fn existing(
    ctx: &Ctx,
    registry: &Account,
    repository: &Repository,
    digests: &[Digest],
) -> Option<HashSet<Digest>> {
    if digests.is_empty() {
        return Some(HashSet::new());
    }
    match ctx.ecr.present(registry, repository, digests).await {
        Ok(found) => Some(found),
        Err(e) => {
            tracing::warn!(error = %e, "could not tell whether the versions' images still exist");
            None
        }
    }
}
