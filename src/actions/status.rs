//! Where everything points: per configured function, the alias (and its split), its version and
//! image, what a rollback would go to, whether `$LATEST` differs from what is live.

use super::Deps;
use super::rollback::rollback_target;
use crate::config::Target;
use crate::gateway::Lambda;
use crate::input::{InputError, StatusRequest};
use crate::record::VersionRecord;
pub use crate::timeline::Split;
use crate::types::{AliasName, FunctionRef, Version};
use futures_util::StreamExt;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionStatus {
    pub function: FunctionRef,
    pub alias: AliasName,
    /// What the alias points to: a version number, `$LATEST`, or nothing (no alias yet).
    pub alias_target: Option<String>,
    pub version: Option<Version>,
    /// A canary split: another version and its share of traffic (0-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    /// Lambda is still moving traffic off this version after the deployer's last move (its own
    /// transition, shown as weight 1 on the old version; not a split).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_moving_from: Option<Version>,
    /// During a rollout: when its next check is scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<String>,
    /// A split with no check pending in the schedule group: nobody comes back to it until a
    /// reconcile sweep schedules its check again (or a person ends it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stalled: bool,
    pub image_uri: Option<String>,
    pub image_digest: Option<String>,
    /// The image index the push named, when `image_digest` was chosen from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    pub image_tag: Option<String>,
    /// The version a rollback without `version` would go to (a split is cleared first).
    pub previous_version: Option<Version>,
    /// Whether that version's image still exists in ECR (a rollback to it is refused if not);
    /// absent when it could not be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_image_exists: Option<bool>,
    /// `$LATEST` runs other code than the alias (a deployment in progress, failed, or by hand).
    /// `None` when there is no alias to compare with.
    pub latest_differs: Option<bool>,
    pub versions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    pub action: &'static str,
    pub functions: Vec<FunctionStatus>,
}

impl StatusReport {
    /// Some function could not be read: the answer is incomplete.
    pub fn is_failure(&self) -> bool {
        self.functions.iter().any(|f| f.error.is_some())
    }
}

pub async fn on_status(deps: &Deps<'_>, s: &StatusRequest) -> Result<StatusReport, InputError> {
    let functions: Vec<(FunctionRef, &Target)> = match &s.function {
        Some(f) => vec![deps.allowed(f, None)?],
        None => deps
            .config
            .targets
            .iter()
            .flat_map(|t| t.functions.iter().map(move |f| (f.clone(), t)))
            .collect(),
    };
    let statuses = futures_util::stream::iter(functions)
        .map(|(f, t)| async move {
            // A target in another account is read with its role (cached: one AssumeRole per role).
            let ctx = match deps.for_target(t).await {
                Ok(d) => d.ctx,
                Err(e) => {
                    let mut s = FunctionStatus::new(f, t.alias.clone());
                    s.error = Some(e);
                    return s;
                }
            };
            let mut s = status(&ctx.lambda, f, t.alias.clone()).await;
            if let Some(prev) = s.previous_version {
                let f = s.function.as_str().to_owned();
                s.previous_image_exists =
                    super::rollback_images::version_image_exists(&ctx, &f, prev).await;
            }
            if s.split.is_some()
                && let Ok(next) = crate::rollout::pending_check(&ctx, &s.function, &s.alias).await
            {
                s.stalled = next.is_none();
                s.next_check_at = next;
            }
            s
        })
        .buffered(deps.config.max_parallel)
        .collect()
        .await;
    Ok(StatusReport {
        action: "status",
        functions: statuses,
    })
}

impl FunctionStatus {
    fn new(function: FunctionRef, alias: AliasName) -> Self {
        Self {
            function,
            alias,
            alias_target: None,
            version: None,
            split: None,
            traffic_moving_from: None,
            next_check_at: None,
            stalled: false,
            image_uri: None,
            image_digest: None,
            index_digest: None,
            image_tag: None,
            previous_version: None,
            previous_image_exists: None,
            latest_differs: None,
            versions: None,
            error: None,
        }
    }
}

async fn status(lambda: &Lambda, function: FunctionRef, alias: AliasName) -> FunctionStatus {
    let mut s = FunctionStatus::new(function, alias);
    if let Err(e) = fill(lambda, &mut s).await {
        s.error = Some(e);
    }
    s
}

async fn fill(lambda: &Lambda, s: &mut FunctionStatus) -> Result<(), String> {
    let f = s.function.as_str().to_owned();
    let latest = lambda
        .get_function(&f, None)
        .await
        .map_err(|e| e.to_string())?;
    let versions: Vec<Version> = lambda
        .list_versions(&f)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    s.versions = Some(versions.len());
    let Some(alias) = lambda
        .get_alias(&f, &s.alias)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    s.alias_target = Some(alias.target.to_string());
    s.split = alias.routing.first().map(|(v, w)| Split {
        version: *v,
        weight: *w,
    });
    s.traffic_moving_from = alias.transition;
    let live = match alias.target.version() {
        Some(v) => {
            s.version = Some(v);
            lambda
                .get_function(&f, Some(&v.to_string()))
                .await
                .map_err(|e| format!("GetFunction {v} failed: {}", e.message))?
        }
        None => latest.clone(),
    };
    s.image_uri = live.image_uri.clone();
    s.image_digest = live.digest().map(|d| d.to_string());
    let record = VersionRecord::parse(&live.description);
    s.image_tag = record.as_ref().and_then(|r| r.tag.clone());
    s.index_digest = record
        .as_ref()
        .and_then(|r| r.index.as_ref())
        .map(|d| d.to_string());
    s.previous_version = match s.version {
        // A rollback first clears a split: the alias's own version is where it goes.
        Some(v) if s.split.is_some() => Some(v),
        Some(v) => rollback_target(v, record.and_then(|r| r.previous), &versions).map(|t| t.0),
        None => None,
    };
    s.latest_differs = Some(live.code_sha256 != latest.code_sha256);
    Ok(())
}
