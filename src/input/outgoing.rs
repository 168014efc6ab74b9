//! What the deployer sends itself — a rollout check (a schedule's input), a fan-out deploy (an
//! async invoke), a stage promotion check (a schedule's input) — built from the very types the
//! parser reads back, so the two cannot drift apart. The tests here send each one through
//! [`parse_request`](super::parse_request) and expect the request they started from.

use super::manual::DeployFields;
use super::{AdvanceRequest, DeployRequest, DeploySource, PromoteStageRequest};
use crate::types::ActionKind;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// One outgoing payload: the request's own fields plus `"action"` (the variant, in snake case,
/// which is the registry's name for it: a test checks).
#[derive(Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Payload<'a> {
    Advance(&'a AdvanceRequest),
    Deploy(DeployFields),
    PromoteStage(&'a PromoteStageRequest),
}

impl Payload<'_> {
    /// A manual deploy: the fields its parser reads, for this request.
    pub fn deploy(r: &DeployRequest) -> Payload<'static> {
        let (function, image_uri, repository, tag) = match &r.source {
            DeploySource::Image { function, image } => (
                Some(function.clone()),
                Some(image.uri()),
                None,
                image.tag.clone(),
            ),
            DeploySource::Tag { repository, tag } => {
                (None, None, Some(repository.clone()), Some(tag.clone()))
            }
        };
        Payload::Deploy(DeployFields {
            function,
            image_uri,
            repository,
            tag,
            pushed: r.pushed,
            reason: r.reason.clone(),
            dry_run: r.dry_run,
        })
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            Payload::Advance(_) => ActionKind::Advance,
            Payload::Deploy(_) => ActionKind::Deploy,
            Payload::PromoteStage(_) => ActionKind::PromoteStage,
        }
    }

    pub fn to_json(&self) -> Value {
        // Only strings, numbers and booleans under string keys: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Whole seconds, as the schedules have always carried rollout starts and bake ends.
pub(super) fn secs<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(super) fn secs_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => secs(t, s),
        None => s.serialize_none(),
    }
}

/// Full precision: a fan-out run's stale-event check must see exactly the event's push time.
pub(super) fn exact_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Request, parse_request};
    use crate::types::{FunctionRef, ImageRef};
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 15, 8, 0, 0).single().unwrap()
    }

    fn f(name: &str) -> FunctionRef {
        FunctionRef::parse(name).unwrap()
    }

    fn round_trip(p: &Payload<'_>) -> Request {
        let v = p.to_json();
        assert_eq!(
            v["action"],
            p.kind().as_str(),
            "the tag is the registry's name"
        );
        parse_request(&v, now()).unwrap_or_else(|e| panic!("{v} does not parse: {e}"))
    }

    #[test]
    fn a_rollout_check_parses_back_to_itself() {
        let a: AdvanceRequest = serde_json::from_value(json!({
            "function": "arn:aws:lambda:eu-west-1:123456789012:function:api",
            "alias": "live", "version": 7, "stable_version": 6, "step": 2,
            "started": "2027-01-15T07:58:00Z"
        }))
        .unwrap();
        let p = Payload::Advance(&a);
        assert_eq!(p.to_json()["started"], "2027-01-15T07:58:00Z");
        assert_eq!(round_trip(&p), Request::Advance(a));
    }

    #[test]
    fn a_fan_out_deploy_parses_back_to_itself() {
        let mut image: ImageRef = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
            "b".repeat(64)
        )
        .parse()
        .unwrap();
        image.tag = Some("v2".parse().unwrap());
        let pushed = now() - chrono::Duration::milliseconds(1750);
        let r = DeployRequest {
            source: DeploySource::Image {
                function: f("w-1"),
                image,
            },
            pushed: Some(pushed),
            reason: Some("release 42".parse().unwrap()),
            dry_run: false,
        };
        let p = Payload::deploy(&r);
        let v = p.to_json();
        assert_eq!(v["pushed"], "2027-01-15T07:59:58.250Z");
        assert_eq!(v.get("dry_run"), None, "the wire carries only what is set");
        assert_eq!(round_trip(&p), Request::Deploy(r));
        let by_tag = DeployRequest {
            source: DeploySource::Tag {
                repository: "api".parse().unwrap(),
                tag: "v3".parse().unwrap(),
            },
            pushed: None,
            reason: None,
            dry_run: true,
        };
        assert_eq!(
            round_trip(&Payload::deploy(&by_tag)),
            Request::Deploy(by_tag)
        );
    }

    #[test]
    fn a_stage_check_parses_back_to_itself() {
        let s = PromoteStageRequest {
            from: f("api-staging"),
            to: f("api-prod"),
            digest: Some(format!("sha256:{}", "c".repeat(64)).parse().unwrap()),
            due: Some(now()),
            now: false,
            reason: None,
        };
        let p = Payload::PromoteStage(&s);
        assert_eq!(
            p.to_json(),
            json!({"action": "promote_stage", "from": "api-staging", "to": "api-prod",
                   "digest": format!("sha256:{}", "c".repeat(64)), "due": "2027-01-15T08:00:00Z"})
        );
        assert_eq!(round_trip(&p), Request::PromoteStage(s.clone()));
        let by_hand = PromoteStageRequest {
            digest: None,
            due: None,
            now: true,
            reason: Some("ship it".parse().unwrap()),
            ..s.clone()
        };
        assert_eq!(
            round_trip(&Payload::PromoteStage(&by_hand)),
            Request::PromoteStage(by_hand)
        );
    }
}
