//! The reconcile sweep: EventBridge delivers ECR events on a best-effort basis, and people move
//! aliases by hand. On a schedule, every configured function is compared with the newest image of
//! its repository ([`assess`]); a push that was missed goes through the same full pipeline its
//! event would have (gates, rollout, everything), a hand-moved alias is reported (once) and left
//! alone, and an image rejected before is never retried.

mod assess;
mod finding;
mod stalled;

use super::Deps;
use crate::config::{ReconcileMode, Target};
use crate::fanout::{Push, deploy_concurrently, dispatch};
use crate::input::ReconcileRequest;
use crate::report::{ActionKind, Deployment, End, Report};
use crate::types::{FunctionRef, ImageRef, Version};
use chrono::{DateTime, Utc};
use finding::Finding;
use futures_util::StreamExt;
use std::time::Duration;

/// Publish, promote, prune and the reads around them: what a deployment needs beyond its waits.
const STEP_CALLS: Duration = Duration::from_secs(60);

/// The longest one deployment to `target` can take: the wait for Lambda to apply the update, the
/// smoke test, the wait for a scan, the calls around them, and what runs before the update (the
/// image's labels and GitHub's start, each bounded by twice `api_timeout`). A sweep starts a
/// deployment only with this much left (beyond the pipeline's own reserve), so that none is cut
/// off halfway: a cut-off deployment is a failure, while a deferred one is done by the next sweep.
pub fn worst_case(update_timeout: Duration, api_timeout: Duration, target: &Target) -> Duration {
    let scan = target
        .image_checks
        .as_ref()
        .map(|c| c.scan_wait())
        .unwrap_or_default();
    let starts = if target.github.is_some() { 2 } else { 1 };
    let before_update = api_timeout * 2 * starts;
    update_timeout
        + Duration::from_secs(target.smoke.timeout_secs)
        + scan
        + STEP_CALLS
        + before_update
}

/// One sweep's settings.
pub(super) struct Sweep<'d, 'c> {
    pub deps: &'d Deps<'c>,
    /// Tags may be written (the drift state): not in a dry run or a check.
    pub writes: bool,
}

/// A missed push to deploy, with where its report goes.
struct Missed<'t> {
    slot: usize,
    live: Option<Version>,
    function: FunctionRef,
    target: &'t Target,
    image: ImageRef,
    pushed: Option<DateTime<Utc>>,
    dry_run: bool,
}

pub async fn on_reconcile(deps: &Deps<'_>, r: &ReconcileRequest) -> Report {
    let sw = Sweep {
        deps,
        writes: !(r.dry_run || r.check),
    };
    let jobs: Vec<(FunctionRef, &Target)> = deps
        .config
        .targets
        .iter()
        .flat_map(|t| t.functions.iter().map(move |f| (f.clone(), t)))
        .collect();
    let sw = &sw;
    let findings: Vec<Finding> = futures_util::stream::iter(jobs.iter())
        .map(|(f, t)| async move {
            // A target in another account is read with its role's credentials.
            let deps = match sw.deps.for_target(t).await {
                Ok(deps) => deps,
                Err(why) => {
                    let d = crate::ops::accounts::unreachable(f.clone(), t, why);
                    return Finding::Done(Box::new(d));
                }
            };
            let sw = Sweep {
                deps: &deps,
                writes: sw.writes,
            };
            Box::pin(assess::assess(&sw, f, t)).await
        })
        .buffered(deps.config.max_parallel)
        .collect()
        .await;
    let mut slots: Vec<Option<Deployment>> = Vec::with_capacity(findings.len());
    let mut missed = Vec::new();
    for ((function, target), finding) in jobs.iter().zip(findings) {
        match finding {
            Finding::Done(d) => slots.push(Some(*d)),
            Finding::Missed { image, live, .. } if target.after.is_some() => {
                // A later stage takes images only by promotion: the repository's newest image is
                // not its to take, whatever a sweep sees.
                let from = target.after.as_ref().map(|a| a.function.to_string());
                let mut d = Deployment::new(function.clone(), target.alias.clone());
                (d.version, d.previous_version) = (live, live);
                d.end(End::skipped(format!(
                    "the newest image {} is not live, but {function} takes images only by promotion from {} (promote-stage): a sweep never deploys it",
                    label(&image),
                    from.unwrap_or_default()
                )));
                slots.push(Some(d));
            }
            Finding::Missed {
                image,
                pushed,
                live,
            } => {
                missed.push(Missed {
                    live,
                    slot: slots.len(),
                    function: function.clone(),
                    target,
                    image,
                    pushed,
                    dry_run: r.dry_run || target.reconcile_mode == ReconcileMode::Report,
                });
                slots.push(None);
            }
        }
    }
    if r.check {
        // status --check: say what is behind, run nothing.
        for m in missed {
            let mut d = Deployment::new(m.function, m.target.alias.clone());
            (d.version, d.previous_version) = (m.live, m.live);
            d.end(End::would_deploy(format!(
                "the newest image {} is not live",
                label(&m.image)
            )));
            slots[m.slot] = Some(d);
        }
    } else {
        for (slot, d) in deploy_missed(deps, missed).await {
            slots[slot] = Some(d);
        }
    }
    let deployments: Vec<Deployment> = slots.into_iter().flatten().collect();
    let mut report = Report::new(ActionKind::Reconcile).with_deployments(deployments);
    report.dry_run = r.dry_run;
    report
}

fn label(image: &ImageRef) -> String {
    match &image.tag {
        Some(t) => format!("{t} ({})", image.digest.short()),
        None => image.digest.short(),
    }
}

/// The one place a sweep deploys: each missed image through [`deploy_concurrently`] (the full
/// pipeline), at most DEPLOYER_MAX_PARALLEL at once, none started without its [`worst_case`] left.
///
/// More missed functions than DEPLOYER_INLINE_MAX: each is dispatched to its own run of the
/// deployer instead (as a push for that many would be), which deploys it and reports on its own.
async fn deploy_missed(deps: &Deps<'_>, missed: Vec<Missed<'_>>) -> Vec<(usize, Deployment)> {
    let fan_out = missed.len() > deps.config.inline_max;
    futures_util::stream::iter(missed)
        .map(|m| async move {
            if fan_out {
                let job = vec![(m.function.clone(), m.target)];
                let push = Push {
                    image: &m.image,
                    pushed: m.pushed,
                    reason: None,
                    dry_run: m.dry_run,
                };
                let report = Box::pin(dispatch(deps, push, job)).await;
                let mut d = report
                    .deployments
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| Deployment::new(m.function, m.target.alias.clone()));
                d.prefix_reason(&format!("missed push of {}", label(&m.image)), report.reason);
                return (m.slot, d);
            }
            let needed = worst_case(deps.ctx.update_timeout, deps.config.api_timeout, m.target);
            let left = deps.ctx.time_left();
            if !m.dry_run && let Some(left) = left.filter(|l| *l < needed) {
                let mut d = Deployment::new(m.function, m.target.alias.clone());
                (d.version, d.previous_version) = (m.live, m.live);
                d.end(End::deferred(format!(
                    "the newest image {} was not deployed: {} s of this invocation were left and a deployment can take {} s (update timeout, smoke test, scan wait, image labels, GitHub and API calls); the next sweep deploys it",
                    label(&m.image),
                    left.as_secs(),
                    needed.as_secs()
                )));
                return (m.slot, d);
            }
            let mut deps_out = Box::pin(deploy_concurrently(
                deps,
                &m.image,
                vec![(m.function.clone(), m.target)],
                m.pushed,
                m.dry_run,
                deps.config.max_parallel,
            ))
            .await;
            let mut d = deps_out
                .pop()
                .unwrap_or_else(|| Deployment::new(m.function, m.target.alias.clone()));
            d.prefix_reason(&format!("missed push of {}", label(&m.image)), None);
            (m.slot, d)
        })
        .buffered(deps.config.max_parallel)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn target(json: &str, github: bool) -> Target {
        let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf";
        Config::from_lookup(|k| match k {
            "DEPLOYER_TARGETS" => Some(json.to_owned()),
            "DEPLOYER_GITHUB_TOKEN_SECRET_ARN" if github => Some(secret.to_owned()),
            _ => None,
        })
        .unwrap()
        .targets
        .remove(0)
    }

    /// What runs before the update (the image's labels; GitHub's start when the target has
    /// github) counts in the time a sweep keeps for a deployment.
    #[test]
    fn the_worst_case_counts_the_label_read_and_githubs_start() {
        let (update, api) = (Duration::from_secs(600), Duration::from_secs(20));
        let plain = target(r#"[{"repository": "api", "functions": ["f"]}]"#, false);
        // 600 update + 60 smoke + 60 calls + 40 labels.
        assert_eq!(worst_case(update, api, &plain), Duration::from_secs(760));
        let told = target(
            r#"[{"repository": "api", "functions": ["f"], "github": {"repository": "o/r"}}]"#,
            true,
        );
        // ... + 40 GitHub's start.
        assert_eq!(worst_case(update, api, &told), Duration::from_secs(800));
    }
}
