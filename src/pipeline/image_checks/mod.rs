//! Only clean, signed images go further: what ECR's scan (basic, or enhanced through Inspector) and
//! ECR managed signing say about the new image decides, before anything is changed.
//!
//! A scan (or signing) still in progress is polled every few seconds, in the client's time, for at
//! most `scan_wait_secs` and never past the invocation's deadline. The verdict itself is pure
//! ([`judge`]): counts against `max_findings`, a usable scan when `require_scan`, a `COMPLETE`
//! signature by the required profile.

use crate::config::ImageChecks;
use crate::gateway::ApiError;
use crate::gateway::ecr::{Ecr, ImageScan, ImageSigning, ScanProgress};
use crate::ops::{Ctx, Failure, FailureKind, Run};
use crate::report::{ImageChecksResult, ImageVerdict, SeverityCounts, SignatureCheck, Step};
use crate::types::{ImageRef, SigningProfileArn};
use std::time::Duration;

/// How often a scan or signing in progress is asked about again.
pub const POLL_EVERY: Duration = Duration::from_secs(5);
/// Findings kept in the report (and so in notifications): the most severe.
pub const MAX_FINDINGS_SHOWN: usize = 10;

/// What the checks found and what it means for the deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub result: ImageChecksResult,
    /// Why the image may not be deployed; empty when it may.
    pub blocked_by: Vec<String>,
    /// Why it was let through without a check (no usable scan, and the scan is not required).
    pub warnings: Vec<String>,
}

/// The step: runs the checks, keeps what they found in the report, and fails the deployment at
/// `image_checks` when they block. Nothing has been changed when it runs.
pub async fn gate(
    run: &mut Run<'_>,
    checks: &ImageChecks,
    image: &ImageRef,
) -> Result<(), Failure> {
    let ctx = run.ctx;
    let verdict = run
        .step(Step::ImageChecks, async {
            Ok(check(ctx, checks, image).await)
        })
        .await?;
    run.dep.warnings.extend(verdict.warnings);
    run.dep.image_checks = Some(verdict.result);
    if verdict.blocked_by.is_empty() {
        Ok(())
    } else {
        tracing::warn!(function = %run.dep.function, image = %image.uri(), blocked_by = ?verdict.blocked_by, "image blocked");
        Err(Failure::of(
            Step::ImageChecks,
            FailureKind::ImageRejected,
            verdict.blocked_by.join("; "),
        ))
    }
}

/// How long the checks may wait, and why that long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub limit: Duration,
    /// The invocation's deadline cut the wait below `scan_wait_secs`.
    pub by_deadline: bool,
}

/// Reads the scan (and the signing status when a signature is required), waiting while either is
/// in progress, and judges them.
pub async fn check(ctx: &Ctx, checks: &ImageChecks, image: &ImageRef) -> Verdict {
    let clock = ctx.clock();
    let start = clock.now();
    let budget = match ctx.time_left() {
        Some(left) if left < checks.scan_wait() => Budget {
            limit: left,
            by_deadline: true,
        },
        _ => Budget {
            limit: checks.scan_wait(),
            by_deadline: false,
        },
    };
    let profile = checks
        .require_signature
        .as_ref()
        .map(|r| &r.signing_profile_arn);
    let mut scan: Option<Result<Option<ImageScan>, ApiError>> = None;
    let mut signing: Option<Result<Vec<ImageSigning>, ApiError>> = None;
    let mut polls = 0u32;
    loop {
        polls += 1;
        if scan.as_ref().is_none_or(scan_running) {
            scan = Some(ctx.ecr.scan_findings(image).await);
        }
        if let Some(p) = profile
            && signing.as_ref().is_none_or(|s| signing_running(s, p))
        {
            signing = Some(ctx.ecr.signing_statuses(image).await);
        }
        let running = scan.as_ref().is_some_and(scan_running)
            || profile.is_some_and(|p| signing.as_ref().is_some_and(|s| signing_running(s, p)));
        let waited = clock.since(start);
        if !running || waited >= budget.limit {
            break;
        }
        // Never sleep past the limit: the last read lands on it.
        clock.sleep(POLL_EVERY.min(budget.limit - waited)).await;
    }
    let waited = clock.since(start);
    tracing::info!(image = %image.uri(), polls, waited_ms = waited.as_millis() as u64, "image checks read");
    let scan = scan.unwrap_or(Ok(None));
    let signing = profile.map(|p| (p, signing.unwrap_or_else(|| Ok(Vec::new()))));
    judge(
        checks,
        image,
        &scan,
        signing.as_ref().map(|(p, s)| (*p, s)),
        budget,
    )
}

fn scan_running(scan: &Result<Option<ImageScan>, ApiError>) -> bool {
    matches!(scan, Ok(Some(s)) if s.progress() == ScanProgress::Running)
}

fn signing_for<'a>(
    statuses: &'a [ImageSigning],
    p: &SigningProfileArn,
) -> Option<&'a ImageSigning> {
    statuses.iter().find(|s| {
        s.signing_profile_arn
            .as_deref()
            .is_some_and(|a| p.matches(a))
    })
}

fn signing_running(signing: &Result<Vec<ImageSigning>, ApiError>, p: &SigningProfileArn) -> bool {
    matches!(signing, Ok(list) if signing_for(list, p).is_some_and(|s| s.status == "IN_PROGRESS"))
}

/// A rollback's target, for information only (rollbacks are never gated): one read, no waiting,
/// `None` when ECR has no usable answer. Never fails.
pub async fn current_scan(ecr: &Ecr, image: &ImageRef) -> Option<ImageChecksResult> {
    match ecr.scan_findings(image).await {
        Ok(Some(s)) => Some(ImageChecksResult {
            verdict: ImageVerdict::NotGated,
            scan_status: s.status,
            scan_detail: s.description,
            counts: s.counts,
            findings: s.findings.into_iter().take(MAX_FINDINGS_SHOWN).collect(),
            signature: None,
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::info!(image = %image.uri(), error = %e, "scan of the rollback target not read");
            None
        }
    }
}

mod judge;
pub use judge::judge;
