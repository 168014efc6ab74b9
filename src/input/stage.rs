//! `{"action": "promote_stage", "from": "api-staging", "to": "api-prod", ...}`: the digest the
//! earlier stage runs goes to the later stage. Sent by the promotion check's schedule (with the
//! digest it was scheduled for and when the bake ends) or by a person (`promote-stage`).

use super::InputError;
use crate::types::{Digest, FunctionRef, Reason};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteStageRequest {
    /// The earlier stage (a function some target's `after` names).
    pub from: FunctionRef,
    /// The later stage, by any of its functions: all of that target's functions are promoted.
    pub to: FunctionRef,
    /// The digest the check was scheduled for: if the earlier stage runs another one now, the
    /// check is superseded. `None` (by hand): whatever the earlier stage runs now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// When the bake ended: set by the scheduled check only. A scheduled check of a stage with
    /// `manual: true` notifies "ready to promote" instead of promoting.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::outgoing::secs_opt"
    )]
    pub due: Option<DateTime<Utc>>,
    /// Skip the bake (a person decided).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub now: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[cfg(test)]
mod tests {
    use crate::input::{Request, parse_request};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
    }

    fn parse(p: serde_json::Value) -> Result<Request, String> {
        parse_request(&p, now()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_scheduled_check_and_a_promotion_by_hand_parse() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let Ok(Request::PromoteStage(p)) = parse(json!({
            "action": "promote_stage", "from": "api-staging", "to": "api-prod",
            "digest": digest, "due": "2026-12-04T11:30:00Z"
        })) else {
            panic!("a promote_stage request")
        };
        assert!(p.is_scheduled());
        assert_eq!(p.digest.unwrap().as_str(), digest);
        let Ok(Request::PromoteStage(p)) = parse(json!({
            "action": "promote_stage", "from": "api-staging", "to": "api-prod", "now": true,
            "reason": "  "
        })) else {
            panic!("a promote_stage request")
        };
        assert!(!p.is_scheduled() && p.now && p.digest.is_none());
        assert_eq!(p.reason, None, "a blank reason is no reason");
    }

    #[test]
    fn bad_promotions_name_the_field() {
        let cases = [
            (
                json!({"action": "promote_stage", "from": "a", "to": "a"}),
                "payload.to: names the same function as \"from\"",
            ),
            (
                json!({"action": "promote_stage", "from": "a"}),
                "payload: missing field `to`",
            ),
            (
                json!({"action": "promote_stage", "from": "a", "to": "b", "digest": "sha256:xyz"}),
                "payload.digest:",
            ),
            (
                json!({"action": "promote_stage", "from": "a", "to": "b", "due": "2026-12-05T00:00:00Z"}),
                "payload.due: 2026-12-05T00:00:00Z is ahead of this deployer's clock",
            ),
            (
                json!({"action": "promote_stage", "from": "a", "to": "b", "now": true, "due": "2026-12-04T11:00:00Z"}),
                "payload.now: goes with a promotion by hand",
            ),
            (
                json!({"action": "promote_stage", "from": "a", "to": "b", "bake": 1}),
                "payload.bake: unknown field `bake`",
            ),
        ];
        for (payload, want) in cases {
            let got = parse(payload).unwrap_err();
            assert!(got.starts_with(want), "{got}\n  wanted {want}");
        }
    }
}
