//! ECR: does an image still exist, which digest a tag points to now, and what ECR's scan and
//! managed signing say about an image.

use super::{ApiError, error_code};
use crate::report::{Finding, SeverityCounts};
use crate::text::{one_line, truncate};
use crate::types::{Account, Digest, ImageRef, ManifestKind, Repository, Severity, Tag};
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;

/// Findings asked for per scan read: the counts cover every finding, the list only this many (the
/// report keeps the most severe of them).
const FINDINGS_PAGE: i32 = 100;
/// Text from ECR (descriptions, failure reasons, finding names) is bounded per field.
const MAX_ECR_TEXT: usize = 300;

/// ECR's scan of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageScan {
    /// ECR's status name: `COMPLETE`, `ACTIVE`, `IN_PROGRESS`, `PENDING`, `FAILED`, …
    pub status: String,
    pub description: Option<String>,
    pub counts: SeverityCounts,
    /// The findings of the first page, most severe first.
    pub findings: Vec<Finding>,
}

/// Where a scan stands, for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanProgress {
    /// Findings are final (`COMPLETE`), or kept current by continuous scanning (`ACTIVE`).
    Done,
    /// `IN_PROGRESS` or `PENDING`: worth waiting for.
    Running,
    /// Anything else (`FAILED`, `UNSUPPORTED_IMAGE`, `SCAN_ELIGIBILITY_EXPIRED`,
    /// `FINDINGS_UNAVAILABLE`, …): there are no findings to judge by.
    Unusable,
}

impl ImageScan {
    pub fn progress(&self) -> ScanProgress {
        match self.status.as_str() {
            "COMPLETE" | "ACTIVE" => ScanProgress::Done,
            "IN_PROGRESS" | "PENDING" => ScanProgress::Running,
            _ => ScanProgress::Unusable,
        }
    }
}

/// ECR managed signing's status of one image for one signing profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSigning {
    pub signing_profile_arn: Option<String>,
    /// `COMPLETE`, `IN_PROGRESS`, `FAILED`, or a name ECR adds later.
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
}

fn ecr_text(s: &str) -> String {
    truncate(&one_line(s), MAX_ECR_TEXT)
}

fn image_id(image: &ImageRef) -> ImageIdentifier {
    ImageIdentifier::builder()
        .image_digest(image.digest.as_str())
        .build()
}

#[derive(Clone, Debug)]
pub struct Ecr {
    pub(super) client: Client,
}

impl Ecr {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The same client, signing with `assumed` (a target in another account).
    pub fn with_credentials(&self, assumed: &super::sts::Assumed) -> Self {
        Self {
            client: signed_with!(self.client, assumed),
        }
    }

    /// The same client, for reading an image's configuration (its labels).
    pub fn config_reader(&self) -> super::ecr_config::EcrConfig {
        super::ecr_config::EcrConfig::new(self.client.clone())
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
    ) -> Result<(Digest, Account, ManifestKind), String> {
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
        let kind = ManifestKind::of_media_type(detail.image_manifest_media_type());
        Ok((digest, registry, kind))
    }

    /// ECR's scan of `image` (in the registry it comes from), `None` when ECR has no scan of it.
    pub async fn scan_findings(&self, image: &ImageRef) -> Result<Option<ImageScan>, ApiError> {
        let res = self
            .client
            .describe_image_scan_findings()
            .registry_id(image.account.as_str())
            .repository_name(image.repository.as_str())
            .image_id(image_id(image))
            .max_results(FINDINGS_PAGE)
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("ScanNotFoundException") => return Ok(None),
            Err(e) => return Err(ApiError::from_sdk("DescribeImageScanFindings", &e)),
        };
        let (status, description) = match out.image_scan_status() {
            Some(s) => (
                s.status().map(|v| v.as_str().to_owned()),
                s.description().map(ecr_text),
            ),
            None => (None, None),
        };
        let Some(status) = status else {
            return Err(ApiError {
                op: "DescribeImageScanFindings",
                kind: super::ErrorKind::Other,
                message: "ECR answered without a scan status".into(),
            });
        };
        let findings_of = out.image_scan_findings();
        let counts = SeverityCounts::new(
            findings_of
                .and_then(|f| f.finding_severity_counts())
                .into_iter()
                .flatten()
                .map(|(sev, n)| (sev.as_str().to_owned(), (*n).max(0) as u32)),
        );
        let mut findings: Vec<Finding> = Vec::new();
        if let Some(f) = findings_of {
            for b in f.findings() {
                let attr = |k: &str| {
                    b.attributes()
                        .iter()
                        .find(|a| a.key() == k)
                        .and_then(|a| a.value())
                };
                findings.push(Finding {
                    name: ecr_text(b.name().unwrap_or("(unnamed)")),
                    severity: b
                        .severity()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "UNDEFINED".into()),
                    package: package(attr("package_name"), attr("package_version")),
                });
            }
            for e in f.enhanced_findings() {
                let details = e.package_vulnerability_details();
                let pkg = details.and_then(|d| d.vulnerable_packages().first());
                findings.push(Finding {
                    name: ecr_text(
                        details
                            .and_then(|d| d.vulnerability_id())
                            .or(e.title())
                            .unwrap_or("(unnamed)"),
                    ),
                    severity: e
                        .severity()
                        .map(ecr_text)
                        .unwrap_or_else(|| "UNDEFINED".into()),
                    package: package(pkg.and_then(|p| p.name()), pkg.and_then(|p| p.version())),
                });
            }
        }
        findings.sort_by_key(|f| Severity::rank(&f.severity));
        Ok(Some(ImageScan {
            status,
            description,
            counts,
            findings,
        }))
    }

    /// ECR managed signing's statuses of `image`, one per signing profile.
    pub async fn signing_statuses(&self, image: &ImageRef) -> Result<Vec<ImageSigning>, ApiError> {
        let out = self
            .client
            .describe_image_signing_status()
            .registry_id(image.account.as_str())
            .repository_name(image.repository.as_str())
            .image_id(image_id(image))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("DescribeImageSigningStatus", &e))?;
        Ok(out
            .signing_statuses()
            .iter()
            .map(|s| ImageSigning {
                signing_profile_arn: s.signing_profile_arn().map(ecr_text),
                status: s
                    .status()
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                failure_code: s.failure_code().map(ecr_text),
                failure_reason: s.failure_reason().map(ecr_text),
            })
            .collect())
    }
}

/// One image of a repository as DescribeImages lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoImage {
    pub digest: Digest,
    pub tags: Vec<Tag>,
    /// `imagePushedAt`; `None` when ECR did not say (such an image is never "newest").
    pub pushed: Option<chrono::DateTime<chrono::Utc>>,
    /// The registry (account) that holds it.
    pub registry: Option<Account>,
    /// An image or an index, by `imageManifestMediaType`.
    pub manifest: ManifestKind,
}

impl Ecr {
    /// Every image of `repository` in `registry` (default: the caller's own), all pages. Tags ECR
    /// reports that are not valid tags are left out (never deployed by name).
    pub async fn images(
        &self,
        registry: Option<&Account>,
        repository: &Repository,
    ) -> Result<Vec<RepoImage>, ApiError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .describe_images()
            .set_registry_id(registry.map(|a| a.to_string()))
            .repository_name(repository.as_str())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("DescribeImages", &e))?;
            for d in page.image_details() {
                let Some(digest) = d.image_digest().and_then(|x| Digest::parse(x).ok()) else {
                    continue;
                };
                let pushed = d
                    .image_pushed_at()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
                out.push(RepoImage {
                    digest,
                    tags: d
                        .image_tags()
                        .iter()
                        .filter_map(|t| Tag::parse(t).ok())
                        .collect(),
                    pushed,
                    registry: d.registry_id().and_then(|r| Account::parse(r).ok()),
                    manifest: ManifestKind::of_media_type(d.image_manifest_media_type()),
                });
            }
        }
        Ok(out)
    }
}

/// `openssl 3.0.1`, from a finding's package name and version.
fn package(name: Option<&str>, version: Option<&str>) -> Option<String> {
    match (name, version) {
        (Some(n), Some(v)) => Some(ecr_text(&format!("{n} {v}"))),
        (Some(n), None) => Some(ecr_text(n)),
        _ => None,
    }
}
