//! An image index (what `docker buildx` pushes by default) to the one image Lambda can run: the
//! image for the function's architecture (`Architectures` from GetFunction of `$LATEST`),
//! attestations left out. Lambda refuses an index outright, so this happens before anything else
//! reads or changes the function; an index without an image for it fails here, nothing changed.

use crate::ops::{Ctx, Failure, FailureKind};
use crate::report::Step;
use crate::types::{Digest, ImageRef, Manifest, ManifestKind};

/// The image chosen from an index.
pub(super) struct Chosen {
    pub image: ImageRef,
    pub index: Digest,
    pub platform: String,
}

impl Chosen {
    pub fn report(&self) -> crate::report::IndexChoice {
        crate::report::IndexChoice {
            index_digest: self.index.to_string(),
            image_digest: self.image.digest.to_string(),
            platform: self.platform.clone(),
        }
    }
}

/// `Some` when `image` is an index: the image to deploy instead. `None`: deploy `image` itself (a
/// plain image, or one ECR does not have, which UpdateFunctionCode then reports as before).
pub(super) async fn choose(
    ctx: &Ctx,
    function: &str,
    image: &ImageRef,
) -> Result<Option<Chosen>, Failure> {
    if image.manifest == ManifestKind::Image {
        // The event or listing said so: no call needed.
        return Ok(None);
    }
    let fail = |kind, why: String| Failure::of(Step::Resolve, kind, why);
    let manifest = ctx
        .ecr
        .manifest(&image.account, &image.repository, &image.digest)
        .await
        .map_err(|e| fail(e.kind.into(), e.to_string()))?;
    let Some(Manifest::Index(index)) = manifest else {
        return Ok(None);
    };
    let latest = ctx
        .lambda
        .get_function(function, None)
        .await
        .map_err(|e| fail(e.kind.into(), e.to_string()))?;
    let child = index
        .image_for(latest.architecture)
        .map_err(|why| fail(FailureKind::ImageRejected, why))?;
    tracing::info!(
        function,
        index = %index.digest,
        image = %child.digest,
        platform = %child.platform,
        "image index resolved to the image for the function's architecture"
    );
    Ok(Some(Chosen {
        image: ImageRef {
            digest: child.digest.clone(),
            manifest: ManifestKind::Image,
            ..image.clone()
        },
        index: index.digest.clone(),
        platform: child.platform.clone(),
    }))
}
