//! What tests ask the world afterwards: the calls it got, and where functions and aliases stand.

use super::model::MUTATING;
use super::{Call, World};

impl World {
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.op == op).count()
    }

    pub fn ops(&self) -> Vec<&'static str> {
        self.lock().calls.iter().map(|c| c.op).collect()
    }

    /// Operations in order, with consecutive GetFunction polls collapsed to one entry.
    pub fn ops_collapsed(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for op in self.ops() {
            if op == "GetFunction" && out.last() == Some(&"GetFunction") {
                continue;
            }
            out.push(op);
        }
        out
    }

    pub fn mutating_calls(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| MUTATING.contains(&c.op))
            .collect()
    }

    pub fn alias_version(&self, name: &str, alias: &str) -> Option<String> {
        self.with_func(name, |f| f.aliases.get(alias).map(|a| a.version.clone()))
    }

    /// Alias `live` of `name`: its version and its split, as numbers.
    pub fn alias_state(&self, name: &str) -> (u64, Vec<(u64, f64)>) {
        self.with_func(name, |f| {
            let a = &f.aliases["live"];
            let mut split: Vec<(u64, f64)> = a
                .routing
                .iter()
                .map(|(v, w)| (v.parse().expect("a version"), *w))
                .collect();
            split.sort_by_key(|(v, _)| *v);
            (a.version.parse().expect("a version"), split)
        })
    }

    pub fn latest_image(&self, name: &str) -> String {
        self.with_func(name, |f| f.latest.image_uri.clone())
    }

    pub fn versions(&self, name: &str) -> Vec<u64> {
        self.with_func(name, |f| f.versions.keys().copied().collect())
    }

    pub fn version_description(&self, name: &str, v: u64) -> String {
        self.with_func(name, |f| f.versions[&v].description.clone())
    }
}
