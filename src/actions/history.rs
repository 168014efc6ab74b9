//! History without a database: the versions of one function, newest first, read from what the
//! deployer wrote into their descriptions (digest, tag, push time, previous version), where each
//! alias points now and how it got there (the alias's description records its last move), and which
//! versions the alias went back past. Versions someone else published are shown as theirs.
//! Never changes anything.

use super::Deps;
use crate::input::{HISTORY_DEFAULT_LIMIT, HistoryRequest, InputError};
pub use crate::timeline::{AliasNow, BY_DEPLOYER, BY_OTHER, Move, VersionEntry, assemble};
use crate::types::{Digest, FunctionRef};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReport {
    pub action: &'static str,
    pub function: FunctionRef,
    /// Every alias of the function and how it got where it is.
    pub aliases: Vec<AliasNow>,
    /// Newest first, at most `limit`.
    pub versions: Vec<VersionEntry>,
    /// How many published versions exist (`versions` may show fewer).
    pub total_versions: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The four DORA figures, when asked for (`--dora`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dora: Option<crate::dora::Dora>,
}

impl HistoryReport {
    /// The function could not be read: the answer is incomplete.
    pub fn is_failure(&self) -> bool {
        self.error.is_some()
    }
}

pub async fn on_history(deps: &Deps<'_>, h: &HistoryRequest) -> Result<HistoryReport, InputError> {
    let (function, target) = deps.allowed(&h.function, None)?;
    let limit = h.limit.unwrap_or(HISTORY_DEFAULT_LIMIT) as usize;
    let mut report = HistoryReport {
        action: "history",
        function: function.clone(),
        aliases: Vec::new(),
        versions: Vec::new(),
        total_versions: 0,
        error: None,
        dora: None,
    };
    // A target in another account is read with its role.
    let deps = match deps.for_target(target).await {
        Ok(d) => d,
        Err(e) => {
            report.error = Some(e);
            return Ok(report);
        }
    };
    let lambda = &deps.ctx.lambda;
    let read = async {
        let versions = lambda.versions(function.as_str()).await?;
        let aliases = lambda.aliases(function.as_str()).await?;
        Ok::<_, crate::gateway::ApiError>((versions, aliases))
    };
    match read.await {
        Ok((versions, aliases)) => {
            if let Some(days) = h.dora_days {
                let now = lambda.clock().now_utc();
                report.dora = Some(crate::dora::figures(&versions, &aliases, now, days));
            }
            let (a, v, total) = assemble(versions, aliases, limit);
            report.aliases = a;
            report.versions = v;
            report.total_versions = total;
            mark_images(&deps, target, &mut report.versions).await;
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    Ok(report)
}

/// Each version's `image_exists`, from one BatchGetImage in the target's registry.
async fn mark_images(
    deps: &Deps<'_>,
    target: &crate::config::Target,
    versions: &mut [VersionEntry],
) {
    let Some(registry) = target
        .registry_account
        .clone()
        .or_else(|| deps.home.map(|h| h.account.clone()))
    else {
        return;
    };
    let digests: Vec<Digest> = versions
        .iter()
        .filter_map(|v| v.digest.as_deref().and_then(|d| Digest::parse(d).ok()))
        .collect();
    let repo = &target.repository;
    let Some(found) = super::rollback_images::existing(&deps.ctx, &registry, repo, &digests).await
    else {
        return;
    };
    for v in versions.iter_mut() {
        v.image_exists = v
            .digest
            .as_deref()
            .and_then(|d| Digest::parse(d).ok())
            .map(|d| found.contains(&d));
    }
}
