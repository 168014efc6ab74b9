//! Image manifests as ECR stores them: a plain image manifest, which Lambda runs, or an image index
//! (OCI index, Docker manifest list), which Lambda refuses. BuildKit pushes an index by default
//! (one image per platform plus provenance attestations), so an index is resolved to the image for
//! a function's architecture before anything is deployed.

use super::Digest;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// BuildKit's annotation on an index entry that is an attestation, not a runnable image.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// What a manifest's media type says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ManifestKind {
    /// Not known yet: ask ECR (BatchGetImage) before deploying.
    #[default]
    Unknown,
    /// A single image manifest: deployable as it is.
    Image,
    /// An image index or manifest list: resolved to one of its images first.
    Index,
}

impl ManifestKind {
    /// From a media type as ECR reports it (events, DescribeImages, BatchGetImage). A type that is
    /// neither known index nor known manifest is `Unknown`, so the manifest itself is read.
    pub fn of_media_type(media_type: Option<&str>) -> Self {
        match media_type {
            Some(OCI_INDEX | DOCKER_LIST) => Self::Index,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => Self::Image,
            _ => Self::Unknown,
        }
    }
}

/// A Lambda instruction set architecture (`Architectures` in GetFunction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl Architecture {
    /// Lambda's name (`x86_64`, `arm64`); `None` for a name Lambda does not use.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "x86_64" => Some(Self::X86_64),
            "arm64" => Some(Self::Arm64),
            _ => None,
        }
    }

    /// The OCI platform architecture of images that run on it.
    fn oci(self) -> &'static str {
        match self {
            Self::X86_64 => "amd64",
            Self::Arm64 => "arm64",
        }
    }

    /// `linux/amd64`, `linux/arm64`: how image platforms are written.
    pub fn platform(self) -> String {
        format!("linux/{}", self.oci())
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        })
    }
}

#[derive(Debug, Deserialize)]
struct RawIndex {
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<RawEntry>>,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    digest: String,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// One runnable image of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexImage {
    pub digest: Digest,
    /// `linux/amd64`, `linux/arm64/v8`.
    pub platform: String,
    os: String,
    architecture: String,
}

/// An image index: its runnable images (attestations left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub digest: Digest,
    pub images: Vec<IndexImage>,
    /// What else it lists: attestations (provenance, SBOM), and entries with no platform.
    pub others: Vec<Digest>,
}

/// A manifest as read from ECR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image,
    Index(Index),
}

impl Manifest {
    /// Reads the manifest `body` of `digest`, as BatchGetImage returns it with its media type.
    /// `Err` names what is wrong with it (ECR's own answer: it should never happen).
    pub fn parse(digest: &Digest, media_type: Option<&str>, body: &str) -> Result<Self, String> {
        let raw: RawIndex = serde_json::from_str(body)
            .map_err(|e| format!("the manifest of {digest} is not valid JSON: {e}"))?;
        let kind = match ManifestKind::of_media_type(media_type) {
            ManifestKind::Unknown => ManifestKind::of_media_type(raw.media_type.as_deref()),
            k => k,
        };
        let manifests = match (kind, raw.manifests) {
            (ManifestKind::Index, Some(m)) => m,
            (ManifestKind::Index, None) => {
                return Err(format!("the index {digest} lists no manifests"));
            }
            // No media type anywhere but a list of manifests: an index all the same.
            (ManifestKind::Unknown, Some(m)) => m,
            _ => return Ok(Self::Image),
        };
        let (mut images, mut others) = (Vec::new(), Vec::new());
        for (i, e) in manifests.into_iter().enumerate() {
            let child = Digest::parse(&e.digest)
                .map_err(|why| format!("the index {digest}: manifests[{i}].digest: {why}"))?;
            let is_attestation = e.annotations.contains_key(REFERENCE_TYPE);
            let Some(p) = e.platform.filter(|p| p.os != "unknown" && !is_attestation) else {
                others.push(child);
                continue;
            };
            let mut platform = format!("{}/{}", p.os, p.architecture);
            if let Some(v) = p.variant.as_deref().filter(|v| !v.is_empty()) {
                platform.push('/');
                platform.push_str(v);
            }
            images.push(IndexImage {
                digest: child,
                platform: crate::text::truncate(&crate::text::one_line(&platform), 64),
                os: p.os,
                architecture: p.architecture,
            });
        }
        Ok(Self::Index(Index {
            digest: digest.clone(),
            images,
            others,
        }))
    }
}

impl Index {
    /// The image that runs on `arch` (Linux, that architecture, any variant: Lambda's arm64 is
    /// v8), or why there is none, naming what the index has.
    pub fn image_for(&self, arch: Architecture) -> Result<&IndexImage, String> {
        self.images
            .iter()
            .find(|i| i.os == "linux" && i.architecture == arch.oci())
            .ok_or_else(|| {
                let has: Vec<&str> = self.images.iter().map(|i| i.platform.as_str()).collect();
                let has = if has.is_empty() {
                    "no platform images, only attestations".to_owned()
                } else {
                    has.join(", ")
                };
                format!(
                    "no {} image in index {}: it has {has}",
                    arch.platform(),
                    self.digest
                )
            })
    }

    /// What `digest` is in this index: `linux/amd64` for an image, `attestation` for anything
    /// else it lists; `None` when it does not list it.
    pub fn role_of(&self, digest: &Digest) -> Option<String> {
        match self.images.iter().find(|i| &i.digest == digest) {
            Some(i) => Some(i.platform.clone()),
            None => self
                .others
                .contains(digest)
                .then(|| "attestation".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    /// What `docker buildx build --platform linux/amd64,linux/arm64` pushes with provenance on.
    fn buildx_index() -> String {
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": d('1').to_string(), "size": 1,
                 "platform": {"architecture": "amd64", "os": "linux"}},
                {"mediaType": OCI_MANIFEST, "digest": d('2').to_string(), "size": 1,
                 "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
                {"mediaType": OCI_MANIFEST, "digest": d('3').to_string(), "size": 1,
                 "platform": {"architecture": "unknown", "os": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": d('1').to_string()}}
            ]
        })
        .to_string()
    }

    #[test]
    fn media_types_say_what_a_manifest_is() {
        assert_eq!(
            ManifestKind::of_media_type(Some(OCI_INDEX)),
            ManifestKind::Index
        );
        assert_eq!(
            ManifestKind::of_media_type(Some(DOCKER_LIST)),
            ManifestKind::Index
        );
        assert_eq!(
            ManifestKind::of_media_type(Some(DOCKER_MANIFEST)),
            ManifestKind::Image
        );
        assert_eq!(ManifestKind::of_media_type(None), ManifestKind::Unknown);
        assert_eq!(
            ManifestKind::of_media_type(Some("text/plain")),
            ManifestKind::Unknown
        );
    }

    #[test]
    fn an_index_gives_the_image_for_each_architecture_and_skips_attestations() {
        let Manifest::Index(ix) =
            Manifest::parse(&d('f'), Some(OCI_INDEX), &buildx_index()).expect("parses")
        else {
            panic!("an index")
        };
        assert_eq!(ix.images.len(), 2, "the attestation is left out");
        assert_eq!(ix.image_for(Architecture::X86_64).unwrap().digest, d('1'));
        let arm = ix.image_for(Architecture::Arm64).unwrap();
        assert_eq!(
            (arm.digest.clone(), arm.platform.as_str()),
            (d('2'), "linux/arm64/v8")
        );
        assert_eq!(ix.role_of(&d('2')).as_deref(), Some("linux/arm64/v8"));
        assert_eq!(ix.role_of(&d('3')).as_deref(), Some("attestation"));
        assert_eq!(ix.role_of(&d('9')), None);
    }

    #[test]
    fn an_index_without_the_platform_names_what_it_has() {
        let body = buildx_index().replace("arm64", "s390x");
        let Manifest::Index(ix) = Manifest::parse(&d('f'), None, &body).unwrap() else {
            panic!("an index by its own mediaType")
        };
        assert_eq!(
            ix.image_for(Architecture::Arm64).unwrap_err(),
            format!(
                "no linux/arm64 image in index {}: it has linux/amd64, linux/s390x/v8",
                d('f')
            )
        );
        let only_attestation = serde_json::json!({"mediaType": OCI_INDEX, "manifests": [
            {"digest": d('3').to_string(), "platform": {"os": "unknown", "architecture": "unknown"}}
        ]})
        .to_string();
        let Manifest::Index(ix) = Manifest::parse(&d('f'), None, &only_attestation).unwrap() else {
            panic!("an index")
        };
        assert!(
            ix.image_for(Architecture::X86_64)
                .unwrap_err()
                .ends_with("it has no platform images, only attestations")
        );
    }

    #[test]
    fn plain_manifests_and_broken_ones() {
        let image = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{},"layers":[]}"#;
        assert_eq!(
            Manifest::parse(&d('a'), Some(DOCKER_MANIFEST), image),
            Ok(Manifest::Image)
        );
        assert_eq!(Manifest::parse(&d('a'), None, image), Ok(Manifest::Image));
        assert!(
            Manifest::parse(&d('a'), None, "{")
                .unwrap_err()
                .contains("is not valid JSON")
        );
        let bad = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:x","platform":{"os":"linux","architecture":"amd64"}}]}"#;
        assert!(
            Manifest::parse(&d('a'), None, bad)
                .unwrap_err()
                .contains("manifests[0].digest")
        );
        assert!(
            Manifest::parse(&d('a'), Some(OCI_INDEX), "{}")
                .unwrap_err()
                .contains("lists no manifests")
        );
        assert_eq!(Architecture::parse("arm64"), Some(Architecture::Arm64));
        assert_eq!(Architecture::parse("sparc"), None);
    }
}
