//! ECR manifests (BatchGetImage) and image indexes as `docker buildx` pushes them: one image per
//! platform and an attestation manifest per image, untagged, then the index with the tag. Lambda
//! refuses an index in UpdateFunctionCode, as AWS does (the rule is in `lambda`).

use super::faults::lossy;
use super::{ACCOUNT, Call, World, WorldState, digest};
use aws_sdk_ecr::operation::batch_get_image::{
    BatchGetImageError, BatchGetImageInput, BatchGetImageOutput,
};
use aws_sdk_ecr::types::{Image, ImageFailure, ImageFailureCode, ImageIdentifier};
use aws_smithy_mocks::{MockResponse, mock};
use serde_json::json;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A plain image's manifest (the world does not model layers).
fn image_manifest(c: &str) -> String {
    json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                      "digest": c, "size": 1}, "layers": []})
    .to_string()
}

impl WorldState {
    /// The media type ECR reports for `digest`: an index's own, else a Docker image manifest.
    pub fn media_type_of(&self, digest: &str) -> String {
        self.manifests
            .get(digest)
            .map(|(m, _)| m.clone())
            .unwrap_or_else(|| DOCKER_MANIFEST.to_owned())
    }

    /// Is this image URI (by digest) an index? Lambda refuses those.
    pub fn is_index_uri(&self, uri: &str) -> bool {
        uri.rsplit_once('@')
            .and_then(|(_, d)| self.manifests.get(d))
            .is_some_and(|(m, _)| m == OCI_INDEX)
    }
}

impl World {
    /// What `docker buildx build --platform ... --push -t repo:tag` leaves in ECR with provenance
    /// on (BuildKit's default): each platform's image (`(c, "linux/amd64")`) and its attestation
    /// manifest (platform `unknown/unknown`, digest `attest`'s next characters are not needed:
    /// one attestation per image, all untagged), then index `index` with `tag`. Pushed in that
    /// order, one second apart, as ECR stamps them.
    pub fn ecr_index(
        &self,
        repo: &str,
        index: char,
        tag: Option<&str>,
        images: &[(char, &str)],
        attestations: &[char],
    ) {
        let mut entries = Vec::new();
        for (c, platform) in images {
            self.ecr_image(repo, *c, None);
            self.time.advance(std::time::Duration::from_secs(1));
            let mut parts = platform.split('/');
            let os = parts.next().unwrap_or_default();
            let arch = parts.next().unwrap_or_default();
            let mut p = json!({"os": os, "architecture": arch});
            if let Some(v) = parts.next() {
                p["variant"] = json!(v);
            }
            entries.push(
                json!({"mediaType": OCI_MANIFEST, "digest": digest(*c), "size": 1, "platform": p}),
            );
        }
        for (i, a) in attestations.iter().enumerate() {
            self.ecr_image(repo, *a, None);
            self.time.advance(std::time::Duration::from_secs(1));
            let of = images.get(i).map(|(c, _)| digest(*c)).unwrap_or_default();
            entries.push(
                json!({"mediaType": OCI_MANIFEST, "digest": digest(*a), "size": 1,
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                "vnd.docker.reference.digest": of}}),
            );
        }
        let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
        self.lock()
            .manifests
            .insert(digest(index), (OCI_INDEX.to_owned(), body.to_string()));
        self.ecr_image(repo, index, tag);
    }

    /// The function runs on `arch` (`x86_64`, `arm64`), as GetFunction's `Architectures` says.
    pub fn set_architecture(&self, function: &str, arch: &str) {
        self.with_func(function, |f| f.architecture = arch.to_owned());
    }

    pub(super) fn batch_get_image(&self) -> aws_smithy_mocks::Rule {
        let st = self.state.clone();
        mock!(aws_sdk_ecr::Client::batch_get_image).then_compute_response(lossy(
            st.clone(),
            move |req: &BatchGetImageInput| {
                let mut s = st.lock().expect("lock");
                let repo = req.repository_name().unwrap_or_default().to_owned();
                let ids: Vec<String> = req
                    .image_ids()
                    .iter()
                    .filter_map(|i| i.image_digest().map(str::to_owned))
                    .collect();
                if let Some(f) = s.begin(Call {
                    op: "BatchGetImage",
                    function: repo.clone(),
                    qualifier: Some(ids.join(",")),
                    registry_id: req.registry_id().map(str::to_owned),
                    ..Default::default()
                }) {
                    return s.faulted(f, BatchGetImageError::generic);
                }
                let accepted = req.accepted_media_types();
                let mut out = BatchGetImageOutput::builder();
                for d in ids {
                    let known = s
                        .images
                        .get(&repo)
                        .is_some_and(|imgs| imgs.iter().any(|(x, _)| *x == d));
                    let id = ImageIdentifier::builder().image_digest(&d).build();
                    let media = s.media_type_of(&d);
                    // ECR refuses to return a manifest of a type the caller does not accept.
                    let refused = !accepted.is_empty() && !accepted.contains(&media);
                    if !known || refused {
                        out = out.failures(
                            ImageFailure::builder()
                                .image_id(id)
                                .failure_code(ImageFailureCode::ImageNotFound)
                                .failure_reason("Requested image not found")
                                .build(),
                        );
                        continue;
                    }
                    let body = s
                        .manifests
                        .get(&d)
                        .map(|(_, b)| b.clone())
                        .unwrap_or_else(|| image_manifest(&d));
                    out = out.images(
                        Image::builder()
                            .registry_id(req.registry_id().unwrap_or(ACCOUNT))
                            .repository_name(&repo)
                            .image_id(id)
                            .image_manifest(body)
                            .image_manifest_media_type(media)
                            .build(),
                    );
                }
                MockResponse::Output(out.build())
            },
        ))
    }

    /// Every image's config blob is served at `url` (ECR's pre-signed layer address).
    pub fn config_blob(&self, url: &str) {
        self.lock().config_blob_url = Some(url.to_owned());
    }

    /// GetDownloadUrlForLayer: the config blob's address, or `LayersNotFoundException` when the
    /// world has no blobs (as on moto).
    pub(super) fn get_download_url_for_layer(&self) -> aws_smithy_mocks::Rule {
        use aws_sdk_ecr::operation::get_download_url_for_layer::{
            GetDownloadUrlForLayerError, GetDownloadUrlForLayerOutput,
        };
        let st = self.state.clone();
        mock!(aws_sdk_ecr::Client::get_download_url_for_layer).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_ecr::operation::get_download_url_for_layer::GetDownloadUrlForLayerInput| {
                let mut s = st.lock().expect("lock");
                if let Some(f) = s.begin(Call {
                    op: "GetDownloadUrlForLayer",
                    function: req.repository_name().unwrap_or_default().to_owned(),
                    qualifier: req.layer_digest().map(str::to_owned),
                    registry_id: req.registry_id().map(str::to_owned),
                    ..Default::default()
                }) {
                    return s.faulted(f, GetDownloadUrlForLayerError::generic);
                }
                match &s.config_blob_url {
                    Some(url) => MockResponse::Output(
                        GetDownloadUrlForLayerOutput::builder()
                            .download_url(url)
                            .layer_digest(req.layer_digest().unwrap_or_default())
                            .build(),
                    ),
                    None => MockResponse::Error(GetDownloadUrlForLayerError::generic(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("LayersNotFoundException")
                            .message("The specified layers could not be found")
                            .build(),
                    )),
                }
            },
        ))
    }
}
