//! ECR: the images of each repository with their tags (DescribeImages), their scans
//! (DescribeImageScanFindings: states, counts and findings, basic or enhanced, completing in virtual
//! time) and their managed-signing statuses (DescribeImageSigningStatus, also in virtual time).
//! Every call is recorded and can be faulted like the Lambda calls.

use super::faults::{FaultyHttp, lossy};
use super::{ACCOUNT, Call, REGION, World, digest};
use aws_sdk_ecr::operation::describe_image_scan_findings::{
    DescribeImageScanFindingsError, DescribeImageScanFindingsInput, DescribeImageScanFindingsOutput,
};
use aws_sdk_ecr::operation::describe_image_signing_status::{
    DescribeImageSigningStatusError, DescribeImageSigningStatusInput,
    DescribeImageSigningStatusOutput,
};
use aws_sdk_ecr::operation::describe_images::{
    DescribeImagesError, DescribeImagesInput, DescribeImagesOutput,
};
use aws_sdk_ecr::types::{
    Attribute, EnhancedImageScanFinding, FindingSeverity, ImageDetail, ImageIdentifier,
    ImageScanFinding, ImageScanFindings, ImageScanStatus, ImageSigningStatus,
    PackageVulnerabilityDetails, ScanStatus, SigningStatus, VulnerablePackage,
};
use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::time::{Duration, SystemTime};

/// An image's scan as the world will report it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The status once the scan is over: `COMPLETE`, `ACTIVE`, `FAILED`, `UNSUPPORTED_IMAGE`, …
    pub status: String,
    pub description: Option<String>,
    /// Severity name and count; the world lists one finding per count, in this order.
    pub counts: Vec<(String, i32)>,
    /// Findings in Inspector's (enhanced) shape instead of basic scanning's.
    pub enhanced: bool,
    /// `IN_PROGRESS` for this long after it is given to the world; `None`: over already.
    pub takes: Option<Duration>,
    /// `IN_PROGRESS` (or `PENDING`) forever.
    pub never_completes: bool,
    pub running_status: &'static str,
    /// When it is over, in world time (set by [`World::scan`]).
    ready_at: Option<SystemTime>,
}

impl Scan {
    /// A finished scan with these counts (`("CRITICAL", 2)`).
    pub fn complete(counts: &[(&str, i32)]) -> Self {
        Self {
            status: "COMPLETE".into(),
            description: Some("The scan was completed successfully.".into()),
            counts: counts.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            enhanced: false,
            takes: None,
            never_completes: false,
            running_status: "IN_PROGRESS",
            ready_at: None,
        }
    }

    /// A scan that ended in `status` with no findings (`FAILED`, `UNSUPPORTED_IMAGE`, …).
    pub fn ended(status: &str, description: &str) -> Self {
        Self {
            status: status.into(),
            description: Some(description.into()),
            ..Self::complete(&[])
        }
    }

    /// Still running for `d` of world time, then as given.
    pub fn after(mut self, d: Duration) -> Self {
        self.takes = Some(d);
        self
    }

    /// Never done: `IN_PROGRESS` whenever asked.
    pub fn never_completes(mut self) -> Self {
        self.never_completes = true;
        self
    }

    /// Reported while running as `PENDING` instead of `IN_PROGRESS`.
    pub fn pending(mut self) -> Self {
        self.running_status = "PENDING";
        self
    }

    pub fn enhanced(mut self) -> Self {
        self.status = if self.status == "COMPLETE" {
            "ACTIVE".into()
        } else {
            self.status
        };
        self.enhanced = true;
        self
    }
}

/// One signing profile's status for an image.
#[derive(Debug, Clone, PartialEq)]
pub struct Signing {
    pub profile: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    pub takes: Option<Duration>,
    ready_at: Option<SystemTime>,
}

impl Signing {
    pub fn complete(profile: &str) -> Self {
        Self {
            profile: profile.into(),
            status: "COMPLETE".into(),
            failure_code: None,
            failure_reason: None,
            takes: None,
            ready_at: None,
        }
    }

    pub fn failed(profile: &str, code: &str, reason: &str) -> Self {
        Self {
            status: "FAILED".into(),
            failure_code: Some(code.into()),
            failure_reason: Some(reason.into()),
            ..Self::complete(profile)
        }
    }

    pub fn after(mut self, d: Duration) -> Self {
        self.takes = Some(d);
        self
    }
}

/// `(repository, digest)`: how the world keys an image's scan and signing.
pub type ImageKey = (String, String);

impl World {
    /// An image in ECR (a push), optionally tagged; a tag moves from any earlier image.
    pub fn ecr_image(&self, repo: &str, c: char, tag: Option<&str>) {
        let mut s = self.lock();
        let now = s.t();
        s.pushed.entry((repo.to_owned(), digest(c))).or_insert(now);
        let images = s.images.entry(repo.to_owned()).or_default();
        if let Some(t) = tag {
            for (_, tags) in images.iter_mut() {
                tags.retain(|x| x != t);
            }
        }
        match images.iter_mut().find(|(d, _)| *d == digest(c)) {
            Some((_, tags)) => tags.extend(tag.map(str::to_owned)),
            None => images.push((digest(c), tag.map(str::to_owned).into_iter().collect())),
        }
    }

    /// What a lifecycle rule does.
    pub fn delete_ecr_image(&self, repo: &str, c: char) {
        let mut s = self.lock();
        if let Some(images) = s.images.get_mut(repo) {
            images.retain(|(d, _)| *d != digest(c));
        }
    }

    /// Image `c` is in `repo`, and ECR scans it as `scan` says, starting now (world time).
    pub fn scan(&self, repo: &str, c: char, mut scan: Scan) {
        self.ecr_image(repo, c, None);
        let mut s = self.lock();
        scan.ready_at = scan.takes.map(|d| s.t() + d);
        s.scans.insert((repo.to_owned(), digest(c)), scan);
    }

    /// Image `c` is in `repo` and carries these signing statuses (ECR managed signing).
    pub fn signed(&self, repo: &str, c: char, signings: Vec<Signing>) {
        self.ecr_image(repo, c, None);
        let mut s = self.lock();
        let now = s.t();
        let signings = signings
            .into_iter()
            .map(|mut g| {
                g.ready_at = g.takes.map(|d| now + d);
                g
            })
            .collect();
        s.signings.insert((repo.to_owned(), digest(c)), signings);
    }

    /// An ECR client that answers from this world, on virtual time, SDK retries off.
    pub fn ecr_client(&self) -> aws_sdk_ecr::Client {
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&self.describe_images())
            .with_rule(&self.describe_image_scan_findings())
            .with_rule(&self.describe_image_signing_status())
            .with_rule(&self.batch_get_image())
            .with_rule(&self.get_download_url_for_layer());
        let conf = aws_sdk_ecr::Config::builder()
            .with_test_defaults_v2()
            .region(aws_sdk_ecr::config::Region::new(REGION))
            .http_client(FaultyHttp::wrap(self.lock().timeout_next.clone()))
            .interceptor(interceptor)
            .time_source(self.time_source())
            .timeout_config(
                aws_sdk_ecr::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .sleep_impl(self.sleep_impl())
            .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
            .stalled_stream_protection(
                aws_sdk_ecr::config::StalledStreamProtectionConfig::disabled(),
            )
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }

    fn describe_images(&self) -> aws_smithy_mocks::Rule {
        let st = self.state.clone();
        mock!(aws_sdk_ecr::Client::describe_images).then_compute_response(lossy(
            st.clone(),
            move |req: &DescribeImagesInput| {
                let mut s = st.lock().expect("lock");
                let repo = req.repository_name().unwrap_or_default().to_owned();
                let ids = req.image_ids().to_vec();
                let detail = ids
                    .first()
                    .map(|i| format!("{:?}/{:?}", i.image_digest(), i.image_tag()));
                if let Some(f) = s.begin(Call {
                    op: "DescribeImages",
                    function: repo.clone(),
                    qualifier: detail,
                    registry_id: req.registry_id().map(str::to_owned),
                    ..Default::default()
                }) {
                    return s.faulted(f, DescribeImagesError::generic);
                }
                // Images live in the registry asked for (a central registry), else our own.
                let registry = req.registry_id().unwrap_or(ACCOUNT).to_owned();
                let Some(images) = s.images.get(&repo) else {
                    return MockResponse::Error(DescribeImagesError::generic(repo_not_found(
                        &repo,
                    )));
                };
                let mut out = DescribeImagesOutput::builder();
                if ids.is_empty() {
                    // A listing of the repository, one page at a time.
                    let start: usize = req.next_token().and_then(|t| t.parse().ok()).unwrap_or(0);
                    let page = req.max_results().map_or(s.ecr_page, |m| m.max(1) as usize);
                    for (d, tags) in images.iter().skip(start).take(page) {
                        let pushed = s.pushed.get(&(repo.clone(), d.clone())).copied();
                        out = out.image_details(
                            ImageDetail::builder()
                                .registry_id(&registry)
                                .repository_name(&repo)
                                .image_digest(d)
                                .set_image_tags((!tags.is_empty()).then(|| tags.clone()))
                                .set_image_pushed_at(pushed.map(aws_smithy_types::DateTime::from))
                                .image_manifest_media_type(s.media_type_of(d))
                                .build(),
                        );
                    }
                    if start + page < images.len() {
                        out = out.next_token((start + page).to_string());
                    }
                    return MockResponse::Output(out.build());
                }
                for id in &ids {
                    let hit = images.iter().find(|(d, tags)| {
                        id.image_digest().is_some_and(|x| x == d)
                            || id.image_tag().is_some_and(|t| tags.iter().any(|x| x == t))
                    });
                    match hit {
                        Some((d, tags)) => {
                            out = out.image_details(
                                ImageDetail::builder()
                                    .registry_id(&registry)
                                    .repository_name(&repo)
                                    .image_digest(d)
                                    .set_image_tags(Some(tags.clone()))
                                    .image_manifest_media_type(s.media_type_of(d))
                                    .build(),
                            );
                        }
                        None => {
                            return MockResponse::Error(DescribeImagesError::generic(
                                image_not_found(),
                            ));
                        }
                    }
                }
                MockResponse::Output(out.build())
            },
        ))
    }

    fn describe_image_scan_findings(&self) -> aws_smithy_mocks::Rule {
        let st = self.state.clone();
        mock!(aws_sdk_ecr::Client::describe_image_scan_findings).then_compute_response(lossy(
            st.clone(),
            move |req: &DescribeImageScanFindingsInput| {
                let mut s = st.lock().expect("lock");
                let repo = req.repository_name().unwrap_or_default().to_owned();
                let digest = req
                    .image_id()
                    .and_then(|i| i.image_digest())
                    .unwrap_or_default()
                    .to_owned();
                if let Some(f) = s.begin(Call {
                    op: "DescribeImageScanFindings",
                    function: repo.clone(),
                    qualifier: Some(digest.clone()),
                    registry_id: req.registry_id().map(str::to_owned),
                    ..Default::default()
                }) {
                    return s.faulted(f, DescribeImageScanFindingsError::generic);
                }
                let Some(images) = s.images.get(&repo) else {
                    return MockResponse::Error(DescribeImageScanFindingsError::generic(
                        repo_not_found(&repo),
                    ));
                };
                if !images.iter().any(|(d, _)| *d == digest) {
                    return MockResponse::Error(DescribeImageScanFindingsError::generic(
                        image_not_found(),
                    ));
                }
                let Some(scan) = s.scans.get(&(repo.clone(), digest.clone())).cloned() else {
                    return MockResponse::Error(DescribeImageScanFindingsError::generic(
                        ErrorMetadata::builder()
                            .code("ScanNotFoundException")
                            .message(format!(
                                "Image scan does not exist for the image with '{{imageDigest:'{digest}', imageTag:'null'}}' in the repository with name '{repo}' in the registry with id '{ACCOUNT}'"
                            ))
                            .build(),
                    ));
                };
                let running =
                    scan.never_completes || scan.ready_at.is_some_and(|at| s.t() < at);
                let mut out = DescribeImageScanFindingsOutput::builder()
                    .registry_id(req.registry_id().unwrap_or(ACCOUNT))
                    .repository_name(&repo)
                    .image_id(ImageIdentifier::builder().image_digest(&digest).build());
                if running {
                    return MockResponse::Output(
                        out.image_scan_status(
                            ImageScanStatus::builder()
                                .status(ScanStatus::from(scan.running_status))
                                .description("The scan is in progress.")
                                .build(),
                        )
                        .build(),
                    );
                }
                out = out.image_scan_status(
                    ImageScanStatus::builder()
                        .status(ScanStatus::from(scan.status.as_str()))
                        .set_description(scan.description.clone())
                        .build(),
                );
                if matches!(scan.status.as_str(), "COMPLETE" | "ACTIVE") {
                    let page = req.max_results().unwrap_or(100).max(0) as usize;
                    out = out.image_scan_findings(findings(&scan, page));
                }
                MockResponse::Output(out.build())
            },
        ))
    }

    fn describe_image_signing_status(&self) -> aws_smithy_mocks::Rule {
        let st = self.state.clone();
        mock!(aws_sdk_ecr::Client::describe_image_signing_status).then_compute_response(lossy(
            st.clone(),
            move |req: &DescribeImageSigningStatusInput| {
                let mut s = st.lock().expect("lock");
                let repo = req.repository_name().unwrap_or_default().to_owned();
                let digest = req
                    .image_id()
                    .and_then(|i| i.image_digest())
                    .unwrap_or_default()
                    .to_owned();
                if let Some(f) = s.begin(Call {
                    op: "DescribeImageSigningStatus",
                    function: repo.clone(),
                    qualifier: Some(digest.clone()),
                    registry_id: req.registry_id().map(str::to_owned),
                    ..Default::default()
                }) {
                    return s.faulted(f, DescribeImageSigningStatusError::generic);
                }
                let Some(images) = s.images.get(&repo) else {
                    return MockResponse::Error(DescribeImageSigningStatusError::generic(
                        repo_not_found(&repo),
                    ));
                };
                if !images.iter().any(|(d, _)| *d == digest) {
                    return MockResponse::Error(DescribeImageSigningStatusError::generic(
                        image_not_found(),
                    ));
                }
                let now = s.t();
                let statuses: Vec<ImageSigningStatus> = s
                    .signings
                    .get(&(repo.clone(), digest.clone()))
                    .into_iter()
                    .flatten()
                    .map(|g| {
                        let running = g.ready_at.is_some_and(|at| now < at);
                        let b = ImageSigningStatus::builder().signing_profile_arn(&g.profile);
                        if running {
                            b.status(SigningStatus::InProgress).build()
                        } else {
                            b.status(SigningStatus::from(g.status.as_str()))
                                .set_failure_code(g.failure_code.clone())
                                .set_failure_reason(g.failure_reason.clone())
                                .build()
                        }
                    })
                    .collect();
                MockResponse::Output(
                    DescribeImageSigningStatusOutput::builder()
                        .repository_name(&repo)
                        .registry_id(req.registry_id().unwrap_or(ACCOUNT))
                        .image_id(ImageIdentifier::builder().image_digest(&digest).build())
                        .set_signing_statuses(Some(statuses))
                        .build(),
                )
            },
        ))
    }
}

/// The findings of a finished scan: the counts, and one finding per count (at most `page`), named
/// `CVE-2026-NNNN` in the order of the counts, in package `pkg-N 1.0.N`.
fn findings(scan: &Scan, page: usize) -> ImageScanFindings {
    let mut out = ImageScanFindings::builder();
    for (sev, n) in &scan.counts {
        out = out.finding_severity_counts(FindingSeverity::from(sev.as_str()), *n);
    }
    let mut i = 0usize;
    for (sev, n) in &scan.counts {
        for _ in 0..*n {
            i += 1;
            if i > page {
                break;
            }
            let name = format!("CVE-2026-{i:04}");
            let (pkg, ver) = (format!("pkg-{i}"), format!("1.0.{i}"));
            out = if scan.enhanced {
                out.enhanced_findings(
                    EnhancedImageScanFinding::builder()
                        .title(format!("{name} - {pkg}"))
                        .severity(sev)
                        .status("ACTIVE")
                        .package_vulnerability_details(
                            PackageVulnerabilityDetails::builder()
                                .vulnerability_id(&name)
                                .vulnerable_packages(
                                    VulnerablePackage::builder()
                                        .name(&pkg)
                                        .version(&ver)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
            } else {
                out.findings(
                    ImageScanFinding::builder()
                        .name(&name)
                        .severity(FindingSeverity::from(sev.as_str()))
                        .attributes(
                            Attribute::builder()
                                .key("package_version")
                                .value(&ver)
                                .build()
                                .expect("key set"),
                        )
                        .attributes(
                            Attribute::builder()
                                .key("package_name")
                                .value(&pkg)
                                .build()
                                .expect("key set"),
                        )
                        .build(),
                )
            };
        }
    }
    out.build()
}

fn repo_not_found(repo: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("RepositoryNotFoundException")
        .message(format!("repository {repo} not found"))
        .build()
}

fn image_not_found() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("ImageNotFoundException")
        .message("The image requested does not exist")
        .build()
}

/// The scans and signings the world holds, keyed by image.
pub type Scans = std::collections::HashMap<ImageKey, Scan>;
pub type Signings = std::collections::HashMap<ImageKey, Vec<Signing>>;
