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

    /// World time from the run's last alias move to its last call: how long it waited after the
    /// move (for Lambda's transition, for provisioned concurrency).
    pub fn since_last_move(&self) -> std::time::Duration {
        let calls = self.calls();
        let moved = calls
            .iter()
            .rfind(|c| c.op == "UpdateAlias")
            .expect("an alias move")
            .at
            .unwrap();
        let last = calls.last().unwrap().at.unwrap();
        last.duration_since(moved).unwrap()
    }

    /// Every call throttled was tried again (the same operation on the same function), `at_least`
    /// after it, never sooner.
    pub fn assert_throttles_retried_after(&self, at_least: std::time::Duration) {
        let calls = self.calls();
        for (i, c) in calls.iter().enumerate().filter(|(_, c)| c.throttled) {
            let again = calls[i + 1..]
                .iter()
                .find(|n| n.op == c.op && n.function == c.function)
                .expect("tried again");
            let gap = again.at.unwrap().duration_since(c.at.unwrap()).unwrap();
            assert!(gap >= at_least, "{} again after {gap:?}", c.op);
        }
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
