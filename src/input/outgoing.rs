//! What the deployer sends itself — a rollout check (a schedule's input), a fan-out deploy (an
//! async invoke), a stage promotion check (a schedule's input), a fleet's batches (async invokes)
//! and its summary check (a schedule's input) — built from the very types the parser reads back,
//! so the two cannot drift apart. The tests here send each one through
//! [`parse_request`](super::parse_request) and expect the request they started from.

use super::fleet::{DeployBatchFields, ReportFields, RollbackBatchFields};
use super::manual::DeployFields;
use super::{
    AdvanceRequest, BatchRequest, BatchWork, DeployRequest, DeploySource, FleetReportRequest,
    PromoteStageRequest,
};
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
    DeployBatch(DeployBatchFields),
    RollbackBatch(RollbackBatchFields),
    FleetReport(ReportFields),
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

    /// One run's batch of a fan-out: `deploy_batch` or `rollback_batch`, by its work.
    pub fn batch(b: &BatchRequest) -> Payload<'static> {
        let functions = b.functions.clone();
        let (reason, runs, summary) = (b.reason.clone(), b.runs, b.summary.clone());
        match &b.work {
            BatchWork::Deploy { image, pushed } => Payload::DeployBatch(DeployBatchFields {
                functions,
                image_uri: image.uri(),
                tag: image.tag.clone(),
                pushed: *pushed,
                reason,
                runs,
                summary,
            }),
            BatchWork::Rollback { repository, digest } => {
                Payload::RollbackBatch(RollbackBatchFields {
                    functions,
                    repository: repository.clone(),
                    digest: digest.clone(),
                    reason,
                    runs,
                    summary,
                })
            }
        }
    }

    /// A fleet's summary check.
    pub fn fleet_report(r: &FleetReportRequest) -> Payload<'static> {
        Payload::FleetReport(ReportFields {
            kind: r.kind,
            repository: r.repository.clone(),
            image_uri: r.image.as_ref().map(|i| i.uri()),
            tag: r.image.as_ref().and_then(|i| i.tag.clone()),
            digest: r.digest.clone(),
            key: r.key.clone(),
            started: r.started,
            members: r.members.clone(),
        })
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            Payload::Advance(_) => ActionKind::Advance,
            Payload::Deploy(_) => ActionKind::Deploy,
            Payload::PromoteStage(_) => ActionKind::PromoteStage,
            Payload::DeployBatch(_) => ActionKind::DeployBatch,
            Payload::RollbackBatch(_) => ActionKind::RollbackBatch,
            Payload::FleetReport(_) => ActionKind::FleetReport,
        }
    }

    pub fn to_json(&self) -> Value {
        // Only strings, numbers, booleans and lists of strings under string keys: serializing
        // cannot fail.
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
    use crate::input::{FleetKind, FleetRequest, Request, parse_request};
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

    fn image(tag: Option<&str>) -> ImageRef {
        let mut image: ImageRef = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
            "b".repeat(64)
        )
        .parse()
        .unwrap();
        image.tag = tag.map(|t| t.parse().unwrap());
        image
    }

    fn fleet(r: Request) -> FleetRequest {
        match r {
            Request::Fleet(f) => f,
            other => panic!("not a fleet request: {other:?}"),
        }
    }

    #[test]
    fn a_deploy_batch_parses_back_to_itself() {
        let b = BatchRequest {
            work: BatchWork::Deploy {
                image: image(Some("v2")),
                pushed: Some(now() - chrono::Duration::milliseconds(1750)),
            },
            functions: vec![f("w-1"), f("w-2")],
            runs: 8,
            reason: Some("release 42".parse().unwrap()),
            summary: Some("deploy-1800000000-bbbbbbbbbbbb".into()),
        };
        let p = Payload::batch(&b);
        // The wire as fanout/batch.rs has always sent it (the push time to the millisecond).
        assert_eq!(
            p.to_json(),
            json!({"action": "deploy_batch", "functions": ["w-1", "w-2"],
                   "image_uri": image(None).uri(), "tag": "v2",
                   "pushed": "2027-01-15T07:59:58.250Z", "reason": "release 42", "runs": 8,
                   "summary": "deploy-1800000000-bbbbbbbbbbbb"})
        );
        assert_eq!(fleet(round_trip(&p)), FleetRequest::Batch(b.clone()));
        let bare = BatchRequest {
            work: BatchWork::Deploy {
                image: image(None),
                pushed: None,
            },
            reason: None,
            summary: None,
            ..b
        };
        let v = Payload::batch(&bare).to_json();
        for absent in ["tag", "pushed", "reason", "summary"] {
            assert_eq!(
                v.get(absent),
                None,
                "{absent}: the wire carries only what is set"
            );
        }
        assert_eq!(
            fleet(round_trip(&Payload::batch(&bare))),
            FleetRequest::Batch(bare)
        );
    }

    #[test]
    fn a_rollback_batch_parses_back_to_itself() {
        let b = BatchRequest {
            work: BatchWork::Rollback {
                repository: "api".parse().unwrap(),
                digest: Some(format!("sha256:{}", "c".repeat(64)).parse().unwrap()),
            },
            functions: vec![f("w-3")],
            runs: 3,
            reason: Some("bad release".parse().unwrap()),
            summary: Some("rollback-1800000000".into()),
        };
        let p = Payload::batch(&b);
        assert_eq!(
            p.to_json(),
            json!({"action": "rollback_batch", "repository": "api", "functions": ["w-3"],
                   "digest": format!("sha256:{}", "c".repeat(64)), "reason": "bad release",
                   "runs": 3, "summary": "rollback-1800000000"})
        );
        assert_eq!(fleet(round_trip(&p)), FleetRequest::Batch(b.clone()));
        let every = BatchRequest {
            work: BatchWork::Rollback {
                repository: "api".parse().unwrap(),
                digest: None,
            },
            reason: None,
            summary: None,
            ..b
        };
        assert_eq!(
            fleet(round_trip(&Payload::batch(&every))),
            FleetRequest::Batch(every)
        );
    }

    #[test]
    fn a_fleet_report_parses_back_to_itself() {
        let deploy = FleetReportRequest {
            kind: FleetKind::Deploy,
            repository: "api".parse().unwrap(),
            image: Some(image(Some("v2"))),
            digest: None,
            key: "deploy-1800000000-bbbbbbbbbbbb".into(),
            started: now(),
            members: Some("912".into()),
        };
        let p = Payload::fleet_report(&deploy);
        assert_eq!(
            p.to_json(),
            json!({"action": "fleet_report", "kind": "deploy", "repository": "api",
                   "image_uri": image(None).uri(), "tag": "v2",
                   "key": "deploy-1800000000-bbbbbbbbbbbb", "started": "2027-01-15T08:00:00Z",
                   "members": "912"})
        );
        assert_eq!(fleet(round_trip(&p)), FleetRequest::Report(deploy));
        let rollback = FleetReportRequest {
            kind: FleetKind::Rollback,
            repository: "api".parse().unwrap(),
            image: None,
            digest: Some(format!("sha256:{}", "c".repeat(64)).parse().unwrap()),
            key: "rollback-1800000000".into(),
            started: now(),
            members: None,
        };
        assert_eq!(
            fleet(round_trip(&Payload::fleet_report(&rollback))),
            FleetRequest::Report(rollback)
        );
    }
}
