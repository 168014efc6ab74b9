//! Where everything points: per configured function, the alias, its version and image, the
//! version before it, whether `$LATEST` differs from what is live, how many versions exist.

use crate::aws::describe;
use crate::deploy::Ctx;
use crate::deploy::publish::VersionRecord;
use crate::deploy::state::FunctionState;
use crate::rollback::highest_below;
use crate::types::{AliasName, AliasTarget, FunctionRef, Version};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionStatus {
    pub function: FunctionRef,
    pub alias: AliasName,
    /// What the alias points to: a version number, `$LATEST`, or nothing (no alias yet).
    pub alias_target: Option<String>,
    pub version: Option<Version>,
    pub image_uri: Option<String>,
    pub image_digest: Option<String>,
    pub image_tag: Option<String>,
    /// The version a rollback without `version` would go to.
    pub previous_version: Option<Version>,
    /// `$LATEST` runs other code than the alias (a deployment in progress, failed, or by hand).
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

pub async fn status(ctx: &Ctx, function: &FunctionRef, alias: &AliasName) -> FunctionStatus {
    let mut s = FunctionStatus {
        function: function.clone(),
        alias: alias.clone(),
        alias_target: None,
        version: None,
        image_uri: None,
        image_digest: None,
        image_tag: None,
        previous_version: None,
        latest_differs: None,
        versions: None,
        error: None,
    };
    if let Err(e) = fill(ctx, &mut s).await {
        s.error = Some(e);
    }
    s
}

async fn fill(ctx: &Ctx, s: &mut FunctionStatus) -> Result<(), String> {
    let f = s.function.as_str().to_owned();
    let lambda = &ctx.lambda;
    let latest = lambda
        .get_function()
        .function_name(&f)
        .send()
        .await
        .map_err(|e| format!("GetFunction failed: {}", describe(&e)))?;
    let latest = FunctionState::from_output(&latest)?;
    let mut versions = Vec::new();
    let mut pages = lambda
        .list_versions_by_function()
        .function_name(&f)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListVersionsByFunction failed: {}", describe(&e)))?;
        versions.extend(
            page.versions()
                .iter()
                .filter_map(|c| c.version().and_then(Version::parse)),
        );
    }
    s.versions = Some(versions.len());
    let alias = match lambda
        .get_alias()
        .function_name(&f)
        .name(s.alias.as_str())
        .send()
        .await
    {
        Ok(a) => a,
        Err(e) if crate::aws::is_not_found(&e) => {
            s.latest_differs = Some(true);
            return Ok(());
        }
        Err(e) => return Err(format!("GetAlias failed: {}", describe(&e))),
    };
    let raw = alias.function_version().unwrap_or_default().to_owned();
    s.alias_target = Some(raw.clone());
    let live = match AliasTarget::parse(&raw) {
        Some(AliasTarget::Version(v)) => {
            s.version = Some(v);
            let out = lambda
                .get_function()
                .function_name(&f)
                .qualifier(v.to_string())
                .send()
                .await
                .map_err(|e| format!("GetFunction {v} failed: {}", describe(&e)))?;
            FunctionState::from_output(&out)?
        }
        _ => latest.clone(),
    };
    s.image_uri = live.image_uri.clone();
    s.image_digest = live.digest().map(|d| d.to_string());
    let record = VersionRecord::parse(&live.description);
    s.image_tag = record.as_ref().and_then(|r| r.tag.clone());
    s.previous_version = match (record.and_then(|r| r.previous), s.version) {
        (Some(p), _) => Some(p),
        (None, Some(v)) => highest_below(&versions, v),
        _ => None,
    };
    s.latest_differs = Some(live.code_sha256 != latest.code_sha256);
    Ok(())
}

/// A table for people: one line per function.
pub fn render_table(r: &StatusReport) -> String {
    let header = [
        "FUNCTION", "ALIAS", "VERSION", "IMAGE", "PREVIOUS", "$LATEST", "VERSIONS",
    ];
    let mut rows: Vec<[String; 7]> = vec![header.map(str::to_owned)];
    for s in &r.functions {
        let image = match (&s.image_tag, &s.image_digest) {
            (Some(t), Some(d)) => format!("{t} ({})", short(d)),
            (None, Some(d)) => short(d),
            _ => "-".into(),
        };
        let latest = match (&s.error, s.latest_differs) {
            (Some(_), _) => "error".into(),
            (None, Some(true)) => "differs".into(),
            (None, Some(false)) => "same".into(),
            (None, None) => "-".into(),
        };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        rows.push([
            s.function.name().to_owned(),
            s.alias.to_string(),
            opt(s.alias_target.clone()),
            image,
            opt(s.previous_version.map(|v| v.to_string())),
            latest,
            opt(s.versions.map(|n| n.to_string())),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    for s in &r.functions {
        if let Some(e) = &s.error {
            out.push_str(&format!("{}: {e}\n", s.function.name()));
        }
    }
    out
}

fn short(digest: &str) -> String {
    digest.chars().take("sha256:".len() + 12).collect()
}
