//! Which of a repository's configured functions a fleet is (a push's tag patterns, or a sweep, may
//! choose only some): the list a fleet's mask is taken over (the mask itself, a field of the
//! summary check's payload, is in input/members.rs, which its parser checks).

use crate::config::Config;
use crate::types::{AliasName, FunctionRef, Repository};

/// Every function configured for `repository`, each once, in configuration order, with its alias.
pub fn configured(config: &Config, repository: &Repository) -> Vec<(FunctionRef, AliasName)> {
    let mut out: Vec<(FunctionRef, AliasName)> = Vec::new();
    for t in config.targets_for(repository) {
        for f in &t.functions {
            if !out.iter().any(|(g, _)| g == f) {
                out.push((f.clone(), t.alias.clone()));
            }
        }
    }
    out
}
