//! Delete old versions beyond `keep_versions`, never one that anything may still need.

use super::{Ctx, timed};
use crate::gateway::Lambda;
use crate::report::{Deployment, Step};
use crate::types::Version;
use std::collections::BTreeSet;

/// After an alias move to `new`: prune beyond `keep` (0: never), protecting `new` and `previous`.
/// The one way every action prunes; it never fails the run (problems become warnings), and it is
/// skipped when the invocation is about to be stopped.
pub async fn after_move(
    ctx: &Ctx,
    dep: &mut Deployment,
    keep: u32,
    new: Version,
    previous: Option<Version>,
) {
    if keep == 0 {
        return;
    }
    if let Some(why) = ctx.out_of_time() {
        dep.warnings.push(format!("pruning skipped: {why}"));
        return;
    }
    let protected: BTreeSet<Version> = [Some(new), previous].into_iter().flatten().collect();
    let f = dep.function.as_str().to_owned();
    if let Ok((pruned, warnings)) = timed(ctx, &mut dep.steps, Step::Prune, async {
        Ok(prune(&ctx.lambda, &f, keep, protected).await)
    })
    .await
    {
        dep.pruned_versions = pruned;
        dep.warnings.extend(warnings);
    }
}

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
    lambda: &Lambda,
    function: &str,
    keep: u32,
    mut protected: BTreeSet<Version>,
) -> (Vec<Version>, Vec<String>) {
    let versions: Vec<Version> = match lambda.list_versions(function).await {
        Ok(v) => v.into_iter().map(|(v, _)| v).collect(),
        Err(e) => return (Vec::new(), vec![format!("pruning skipped: {e}")]),
    };
    match lambda.alias_versions(function).await {
        Ok(v) => protected.extend(v),
        // Without the alias list we cannot know what is safe to delete.
        Err(e) => return (Vec::new(), vec![format!("pruning skipped: {e}")]),
    }
    let mut deleted = Vec::new();
    let mut warnings = Vec::new();
    for v in select(&versions, keep, &protected) {
        match lambda.delete_version(function, v).await {
            Ok(()) => deleted.push(v),
            Err(e) => warnings.push(format!("could not delete version {v}: {}", e.message)),
        }
    }
    (deleted, warnings)
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
