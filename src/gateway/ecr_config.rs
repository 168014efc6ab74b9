//! ECR: an image's configuration (its labels), read as a registry client would: the manifest with
//! BatchGetImage, then the config blob's address with GetDownloadUrlForLayer, fetched over HTTPS.

use super::ApiError;
use super::https::Https;
use crate::types::Labels;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;
use serde_json::Value;

const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A label read is best effort (lead time then counts from the push): one retry at most, so an
/// unreadable config (a registry without blobs answers 500) costs a deployment no backoff.
fn best_effort() -> aws_sdk_ecr::config::Builder {
    aws_sdk_ecr::config::Builder::default()
        .retry_config(aws_sdk_ecr::config::retry::RetryConfig::standard().with_max_attempts(2))
}

#[derive(Clone, Debug)]
pub struct EcrConfig {
    client: Client,
}

impl EcrConfig {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn manifest(
        &self,
        registry: Option<&str>,
        repo: &str,
        digest: &str,
    ) -> Result<Value, String> {
        let out = self
            .client
            .batch_get_image()
            .set_registry_id(registry.map(str::to_owned))
            .repository_name(repo)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .set_accepted_media_types(Some(MEDIA_TYPES.map(str::to_owned).to_vec()))
            .customize()
            .config_override(best_effort())
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("BatchGetImage", &e).to_string())?;
        let text = out
            .images()
            .first()
            .and_then(|i| i.image_manifest())
            .ok_or("BatchGetImage returned no manifest")?;
        serde_json::from_str(text).map_err(|_| "the image manifest is not JSON".to_owned())
    }

    /// The image's labels (`config.Labels`), through the manifest (or the first platform's of an
    /// index) and the config blob.
    pub async fn labels(
        &self,
        http: &Https,
        registry: Option<&str>,
        repo: &str,
        digest: &str,
    ) -> Result<Labels, String> {
        let mut manifest = self.manifest(registry, repo, digest).await?;
        if let Some(list) = manifest.get("manifests").and_then(Value::as_array) {
            let first = list
                .iter()
                .find(|m| m["platform"]["os"].as_str() != Some("unknown"))
                .and_then(|m| m["digest"].as_str())
                .ok_or("the image index lists no platform image")?
                .to_owned();
            manifest = self.manifest(registry, repo, &first).await?;
        }
        let config = manifest["config"]["digest"]
            .as_str()
            .ok_or("the image manifest names no config")?;
        let url = self
            .client
            .get_download_url_for_layer()
            .set_registry_id(registry.map(str::to_owned))
            .repository_name(repo)
            .layer_digest(config)
            .customize()
            .config_override(best_effort())
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("GetDownloadUrlForLayer", &e).to_string())?
            .download_url
            .ok_or("GetDownloadUrlForLayer returned no address")?;
        let blob = http.get(&url).await?;
        let config: Value =
            serde_json::from_slice(&blob).map_err(|_| "the image config is not JSON".to_owned())?;
        Ok(config["config"]["Labels"]
            .as_object()
            .cloned()
            .unwrap_or_default())
    }
}
