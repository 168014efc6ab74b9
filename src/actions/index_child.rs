//! An index push emits one "ECR Image Action" event per manifest: first each platform image and
//! attestation, untagged, then the index with its tag. Only the index's event deploys (each
//! function gets its own platform's image); the others are skipped quietly, with no Lambda call.
//! A plain image pushed by digest (untagged, in no index) still deploys as it always did.

use super::Deps;
use crate::input::EcrImageAction;
use crate::report::{ActionKind, Report};
use crate::types::ManifestKind;

/// How long after an untagged image's push its index may still be on its way: `buildx` pushes
/// the index as soon as its images are in, within seconds.
const INDEX_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// `Some(report)` when `ev` is the push of an image that belongs to an index (skipped), or when
/// ECR could not say whether it does (failed: deploying one platform's image to every function
/// could run it on the wrong architecture). `None`: deploy as usual.
pub(super) async fn part_of_index(deps: &Deps<'_>, ev: &EcrImageAction) -> Option<Report> {
    // A tagged push names what people deploy; an index resolves itself in the pipeline. Only an
    // untagged image manifest can be an index's child, and only a configured repository matters.
    // An event that names no media type is from before ECR sent one: deployed as it always was.
    if ev.tag.is_some()
        || ev.manifest != Some(ManifestKind::Image)
        || !ev.is_push()
        || deps.config.targets_for(&ev.repository).is_empty()
    {
        return None;
    }
    let digest = ev.digest.as_ref()?;
    let ecr = &deps.ctx.ecr;
    let mut found = ecr.index_of(&ev.account, &ev.repository, digest).await;
    // Its index is pushed right after it, but this event can be handled first: a push that
    // recent gets a second look once the grace after its push time has passed.
    let clock = deps.ctx.clock();
    let grace = (ev.time + INDEX_GRACE - clock.now_utc()).to_std().ok();
    if let (Ok(None), Some(left)) = (&found, grace) {
        tracing::info!(digest = %digest, waited_ms = left.as_millis() as u64, "no index lists this untagged image yet: looking again");
        clock.sleep(left).await;
        found = ecr.index_of(&ev.account, &ev.repository, digest).await;
    }
    match found {
        Ok(None) => None,
        Ok(Some((index, tags))) => {
            let role = index.role_of(digest).unwrap_or_default();
            let tagged = if tags.is_empty() {
                String::new()
            } else {
                format!(" (tagged {})", tags.join(", "))
            };
            let why = format!(
                "{} is the {role} manifest of index {}{tagged}: the index's own push deploys it, each function getting the image for its architecture",
                digest.short(),
                index.digest
            );
            tracing::info!(repository = %ev.repository, %why, "skipped");
            Some(Report::skipped(ActionKind::Deploy, why))
        }
        Err(e) => Some(Report::failed(
            ActionKind::Deploy,
            format!(
                "could not tell whether untagged image {} belongs to an image index ({e}): nothing was deployed",
                digest.short()
            ),
        )),
    }
}
