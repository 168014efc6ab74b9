//! Deploy: a pushed image (the ECR event), or an image or tag named by hand. Every path ends in the
//! same pipeline for each function the image is for.

use super::Deps;
use crate::fanout::{Push, deploy_set};
use crate::input::{
    DeployRequest, DeploySource, EcrImageAction, EcrImageScan, ImageAction, ImageResult, InputError,
};
use crate::plan::{Home, plan};
use crate::report::{ActionKind, Report};
use crate::types::{ImageRef, Reason};
use chrono::{DateTime, SecondsFormat, Utc};

/// An "ECR Image Action" event: successful pushes deploy, everything else is skipped with a reason.
pub async fn on_image_event(deps: &Deps<'_>, ev: &EcrImageAction, dry_run: bool) -> Report {
    let mut report = match image_of(ev) {
        Err(why) => {
            tracing::info!(repository = %ev.repository, %why, "skipped");
            Report::skipped(ActionKind::Deploy, why)
        }
        Ok(image) => match deps.home {
            // Not a skip: something is wrong (credentials, STS) and a person should look.
            None if !deps.config.targets_for(&ev.repository).is_empty() => {
                Report::failed(ActionKind::Deploy, crate::plan::HOME_UNKNOWN).with_image(&image)
            }
            None => Report::skipped(ActionKind::Deploy, crate::plan::no_target(&ev.repository)),
            Some(home) => match super::index_child::part_of_index(deps, ev).await {
                Some(report) => report,
                None => deploy_image(deps, home, &image, Some(ev.time), None, dry_run).await,
            },
        },
    };
    report.repository = Some(ev.repository.to_string());
    report.image_tag = ev.tag.as_ref().map(|t| t.to_string());
    report.image_digest = ev.digest.as_ref().map(|d| d.to_string());
    report.event_time = Some(ev.time.to_rfc3339_opts(SecondsFormat::Secs, true));
    report.dry_run = dry_run;
    report
}

/// Why an "ECR Image Scan" event deploys nothing.
pub const SCAN_EVENT_SKIPPED: &str = "an \"ECR Image Scan\" event deploys nothing: the push's own \"ECR Image Action\" event deploys the image, and its image_checks wait for the scan (scan_wait_secs)";

/// An "ECR Image Scan" event: skipped, no AWS call.
pub fn on_scan_event(ev: &EcrImageScan) -> Report {
    tracing::info!(repository = %ev.repository, status = ?ev.scan_status, "scan event skipped");
    let mut report = Report::skipped(ActionKind::Deploy, SCAN_EVENT_SKIPPED);
    report.repository = Some(ev.repository.to_string());
    report.image_digest = ev.digest.as_ref().map(|d| d.to_string());
    report.event_time = Some(ev.time.to_rfc3339_opts(SecondsFormat::Secs, true));
    report
}

/// The pushed image, or why this event deploys nothing.
fn image_of(ev: &EcrImageAction) -> Result<ImageRef, String> {
    if ev.action != ImageAction::Push {
        return Err(format!(
            "action-type is {:?}: only pushes are deployed",
            String::from(ev.action.clone())
        ));
    }
    if let ImageResult::Other(r) = &ev.result {
        return Err(format!(
            "result is {r:?}: only successful pushes are deployed"
        ));
    }
    // The parser rejects a successful push without a digest; this is only a second lock.
    let digest = ev.digest.clone().ok_or("the event names no image digest")?;
    Ok(ImageRef {
        account: ev.account.clone(),
        region: ev.region.clone(),
        repository: ev.repository.clone(),
        digest,
        tag: ev.tag.clone(),
        manifest: ev.manifest.unwrap_or(crate::types::ManifestKind::Image),
    })
}

/// `image` to every function it is for (in this run, or dispatched: see [`deploy_set`]).
async fn deploy_image(
    deps: &Deps<'_>,
    home: &Home,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
    reason: Option<&Reason>,
    dry_run: bool,
) -> Report {
    match plan(deps.config, image, home) {
        Err(why) => {
            tracing::info!(repository = %image.repository, %why, "skipped");
            Report::skipped(ActionKind::Deploy, why)
        }
        Ok(jobs) => {
            tracing::info!(image = %image.uri(), functions = jobs.len(), dry_run, "deploying");
            let jobs = jobs.into_iter().map(|j| (j.function, j.target)).collect();
            let push = Push {
                image,
                pushed,
                reason,
                dry_run,
            };
            Box::pin(deploy_set(deps, push, jobs)).await
        }
    }
}

/// A deploy by hand: one function and an image pinned by digest, or a repository's tag.
pub async fn on_deploy(deps: &Deps<'_>, d: &DeployRequest) -> Result<Report, InputError> {
    let mut report = match &d.source {
        DeploySource::Image { function, image } => {
            let (function, target) = deps.allowed(function, Some(&image.repository))?;
            match deps.home {
                None => {
                    Report::failed(ActionKind::Deploy, crate::plan::HOME_UNKNOWN).with_image(image)
                }
                Some(home) => {
                    if let Some(why) = home.refuses(target, &image.account, &image.region) {
                        return Err(InputError::new("payload.image_uri", why));
                    }
                    let job = vec![(function, target)];
                    let push = Push {
                        image,
                        pushed: d.pushed,
                        reason: d.reason.as_ref(),
                        dry_run: d.dry_run,
                    };
                    Box::pin(deploy_set(deps, push, job)).await
                }
            }
        }
        DeploySource::Tag { repository, tag } => {
            let targets = deps.targets_of(repository)?;
            let Some(home) = deps.home else {
                return Ok(Report::failed(
                    ActionKind::Deploy,
                    crate::plan::HOME_UNKNOWN,
                ));
            };
            // The registry the targets take this repository's images from (a central registry
            // when registry_account says so), asked in this deployer's region.
            let registry = targets[0].registry_account.as_ref();
            match deps.ctx.ecr.resolve_tag(registry, repository, tag).await {
                Ok((digest, account, manifest)) => {
                    let image = ImageRef {
                        account,
                        region: home.region.clone(),
                        repository: repository.clone(),
                        digest,
                        tag: Some(tag.clone()),
                        manifest,
                    };
                    // A manual deploy is not a push: no event time to compare with.
                    let reason = d.reason.as_ref();
                    Box::pin(deploy_image(deps, home, &image, None, reason, d.dry_run)).await
                }
                Err(why) => {
                    let mut r = Report::failed(ActionKind::Deploy, why);
                    r.repository = Some(repository.to_string());
                    r.image_tag = Some(tag.to_string());
                    r
                }
            }
        }
    };
    report.dry_run = d.dry_run;
    report.request_reason = d.reason.clone();
    Ok(report)
}
