//! ECR manifests (BatchGetImage): is a digest an image or an image index, and which index an
//! untagged image belongs to. Lambda refuses an index, so the engine resolves it first.

use super::ecr::Ecr;
use super::{ApiError, ErrorKind};
use crate::types::{Account, Digest, Index, Manifest, ManifestKind, Repository};
use aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput;
use aws_sdk_ecr::types::ImageIdentifier;

/// Every manifest type we can read: without the index types, ECR would refuse to return an index.
const ACCEPTED: [&str; 4] = [
    crate::types::manifest::OCI_INDEX,
    crate::types::manifest::DOCKER_LIST,
    crate::types::manifest::OCI_MANIFEST,
    crate::types::manifest::DOCKER_MANIFEST,
];

/// How many of a repository's newest indexes are read to find the one an untagged image belongs
/// to: its index is pushed right after it, so it is among the newest.
const INDEXES_READ: usize = 10;

fn bad_answer(message: String) -> ApiError {
    ApiError {
        op: "BatchGetImage",
        kind: ErrorKind::Other,
        message,
    }
}

impl Ecr {
    /// The manifest of `digest` in `registry`/`repository`; `None` when ECR has no such image
    /// (Lambda's own UpdateFunctionCode then says so, as it did before indexes were read).
    pub async fn manifest(
        &self,
        registry: &Account,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Option<Manifest>, ApiError> {
        let found = self
            .manifests(registry.as_str(), repository, std::slice::from_ref(digest))
            .await?;
        Ok(found.into_iter().next().map(|(_, m)| m))
    }

    /// The index among the repository's newest that lists `digest` as one of its images, with
    /// that index's tags. `None`: no index lists it (a plain image pushed by digest).
    pub async fn index_of(
        &self,
        registry: &Account,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Option<(Index, Vec<String>)>, ApiError> {
        let images = self.images(Some(registry), repository).await?;
        let mut indexes: Vec<_> = images
            .into_iter()
            .filter(|i| i.manifest == ManifestKind::Index)
            .collect();
        indexes.sort_by_key(|i| std::cmp::Reverse(i.pushed));
        indexes.truncate(INDEXES_READ);
        if indexes.is_empty() {
            return Ok(None);
        }
        let digests: Vec<Digest> = indexes.iter().map(|i| i.digest.clone()).collect();
        let read = self
            .manifests(registry.as_str(), repository, &digests)
            .await?;
        for (d, m) in read {
            if let Manifest::Index(ix) = m
                && ix.role_of(digest).is_some()
            {
                let tags = indexes
                    .iter()
                    .find(|i| i.digest == d)
                    .map(|i| i.tags.iter().map(|t| t.to_string()).collect())
                    .unwrap_or_default();
                return Ok(Some((ix, tags)));
            }
        }
        Ok(None)
    }

    /// Which of `digests` ECR still holds in `registry`/`repository` (lifecycle rules delete old
    /// images): one BatchGetImage per 100 digests, which lists the missing ones as failures.
    pub async fn present(
        &self,
        registry: &Account,
        repository: &Repository,
        digests: &[Digest],
    ) -> Result<std::collections::HashSet<Digest>, ApiError> {
        let mut found = std::collections::HashSet::new();
        for chunk in digests.chunks(100) {
            // No repository: none of its images exists.
            let Some(out) = self.batch_get(registry.as_str(), repository, chunk).await? else {
                continue;
            };
            found.extend(out.images().iter().filter_map(|i| {
                i.image_id()
                    .and_then(|id| id.image_digest())
                    .and_then(|d| Digest::parse(d).ok())
            }));
        }
        Ok(found)
    }

    /// BatchGetImage of `digests`: each found manifest, parsed. Images ECR does not have are left
    /// out (ECR lists them as failures, not as an error).
    async fn manifests(
        &self,
        registry: &str,
        repository: &Repository,
        digests: &[Digest],
    ) -> Result<Vec<(Digest, Manifest)>, ApiError> {
        let Some(out) = self.batch_get(registry, repository, digests).await? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for image in out.images() {
            let Some(digest) = image
                .image_id()
                .and_then(|i| i.image_digest())
                .and_then(|d| Digest::parse(d).ok())
            else {
                continue;
            };
            let body = image
                .image_manifest()
                .ok_or_else(|| bad_answer(format!("ECR returned no manifest for {digest}")))?;
            let m = Manifest::parse(&digest, image.image_manifest_media_type(), body)
                .map_err(bad_answer)?;
            found.push((digest, m));
        }
        Ok(found)
    }

    /// One BatchGetImage of `digests` (at most 100), every manifest type we read accepted; `None`
    /// when the repository does not exist (then none of its images does either).
    async fn batch_get(
        &self,
        registry: &str,
        repository: &Repository,
        digests: &[Digest],
    ) -> Result<Option<BatchGetImageOutput>, ApiError> {
        let ids = digests
            .iter()
            .map(|d| ImageIdentifier::builder().image_digest(d.as_str()).build())
            .collect();
        let res = self
            .client
            .batch_get_image()
            .registry_id(registry)
            .repository_name(repository.as_str())
            .set_image_ids(Some(ids))
            .set_accepted_media_types(Some(ACCEPTED.iter().map(|s| s.to_string()).collect()))
            .send()
            .await;
        match res {
            Ok(out) => Ok(Some(out)),
            Err(e) if super::error_code(&e) == Some("RepositoryNotFoundException") => Ok(None),
            Err(e) => Err(ApiError::from_sdk("BatchGetImage", &e)),
        }
    }
}
