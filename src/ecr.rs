//! What the engine asks ECR: does an image still exist, and which digest a tag points to now.

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;

use crate::types::{Digest, ImageRef};

/// Does `image` (by digest) still exist? Lifecycle rules delete old images, and Lambda cannot start
/// a version whose image is gone.
pub async fn image_exists(ecr: &Client, image: &ImageRef) -> Result<bool, String> {
    let res = ecr
        .describe_images()
        .registry_id(&image.account)
        .repository_name(&image.repository)
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
        Err(e) => match crate::aws::error_code(&e) {
            Some("ImageNotFoundException") | Some("RepositoryNotFoundException") => Ok(false),
            _ => Err(format!(
                "DescribeImages failed: {}",
                crate::aws::describe(&e)
            )),
        },
    }
}

/// The digest `repository:tag` points to now, and the registry (account) that holds it.
pub async fn resolve_tag(
    ecr: &Client,
    repository: &str,
    tag: &str,
) -> Result<(Digest, String), String> {
    let out = ecr
        .describe_images()
        .repository_name(repository)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await
        .map_err(|e| match crate::aws::error_code(&e) {
            Some("ImageNotFoundException") => {
                format!("no image is tagged {tag:?} in repository {repository:?}")
            }
            Some("RepositoryNotFoundException") => {
                format!("repository {repository:?} does not exist")
            }
            _ => format!("DescribeImages failed: {}", crate::aws::describe(&e)),
        })?;
    let detail = out
        .image_details()
        .first()
        .ok_or_else(|| format!("no image is tagged {tag:?} in repository {repository:?}"))?;
    let digest = detail
        .image_digest()
        .ok_or("DescribeImages returned no digest")
        .and_then(|d| Digest::parse(d).map_err(|_| "DescribeImages returned an invalid digest"))?;
    let registry = detail
        .registry_id()
        .ok_or("DescribeImages returned no registry id")?
        .to_owned();
    Ok((digest, registry))
}
