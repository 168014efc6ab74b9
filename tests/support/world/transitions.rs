//! Lambda's own transition after an alias move: for a while the alias shows the new version with
//! the old one at weight 1 (hashicorp/terraform-provider-aws#48116). Opt in per function with
//! [`World::lambda_transitions`]; reads after the time has passed see it cleared.

use super::{World, WorldState};
use std::time::Duration;

impl WorldState {
    /// Clears the transitions of `function`'s aliases whose time is over.
    pub(super) fn settle_transitions(&mut self, function: &str) {
        let now = self.t();
        if let Some(f) = self.func(function) {
            for a in f.aliases.values_mut() {
                if a.transition_until.is_some_and(|until| now >= until) {
                    a.transition_until = None;
                    a.routing.clear();
                }
            }
        }
    }
}

impl World {
    /// Every alias move of `function` is followed by Lambda's transition lasting `d`.
    pub fn lambda_transitions(&self, function: &str, d: Duration) {
        self.with_func(function, |f| f.transition_for = Some(d));
    }

    /// Alias `live` of `function` shows somebody's split: `version` at `weight` (as a person's
    /// `update-alias --routing-config` leaves it, keeping the description).
    pub fn hand_split(&self, function: &str, version: u64, weight: f64) {
        self.with_func(function, |f| {
            if let Some(a) = f.aliases.get_mut("live") {
                a.routing.insert(version.to_string(), weight);
            }
        });
    }
}
