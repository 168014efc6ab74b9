//! A fleet's progress: `498 of 500 on sha256:…, 2 failed, 0 in progress`, and the exceptions.
//! Read from each function (its alias, its `$LATEST`, what its runs left on it); never changes
//! anything. The CLI exits 3 while not all are live.

use super::Deps;
use crate::fanout::summary::FAILURE_TAG;
use crate::input::{FleetStatusRequest, InputError};
use crate::ops::Ctx;
use crate::types::{AliasName, Digest, FunctionRef};
use futures_util::StreamExt;
use serde::Serialize;

/// Functions read at once: each is one or two GetFunction calls (their own quota) and, for the
/// exceptions only, a ListTags; the run's budget paces them.
const READ_PARALLEL: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    Live,
    /// `$LATEST` runs the image (or is being updated to it) and the alias does not yet.
    InProgress,
    /// Its deployment of this image failed (or the image was rejected for it).
    Failed,
    /// Nothing of the image on it yet.
    Behind,
    /// It could not be read.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionProgress {
    pub function: String,
    pub progress: Progress,
    /// What its alias runs now, when not the image asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetStatus {
    pub action: &'static str,
    pub repository: String,
    pub digest: String,
    pub summary: String,
    pub functions: usize,
    pub live: usize,
    pub failed: usize,
    pub in_progress: usize,
    /// Every function that is not live, with why.
    pub exceptions: Vec<FunctionProgress>,
}

impl FleetStatus {
    pub fn all_live(&self) -> bool {
        self.live == self.functions
    }

    /// Some function could not be read: the answer is incomplete.
    pub fn is_failure(&self) -> bool {
        self.exceptions
            .iter()
            .any(|e| e.progress == Progress::Unreadable)
    }
}

pub async fn on_fleet_status(
    deps: &Deps<'_>,
    r: &FleetStatusRequest,
) -> Result<FleetStatus, InputError> {
    let targets = deps.targets_of(&r.repository)?;
    let digest = match &r.digest {
        Some(d) => d.clone(),
        None => newest(deps, &r.repository, targets[0].registry_account.as_ref()).await?,
    };
    let functions = crate::fanout::members::configured(deps.config, &r.repository);
    let rows: Vec<FunctionProgress> = futures_util::stream::iter(functions)
        .map(|(f, alias)| {
            let digest = &digest;
            async move { progress_of(&deps.ctx, &f, &alias, digest).await }
        })
        .buffered(READ_PARALLEL)
        .collect()
        .await;
    let count = |p: Progress| rows.iter().filter(|r| r.progress == p).count();
    let (live, failed, in_progress) = (
        count(Progress::Live),
        count(Progress::Failed),
        count(Progress::InProgress),
    );
    let n = rows.len();
    let mut summary = format!(
        "{live} of {n} on {}, {failed} failed, {in_progress} in progress",
        digest.short()
    );
    let (behind, unreadable) = (count(Progress::Behind), count(Progress::Unreadable));
    if behind > 0 {
        summary.push_str(&format!(", {behind} not started"));
    }
    if unreadable > 0 {
        summary.push_str(&format!(", {unreadable} unreadable"));
    }
    Ok(FleetStatus {
        action: "fleet_status",
        repository: r.repository.to_string(),
        digest: digest.to_string(),
        summary,
        functions: n,
        live,
        failed,
        in_progress,
        exceptions: rows
            .into_iter()
            .filter(|r| r.progress != Progress::Live)
            .collect(),
    })
}

/// The repository's most recently pushed image: what a push is deploying.
async fn newest(
    deps: &Deps<'_>,
    repository: &crate::types::Repository,
    registry: Option<&crate::types::Account>,
) -> Result<Digest, InputError> {
    let images = deps
        .ctx
        .ecr
        .images(registry, repository)
        .await
        .map_err(|e| {
            InputError::new(
                "payload.digest",
                format!("is not given, and the repository's newest image could not be read: {e}"),
            )
        })?;
    images
        .into_iter()
        .filter(|i| i.pushed.is_some())
        .max_by_key(|i| i.pushed)
        .map(|i| i.digest)
        .ok_or_else(|| {
            InputError::new(
                "payload.digest",
                format!(
                    "is not given, and repository {:?} has no image",
                    repository.as_str()
                ),
            )
        })
}

async fn progress_of(
    ctx: &Ctx,
    f: &FunctionRef,
    alias: &AliasName,
    digest: &Digest,
) -> FunctionProgress {
    let name = f.as_str();
    let row = |progress, runs: Option<Digest>, reason: Option<String>| FunctionProgress {
        function: f.name().to_owned(),
        progress,
        runs: runs.map(|d| d.short()),
        reason,
    };
    let runs = match ctx.lambda.get_function(name, Some(alias.as_str())).await {
        Ok(s) => s.digest(),
        Err(e) => return row(Progress::Unreadable, None, Some(e.to_string())),
    };
    if runs.as_ref() == Some(digest) {
        return row(Progress::Live, None, None);
    }
    // A failure its run left (a fleet's tag), or the image rejected for it (marks.rs).
    if let Ok(marks) = crate::marks::Marks::read(&ctx.lambda, name).await {
        let hex = &digest.hex()[..12];
        if let Some(why) = marks.tags.get(FAILURE_TAG).and_then(|v| {
            let (key, why) = v.split_once(' ').unwrap_or((v.as_str(), ""));
            (key.starts_with("deploy-") && key.ends_with(hex)).then(|| why.to_owned())
        }) {
            return row(Progress::Failed, runs, Some(why));
        }
        if marks.is_rejected(digest) {
            return row(
                Progress::Failed,
                runs,
                Some("the image was rejected for this function (failed or rolled back)".into()),
            );
        }
    }
    match ctx.lambda.get_function(name, None).await {
        Ok(latest) if latest.digest().as_ref() == Some(digest) => {
            row(Progress::InProgress, runs, None)
        }
        Ok(_) => row(Progress::Behind, runs, None),
        Err(e) => row(Progress::Unreadable, runs, Some(e.to_string())),
    }
}
