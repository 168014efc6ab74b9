//! Reading a function's versions and aliases (all pages), for history, status, pruning and
//! rollback targets; and deleting old versions.

use super::Lambda;
use crate::gateway::ApiError;
use crate::gateway::budget::Quota;
use crate::types::{AliasTarget, Version};
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use std::collections::BTreeSet;

/// A published version as ListVersionsByFunction reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    pub version: Version,
    pub description: String,
    /// For an image function, the image manifest's digest (hex).
    pub code_sha256: Option<String>,
    /// When it was published (LastModified): when a deployment's version could first go live.
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// An alias as ListAliases reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasInfo {
    pub name: String,
    pub target: Option<AliasTarget>,
    /// A canary split: other versions and their share of traffic.
    pub routing: Vec<(Version, f64)>,
    pub description: String,
}

/// Lambda's `2026-11-26T07:00:00.000+0000` (or RFC 3339).
fn last_modified(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl Lambda {
    /// Every published version with its description, all pages.
    pub async fn list_versions(&self, function: &str) -> Result<Vec<(Version, String)>, ApiError> {
        Ok(self
            .versions(function)
            .await?
            .into_iter()
            .map(|v| (v.version, v.description))
            .collect())
    }

    /// Every published version with its description and code, all pages (not `$LATEST`).
    pub async fn versions(&self, function: &str) -> Result<Vec<VersionInfo>, ApiError> {
        let mut out = Vec::new();
        self.each_page(
            "ListVersionsByFunction",
            |marker| {
                self.client
                    .list_versions_by_function()
                    .function_name(function)
                    .set_marker(marker)
                    .send()
            },
            |page| {
                out.extend(page.versions().iter().filter_map(|c| {
                    let version = c.version().and_then(Version::parse)?;
                    Some(VersionInfo {
                        version,
                        description: c.description().unwrap_or_default().to_owned(),
                        code_sha256: c.code_sha256().map(str::to_owned),
                        published: c.last_modified().and_then(last_modified),
                    })
                }));
                page.next_marker().map(str::to_owned)
            },
        )
        .await?;
        Ok(out)
    }

    /// Every alias of the function: where it points, its split, its description. An alias whose
    /// target is neither a version nor `$LATEST` is reported with `target: None`.
    pub async fn aliases(&self, function: &str) -> Result<Vec<AliasInfo>, ApiError> {
        let mut out = Vec::new();
        self.each_page(
            "ListAliases",
            |marker| {
                self.client
                    .list_aliases()
                    .function_name(function)
                    .set_marker(marker)
                    .send()
            },
            |page| {
                out.extend(page.aliases().iter().map(|a| AliasInfo {
                    name: a.name().unwrap_or_default().to_owned(),
                    target: a.function_version().and_then(AliasTarget::parse),
                    routing: crate::gateway::state::weights(a.routing_config()),
                    description: a.description().unwrap_or_default().to_owned(),
                }));
                page.next_marker().map(str::to_owned)
            },
        )
        .await?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every version any alias of the function references, including canary weights.
    pub async fn alias_versions(&self, function: &str) -> Result<BTreeSet<Version>, ApiError> {
        Ok(self
            .aliases(function)
            .await?
            .into_iter()
            .flat_map(|a| {
                let own = a.target.and_then(|t| t.version());
                own.into_iter().chain(a.routing.into_iter().map(|(v, _)| v))
            })
            .collect())
    }

    /// Deletes one version. The qualifier is always a version number: DeleteFunction without one
    /// would delete the whole function, so this method cannot be asked to.
    pub async fn delete_version(&self, function: &str, version: Version) -> Result<(), ApiError> {
        self.budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .delete_function()
                    .function_name(function)
                    .qualifier(version.to_string())
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("DeleteFunction", &e))
    }

    /// Every page of one listing: one paced call per page (the SDK's paginator would send the
    /// pages unpaced). `call` sends the request for a marker; `take` keeps what a page holds and
    /// returns the next page's marker, `None` after the last.
    async fn each_page<P, E, Fut>(
        &self,
        op: &'static str,
        mut call: impl FnMut(Option<String>) -> Fut,
        mut take: impl FnMut(P) -> Option<String>,
    ) -> Result<(), ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        Fut: std::future::Future<Output = Result<P, SdkError<E, HttpResponse>>>,
    {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .budget
                .paced(Quota::ControlPlane, &self.clock, || call(marker.clone()))
                .await
                .map_err(|e| ApiError::from_sdk(op, &e))?;
            marker = take(page);
            if marker.is_none() {
                return Ok(());
            }
        }
    }
}
