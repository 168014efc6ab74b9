//! Step 7: delete old versions beyond `keep_versions`, never one that anything may still need.

use crate::aws::describe;
use crate::types::Version;
use aws_sdk_lambda::Client;
use std::collections::BTreeSet;

/// The versions to delete: all but the newest `keep`, minus the protected ones (those an alias
/// references, the previous version that rollback needs, the one just deployed). Ascending.
pub fn select(versions: &[Version], keep: u32, protected: &BTreeSet<Version>) -> Vec<Version> {
    if keep == 0 {
        return Vec::new();
    }
    let all: BTreeSet<Version> = versions.iter().copied().collect();
    all.iter()
        .rev()
        .skip(keep as usize)
        .filter(|v| !protected.contains(v))
        .rev()
        .copied()
        .collect()
}

/// Lists versions and aliases, then deletes what [`select`] picks. Failing to prune never fails a
/// deployment: the new version is already live, so problems come back as warnings.
pub async fn prune(
    lambda: &Client,
    function: &str,
    keep: u32,
    mut protected: BTreeSet<Version>,
) -> (Vec<Version>, Vec<String>) {
    let mut warnings = Vec::new();
    let versions = match list_versions(lambda, function).await {
        Ok(v) => v,
        Err(e) => return (Vec::new(), vec![format!("pruning skipped: {e}")]),
    };
    match alias_versions(lambda, function).await {
        Ok(v) => protected.extend(v),
        // Without the alias list we cannot know what is safe to delete.
        Err(e) => return (Vec::new(), vec![format!("pruning skipped: {e}")]),
    }
    let mut deleted = Vec::new();
    for v in select(&versions, keep, &protected) {
        // The qualifier is always a version number here: DeleteFunction without one would delete
        // the whole function.
        let res = lambda
            .delete_function()
            .function_name(function)
            .qualifier(v.to_string())
            .send()
            .await;
        match res {
            Ok(_) => deleted.push(v),
            Err(e) => warnings.push(format!("could not delete version {v}: {}", describe(&e))),
        }
    }
    (deleted, warnings)
}

async fn list_versions(lambda: &Client, function: &str) -> Result<Vec<Version>, String> {
    let mut out = Vec::new();
    let mut pages = lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListVersionsByFunction failed: {}", describe(&e)))?;
        out.extend(
            page.versions()
                .iter()
                .filter_map(|c| c.version().and_then(Version::parse)),
        );
    }
    Ok(out)
}

/// Every version any alias of the function references, including canary weights.
async fn alias_versions(lambda: &Client, function: &str) -> Result<BTreeSet<Version>, String> {
    let mut out = BTreeSet::new();
    let mut pages = lambda
        .list_aliases()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListAliases failed: {}", describe(&e)))?;
        for a in page.aliases() {
            out.extend(a.function_version().and_then(Version::parse));
            if let Some(w) = a
                .routing_config()
                .and_then(|r| r.additional_version_weights())
            {
                out.extend(w.keys().filter_map(|k| Version::parse(k)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(ns: &[u64]) -> Vec<Version> {
        ns.iter().map(|n| Version::new(*n).unwrap()).collect()
    }

    #[test]
    fn keeps_the_newest_and_every_protected_version() {
        let all = vs(&[1, 2, 3, 4, 5, 6, 7]);
        let none = BTreeSet::new();
        assert_eq!(select(&all, 3, &none), vs(&[1, 2, 3, 4]));
        let protected: BTreeSet<Version> = vs(&[2, 4]).into_iter().collect();
        assert_eq!(select(&all, 3, &protected), vs(&[1, 3]));
        assert_eq!(select(&all, 0, &none), vs(&[]), "0 means never prune");
        assert_eq!(select(&all, 7, &none), vs(&[]));
        assert_eq!(
            select(&vs(&[5, 1, 5, 3]), 2, &none),
            vs(&[1]),
            "order and duplicates do not matter"
        );
    }
}
