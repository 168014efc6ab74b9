//! Functions that went idle: a function unused for weeks becomes `Inactive`; UpdateFunctionCode
//! reactivates it, and its State goes `Inactive` → `Pending` → `Active` on its own schedule, which
//! need not end with the update: LastUpdateStatus can be `Successful` while State is not yet
//! `Active`. Invoking `$LATEST` before it is `Active` fails, as in Lambda.

use super::{World, WorldState};
use aws_sdk_lambda::types::State as LambdaState;
use std::time::{Duration, SystemTime};

/// After UpdateFunctionCode on an inactive function: still `Inactive` this long, then `Pending`
/// until [`ACTIVE_AFTER`].
pub const INACTIVE_FOR: Duration = Duration::from_secs(5);
pub const ACTIVE_AFTER: Duration = Duration::from_secs(15);

impl WorldState {
    /// `$LATEST`'s State now.
    pub fn latest_state(&self, function: &str) -> LambdaState {
        let now = self.t();
        let name = function.rsplit(':').next().unwrap_or(function);
        let Some(f) = self.functions.get(name) else {
            return LambdaState::Active;
        };
        if f.idle {
            return LambdaState::Inactive;
        }
        match f.reactivating {
            Some(since) if now < since + INACTIVE_FOR => LambdaState::Inactive,
            Some(since) if now < since + ACTIVE_AFTER => LambdaState::Pending,
            _ => LambdaState::Active,
        }
    }

    /// UpdateFunctionCode reactivates an idle function.
    pub(super) fn reactivate(&mut self, function: &str, now: SystemTime) {
        if let Some(f) = self.func(function).filter(|f| f.idle) {
            f.idle = false;
            f.reactivating = Some(now);
        }
    }
}

impl World {
    /// `function` has gone unused for weeks: Lambda made it `Inactive`.
    pub fn idle(&self, function: &str) {
        self.with_func(function, |f| f.idle = true);
    }
}
