//! What the deployer writes on the function itself, as tags, where no version or alias
//! description can hold it: which images were rejected for this function, and which drift was
//! already told. Tags, not a database: they live and die with the function, need no table to
//! create, and are read in one call by the sweep that needs them.
//!
//! `self-deployer:rejected` lists short digests (16 hex characters) of images whose deployment
//! failed on the image's own account (smoke test, image checks, an update Lambda could not apply)
//! or that were rolled back (by hand or by a rollout gate), most recent last, at most
//! [`MAX_REJECTED`] so the value stays within Lambda's 256 characters. `self-deployer:drift` holds
//! the RevisionId of the hand-moved alias state that was last notified.

use crate::gateway::{ApiError, Lambda};
use crate::report::{Deployment, FailureKind, ImageVerdict, Step};
use crate::types::Digest;
use std::collections::HashMap;

pub const REJECTED_TAG: &str = "self-deployer:rejected";
pub const DRIFT_TAG: &str = "self-deployer:drift";
/// 15 entries of 16 characters and a space: 255, within a tag value's 256.
pub const MAX_REJECTED: usize = 15;
const SHORT: usize = 16;

/// The function's tags, read once per sweep for one function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub arn: String,
    pub tags: HashMap<String, String>,
}

impl Marks {
    pub async fn read(lambda: &Lambda, function: &str) -> Result<Self, ApiError> {
        let arn = lambda.function_arn(function).await?;
        let tags = lambda.tags(&arn).await?;
        Ok(Self { arn, tags })
    }

    pub fn is_rejected(&self, digest: &Digest) -> bool {
        self.tags
            .get(REJECTED_TAG)
            .is_some_and(|v| v.split_whitespace().any(|d| d == short(digest)))
    }

    /// The drift state (alias RevisionId) that was notified last.
    pub fn drift_notified(&self) -> Option<&str> {
        self.tags.get(DRIFT_TAG).map(String::as_str)
    }
}

fn short(d: &Digest) -> String {
    d.hex().chars().take(SHORT).collect()
}

/// `list` with `digest` added at the end (moved there if present), the oldest dropped beyond
/// [`MAX_REJECTED`].
pub fn with_rejected(list: Option<&str>, digest: &Digest) -> String {
    let new = short(digest);
    let mut items: Vec<&str> = list
        .unwrap_or_default()
        .split_whitespace()
        .filter(|d| *d != new)
        .collect();
    items.push(&new);
    let skip = items.len().saturating_sub(MAX_REJECTED);
    items[skip..].join(" ")
}

/// Marks `digest` rejected for `function`. Never fails the run: a tag that cannot be written is a
/// warning for the report (a rollback stays known through the alias record anyway).
pub async fn reject(lambda: &Lambda, function: &str, digest: &Digest) -> Option<String> {
    let res = async {
        let marks = Marks::read(lambda, function).await?;
        let value = with_rejected(marks.tags.get(REJECTED_TAG).map(String::as_str), digest);
        lambda.set_tag(&marks.arn, REJECTED_TAG, &value).await
    }
    .await;
    match res {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(function, error = %e, "could not mark the image rejected");
            Some(format!(
                "image {} could not be marked rejected ({e}): a reconcile sweep may deploy it again",
                digest.short()
            ))
        }
    }
}

/// Whether a failed deployment says something about the image itself (it fails its smoke test,
/// ECR's checks block it, Lambda cannot run it), so that a sweep must not retry it. Throttling, a
/// timeout or someone else's change say nothing about the image: the next sweep may try again.
pub fn rejects_image(dep: &Deployment) -> bool {
    match dep.failed_step {
        Some(Step::SmokeTest) => true,
        Some(Step::ImageChecks) => dep
            .image_checks
            .as_ref()
            .is_some_and(|c| c.verdict == ImageVerdict::Blocked),
        // Lambda could not apply the image; someone else's update or a timeout says nothing of it.
        Some(Step::WaitUpdated) => dep.failure_kind == Some(FailureKind::UpdateFailed),
        // The new version could not initialise with provisioned concurrency.
        Some(Step::ProvisionedConcurrency) => dep.failure_kind == Some(FailureKind::UpdateFailed),
        // An image index with no image for the function's architecture never gains one.
        Some(Step::Resolve) => dep.failure_kind == Some(FailureKind::ImageRejected),
        _ => false,
    }
}

/// Remembers that the drift state `revision` was notified.
pub async fn note_drift(lambda: &Lambda, arn: &str, revision: &str) -> Result<(), ApiError> {
    lambda.set_tag(arn, DRIFT_TAG, revision).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    #[test]
    fn the_list_is_bounded_newest_last_and_fits_a_tag_value() {
        let mut v = String::new();
        for c in "0123456789abcdef".chars() {
            v = with_rejected(Some(&v), &d(c));
        }
        let items: Vec<&str> = v.split_whitespace().collect();
        assert_eq!(items.len(), MAX_REJECTED);
        assert_eq!(items[0], "1".repeat(16), "the oldest (0) was dropped");
        assert_eq!(items[14], "f".repeat(16));
        assert!(v.len() <= 256, "{}", v.len());
        // Again: moved to the end, not doubled.
        let v = with_rejected(Some(&v), &d('1'));
        assert_eq!(v.split_whitespace().count(), MAX_REJECTED);
        assert!(v.ends_with(&"1".repeat(16)));
        let marks = Marks {
            arn: String::new(),
            tags: [(REJECTED_TAG.to_owned(), v)].into(),
        };
        assert!(marks.is_rejected(&d('1')) && !marks.is_rejected(&d('0')));
    }
}
