//! `{"action": "promote_stage", "from": "api-staging", "to": "api-prod", ...}`: the digest the
//! earlier stage runs goes to the later stage. Sent by the promotion check's schedule (with the
//! digest it was scheduled for and when the bake ends) or by a person (`promote-stage`).

use super::InputError;
use crate::types::{Digest, FunctionRef, Reason};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteStageRequest {
    /// The earlier stage (a function some target's `after` names).
    pub from: FunctionRef,
    /// The later stage, by any of its functions: all of that target's functions are promoted.
    pub to: FunctionRef,
    /// The digest the check was scheduled for: if the earlier stage runs another one now, the
    /// check is superseded. `None` (by hand): whatever the earlier stage runs now.
    #[serde(default)]
    pub digest: Option<Digest>,
    /// When the bake ended: set by the scheduled check only. A scheduled check of a stage with
    /// `manual: true` notifies "ready to promote" instead of promoting.
    #[serde(default)]
    pub due: Option<DateTime<Utc>>,
    /// Skip the bake (a person decided).
    #[serde(default)]
    pub now: bool,
    #[serde(default)]
    pub reason: Option<Reason>,
}

impl PromoteStageRequest {
    /// A check sent by its schedule, rather than a person's request.
    pub fn is_scheduled(&self) -> bool {
        self.due.is_some()
    }

    pub(super) fn check(self) -> Result<Self, InputError> {
        if self.from.name() == self.to.name() {
            return Err(InputError::new(
                "payload.to",
                "names the same function as \"from\": a stage is promoted to a later one",
            ));
        }
        if self.now && self.due.is_some() {
            return Err(InputError::new(
                "payload.now",
                "goes with a promotion by hand: a scheduled check (\"due\") always waits out the bake",
            ));
        }
        Ok(Self {
            reason: self.reason.filter(|r| !r.is_blank()),
            ..self
        })
    }
}
