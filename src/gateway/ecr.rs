//! ECR: does an image still exist, and which digest a tag points to now.

use super::{ApiError, error_code};
use crate::types::{Account, Digest, ImageRef, Repository, Tag};
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;

#[derive(Clone, Debug)]
pub struct Ecr {
    client: Client,
}

impl Ecr {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The region the client talks to (images are only taken from there).
    pub fn region(&self) -> Option<String> {
        self.client.config().region().map(|r| r.to_string())
    }

    /// Does `image` (by digest) still exist? Lifecycle rules delete old images, and Lambda cannot
    /// start a version whose image is gone.
    pub async fn image_exists(&self, image: &ImageRef) -> Result<bool, ApiError> {
        let res = self
            .client
            .describe_images()
            .registry_id(image.account.as_str())
            .repository_name(image.repository.as_str())
            .image_ids(
                ImageIdentifier::builder()
                    .image_digest(image.digest.as_str())
                    .build(),
            )
            .send()
            .await;
        match res {
            Ok(out) => Ok(out
                .image_details()
                .iter()
                .any(|d| d.image_digest() == Some(image.digest.as_str()))),
            Err(e) => match error_code(&e) {
                Some("ImageNotFoundException") | Some("RepositoryNotFoundException") => Ok(false),
                _ => Err(ApiError::from_sdk("DescribeImages", &e)),
            },
        }
    }

    /// The digest `repository:tag` points to now in `registry` (default: the caller's own), and
    /// the registry (account) that holds it. `Err` is a sentence for the report.
    pub async fn resolve_tag(
        &self,
        registry: Option<&Account>,
        repository: &Repository,
        tag: &Tag,
    ) -> Result<(Digest, Account), String> {
        let out = self
            .client
            .describe_images()
            .set_registry_id(registry.map(|a| a.to_string()))
            .repository_name(repository.as_str())
            .image_ids(ImageIdentifier::builder().image_tag(tag.as_str()).build())
            .send()
            .await
            .map_err(|e| match error_code(&e) {
                Some("ImageNotFoundException") => {
                    format!("no image is tagged {tag:?} in repository {repository:?}")
                }
                Some("RepositoryNotFoundException") => {
                    format!("repository {repository:?} does not exist")
                }
                _ => ApiError::from_sdk("DescribeImages", &e).to_string(),
            })?;
        let detail = out
            .image_details()
            .first()
            .ok_or_else(|| format!("no image is tagged {tag:?} in repository {repository:?}"))?;
        let digest = detail
            .image_digest()
            .ok_or("DescribeImages returned no digest")
            .and_then(|d| {
                Digest::parse(d).map_err(|_| "DescribeImages returned an invalid digest")
            })?;
        let registry = detail
            .registry_id()
            .and_then(|r| Account::parse(r).ok())
            .ok_or("DescribeImages returned no valid registry id")?;
        Ok((digest, registry))
    }
}
