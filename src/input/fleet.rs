//! Fleet payloads: a rollback of every function of a repository, and the batches a fan-out sends
//! to its own runs. A batch is the deployer's own payload: it names the functions of one run and
//! how many runs share the rate budget, and a run that gets one never dispatches again (Lambda's
//! recursive-loop detection stops chains of invocations, so the fan-out stays one level deep).

use super::{InputError, deserialize};
use crate::types::{ActionKind, Digest, FunctionRef, ImageRef, Reason, Repository, Tag};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most runs a fan-out may split into: far above any reserved concurrency that makes sense, low
/// enough that a payload cannot split the budget into nothing.
pub const MAX_RUNS: usize = 100;
/// Most functions one batch may name (the payload stays well under Lambda's 256 KB for events).
pub const MAX_BATCH: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
pub enum FleetRequest {
    /// `{"action":"rollback","repository":...}`: every configured function of the repository.
    Rollback(FleetRollbackRequest),
    /// One run's share of a fan-out.
    Batch(BatchRequest),
    /// A fleet's summary check, brought by a one-time schedule (see fanout/summary.rs).
    Report(FleetReportRequest),
    /// `{"action":"status","repository":...}`: how far a fleet is on one image.
    Status(FleetStatusRequest),
}

/// How many of a repository's functions run `digest` (default: the repository's newest image).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetStatusRequest {
    pub repository: Repository,
    #[serde(default)]
    pub digest: Option<Digest>,
}

/// What a fleet did: a deploy of one image, or a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetKind {
    Deploy,
    Rollback,
}

/// Is every function of a fleet done yet? Read from the functions themselves (each alias, and a
/// failure tag its run left), since the runs are asynchronous and there is no database.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetReportRequest {
    pub kind: FleetKind,
    pub repository: Repository,
    /// A deploy: the image every function should run.
    pub image: Option<ImageRef>,
    /// A rollback: only functions whose alias ran this digest were asked to roll back.
    pub digest: Option<Digest>,
    /// Names this fleet in the failure tags its runs leave.
    pub key: String,
    /// When the fleet was started: the summary's deadline counts from here.
    pub started: DateTime<Utc>,
    /// Which of the repository's configured functions the fleet is (input/members.rs); all
    /// when absent.
    pub members: Option<String>,
}

/// A `fleet_report` payload as it travels: sent by fanout/summary.rs through
/// [`Payload::fleet_report`](super::Payload::fleet_report), read back by [`parse`].
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFields {
    pub(super) kind: FleetKind,
    pub(super) repository: Repository,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tag: Option<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) digest: Option<Digest>,
    pub(super) key: String,
    #[serde(serialize_with = "super::outgoing::secs")]
    pub(super) started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) members: Option<String>,
}

/// A fleet's key: short, and only characters a Lambda tag value may hold.
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not a fleet key: 1-64 letters, digits and -"
        ))
    }
}

/// Every configured function of `repository` (with a digest: those whose alias runs it) back to
/// its previous version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetRollbackRequest {
    pub repository: Repository,
    #[serde(default)]
    pub digest: Option<Digest>,
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchWork {
    /// Deploy `image` (with the push's time, when it came from a push).
    Deploy {
        image: ImageRef,
        pushed: Option<DateTime<Utc>>,
    },
    /// Roll back (only functions whose alias runs `digest`, when given).
    Rollback {
        repository: Repository,
        digest: Option<Digest>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    pub work: BatchWork,
    pub functions: Vec<FunctionRef>,
    /// How many runs of this fan-out share the rate budget at once.
    pub runs: usize,
    pub reason: Option<Reason>,
    /// The fleet's key when its successes are told in one summary: only failures are notified,
    /// and each is left on its function for the summary to read.
    pub summary: Option<String>,
}

/// A `deploy_batch` payload as it travels: sent by fanout/batch.rs through
/// [`Payload::batch`](super::Payload::batch), read back by [`parse`].
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployBatchFields {
    pub(super) functions: Vec<FunctionRef>,
    pub(super) image_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tag: Option<Tag>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::outgoing::exact_opt"
    )]
    pub(super) pushed: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<Reason>,
    pub(super) runs: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) summary: Option<String>,
}

/// A `rollback_batch` payload as it travels: sent by actions/fleet_rollback.rs through
/// [`Payload::batch`](super::Payload::batch), read back by [`parse`].
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackBatchFields {
    pub(super) functions: Vec<FunctionRef>,
    pub(super) repository: Repository,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<Reason>,
    pub(super) runs: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) summary: Option<String>,
}

/// `fields` is the payload without its `action`.
pub(super) fn parse(action: ActionKind, fields: &Value) -> Result<FleetRequest, InputError> {
    let req = match action {
        ActionKind::Status => return deserialize(fields).map(FleetRequest::Status),
        ActionKind::Rollback => {
            let mut r: FleetRollbackRequest = deserialize(fields)?;
            r.reason = r.reason.filter(|r| !r.is_blank());
            return Ok(FleetRequest::Rollback(r));
        }
        ActionKind::DeployBatch => {
            let f: DeployBatchFields = deserialize(fields)?;
            let mut image: ImageRef = f
                .image_uri
                .parse()
                .map_err(|p| InputError::new("payload.image_uri", p))?;
            image.tag = f.tag;
            BatchRequest {
                work: BatchWork::Deploy {
                    image,
                    pushed: f.pushed,
                },
                functions: f.functions,
                runs: f.runs,
                reason: f.reason,
                summary: f.summary,
            }
        }
        ActionKind::RollbackBatch => {
            let f: RollbackBatchFields = deserialize(fields)?;
            BatchRequest {
                work: BatchWork::Rollback {
                    repository: f.repository,
                    digest: f.digest,
                },
                functions: f.functions,
                runs: f.runs,
                reason: f.reason,
                summary: f.summary,
            }
        }
        ActionKind::FleetReport => {
            let f: ReportFields = deserialize(fields)?;
            check_key(&f.key).map_err(|p| InputError::new("payload.key", p))?;
            if let Some(m) = &f.members {
                super::members::check(m).map_err(|p| InputError::new("payload.members", p))?;
            }
            let image = match f.image_uri {
                Some(uri) => {
                    let mut image = uri
                        .parse::<ImageRef>()
                        .map_err(|p| InputError::new("payload.image_uri", p))?;
                    image.tag = f.tag;
                    Some(image)
                }
                None if f.kind == FleetKind::Deploy => {
                    return Err(InputError::new(
                        "payload.image_uri",
                        "is missing: a deploy's summary names the image",
                    ));
                }
                None => None,
            };
            return Ok(FleetRequest::Report(FleetReportRequest {
                kind: f.kind,
                repository: f.repository,
                image,
                digest: f.digest,
                key: f.key,
                started: f.started,
                members: f.members,
            }));
        }
        // `is_fleet` sends nothing else here; an error rather than a panic all the same.
        other => {
            return Err(InputError::new(
                "payload.action",
                format!("{other:?} is not a fleet action"),
            ));
        }
    };
    check_batch(req).map(FleetRequest::Batch)
}

fn check_batch(mut b: BatchRequest) -> Result<BatchRequest, InputError> {
    if !(1..=MAX_RUNS).contains(&b.runs) {
        return Err(InputError::new(
            "payload.runs",
            format!(
                "{} is out of range: it must be between 1 and {MAX_RUNS}",
                b.runs
            ),
        ));
    }
    if b.functions.is_empty() || b.functions.len() > MAX_BATCH {
        return Err(InputError::new(
            "payload.functions",
            format!(
                "names {} functions: a batch names between 1 and {MAX_BATCH}",
                b.functions.len()
            ),
        ));
    }
    if let Some(key) = &b.summary {
        check_key(key).map_err(|p| InputError::new("payload.summary", p))?;
    }
    b.reason = b.reason.filter(|r| !r.is_blank());
    Ok(b)
}

/// The actions this module parses, and whether a `rollback` payload is a fleet rollback.
pub(super) fn is_fleet(action: ActionKind, fields: &Value) -> bool {
    match action {
        ActionKind::DeployBatch | ActionKind::RollbackBatch | ActionKind::FleetReport => true,
        ActionKind::Rollback | ActionKind::Status => fields.get("repository").is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Request, parse_request};
    use serde_json::json;

    fn parse_err(p: Value) -> String {
        parse_request(&p, Utc::now()).unwrap_err().to_string()
    }

    fn digest() -> String {
        format!("sha256:{}", "b".repeat(64))
    }

    #[test]
    fn a_rollback_naming_a_repository_is_a_fleet_rollback() {
        let p =
            json!({"action": "rollback", "repository": "api", "digest": digest(), "dry_run": true});
        let Request::Fleet(FleetRequest::Rollback(r)) = parse_request(&p, Utc::now()).unwrap()
        else {
            panic!("not a fleet rollback");
        };
        assert_eq!(r.repository.as_str(), "api");
        assert_eq!(r.digest.unwrap().as_str(), digest());
        assert!(r.dry_run);
        // A single rollback is still what it was.
        let p = json!({"action": "rollback", "function": "f"});
        assert!(matches!(
            parse_request(&p, Utc::now()).unwrap(),
            Request::Rollback(_)
        ));
    }

    #[test]
    fn bad_fleet_payloads_name_their_field() {
        assert_eq!(
            parse_err(json!({"action": "rollback", "repository": "api", "digest": "sha256:zz"})),
            "payload.digest: \"sha256:zz\" is not a digest: \"sha256:\" must be followed by 64 lowercase hex digits"
        );
        let both = parse_err(json!({"action": "rollback", "repository": "api", "function": "f"}));
        assert!(both.contains("unknown field `function`"), "{both}");
        let batch = |runs: Value, functions: Value| json!({"action": "rollback_batch", "repository": "api", "functions": functions, "runs": runs});
        assert_eq!(
            parse_err(batch(json!(0), json!(["f"]))),
            "payload.runs: 0 is out of range: it must be between 1 and 100"
        );
        assert_eq!(
            parse_err(
                json!({"action": "rollback_batch", "repository": "api", "functions": ["f"], "runs": 1, "summary": "a b"})
            ),
            "payload.summary: \"a b\" is not a fleet key: 1-64 letters, digits and -"
        );
        assert_eq!(
            parse_err(
                json!({"action": "fleet_report", "kind": "deploy", "repository": "api", "key": "k", "started": "2026-01-01T00:00:00Z"})
            ),
            "payload.image_uri: is missing: a deploy's summary names the image"
        );
        assert_eq!(
            parse_err(batch(json!(2), json!([]))),
            "payload.functions: names 0 functions: a batch names between 1 and 2000"
        );
        assert_eq!(
            parse_err(
                json!({"action": "deploy_batch", "functions": ["f"], "runs": 1, "image_uri": "api:latest"})
            ),
            "payload.image_uri: \"api:latest\" is not pinned by digest: use REPOSITORY_URI@sha256:..."
        );
    }
}
