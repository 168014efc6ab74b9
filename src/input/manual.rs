//! Manual payloads: `{"action": "rollback" | "deploy" | "status" | "history", ...}`. Unknown fields are errors,
//! as in the configuration: a typo must not silently change what a request does.

use super::{InputError, Request, deserialize};
use crate::types::{
    ActionKind, AliasName, FunctionRef, ImageRef, Reason, Repository, Tag, Version,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub function: FunctionRef,
    /// `None`: the version the alias pointed to before the current one.
    #[serde(default)]
    pub version: Option<Version>,
    #[serde(default)]
    pub alias: Option<AliasName>,
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub dry_run: bool,
    /// Roll back even if the version's image is gone from ECR.
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeploySource {
    /// One function, one image pinned by digest.
    Image {
        function: FunctionRef,
        image: ImageRef,
    },
    /// The tag's current digest, to the repository's target functions.
    Tag { repository: Repository, tag: Tag },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    pub source: DeploySource,
    /// When the image was pushed, if the caller knows (it is recorded on the version and makes
    /// stale-event protection exact); `None` for a deploy by hand.
    pub pushed: Option<DateTime<Utc>>,
    pub reason: Option<Reason>,
    pub dry_run: bool,
}

/// A rollout check, as the schedule that brings it carries it: `step` is the step whose weight is
/// set now (1-based) and `started` when it was set.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    pub function: FunctionRef,
    pub alias: AliasName,
    pub version: Version,
    pub stable_version: Version,
    pub step: usize,
    #[serde(serialize_with = "super::outgoing::secs")]
    pub started: DateTime<Utc>,
    /// What earlier checks of this step left for the next (issue 26); absent when nothing.
    #[serde(default, skip_serializing_if = "StepTally::is_empty")]
    pub tally: StepTally,
}

/// Carried from check to check within one step, in the schedule's payload (there is no database):
/// the synthetic invocations made so far (Lambda's alias metrics never see them: they name the
/// version, not the alias) and what was already told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepTally {
    #[serde(default)]
    pub synthetic: u64,
    #[serde(default)]
    pub synthetic_failed: u64,
    /// The step's hold for want of evidence was notified.
    #[serde(default)]
    pub told_inconclusive: bool,
    /// `report_only`: a would-be rollback was notified.
    #[serde(default)]
    pub told_would_roll_back: bool,
}

impl StepTally {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// During a rollout: the new version takes all traffic now.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub function: FunctionRef,
    #[serde(default)]
    pub alias: Option<AliasName>,
    #[serde(default)]
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    #[serde(default)]
    pub function: Option<FunctionRef>,
}

/// A reconcile sweep: every configured function against its repository's newest image.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {
    /// Report mode for this run: nothing is deployed and nothing is written.
    #[serde(default)]
    pub dry_run: bool,
    /// `status --check`: only classify (no deployment, no tag written, no notification). The CLI
    /// sets it; a payload cannot.
    #[serde(skip)]
    pub check: bool,
}

/// How many versions `history` shows unless asked for another number, and the most it shows.
pub const HISTORY_DEFAULT_LIMIT: u32 = 20;
pub const HISTORY_MAX_LIMIT: u32 = 1000;

/// The versions of one function, newest first, read from their descriptions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    pub function: FunctionRef,
    /// `None`: [`HISTORY_DEFAULT_LIMIT`].
    #[serde(default)]
    pub limit: Option<u32>,
    /// The four DORA figures over this many days (1-365) as well.
    #[serde(default)]
    pub dora_days: Option<u32>,
}

/// A history limit, checked the same way for a payload and for `--limit`.
pub fn check_history_limit(n: u32) -> Result<u32, String> {
    if (1..=HISTORY_MAX_LIMIT).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is out of range: it must be between 1 and {HISTORY_MAX_LIMIT}"
        ))
    }
}

/// A DORA window, checked the same way for a payload and for `--days`.
pub fn check_dora_days(n: u32) -> Result<u32, String> {
    if (1..=365).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is out of range: it must be between 1 and 365"))
    }
}

/// The deploy payload's fields; which combination was given decides the [`DeploySource`]. Also
/// what a fan-out sends (super::outgoing), so only what is set goes on the wire.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) function: Option<FunctionRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) repository: Option<Repository>,
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) dry_run: bool,
}

pub(super) fn parse(payload: &Value, now: DateTime<Utc>) -> Result<Request, InputError> {
    let action = match payload.get("action") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(InputError::new(
                "payload.action",
                format!("must be a string, got {other}"),
            ));
        }
        None => return Err(InputError::new("payload.action", "is missing")),
    };
    // The rest of the object is the action's own fields.
    let mut fields = payload.clone();
    if let Some(obj) = fields.as_object_mut() {
        obj.remove("action");
    }
    let action: ActionKind = action
        .parse()
        .map_err(|p| InputError::new("payload.action", p))?;
    if super::fleet::is_fleet(action, &fields) {
        return super::fleet::parse(action, &fields).map(Request::Fleet);
    }
    match action {
        // is_fleet said so above: these are only ever a fleet's.
        ActionKind::DeployBatch | ActionKind::RollbackBatch | ActionKind::FleetReport => {
            super::fleet::parse(action, &fields).map(Request::Fleet)
        }
        ActionKind::Rollback => {
            let mut r: RollbackRequest = deserialize(&fields)?;
            r.reason = r.reason.filter(|r| !r.is_blank());
            Ok(Request::Rollback(r))
        }
        ActionKind::Deploy => {
            let d = parse_deploy(deserialize(&fields)?)?;
            if let Some(p) = d.pushed {
                not_ahead("payload.pushed", p, now)?;
            }
            Ok(Request::Deploy(d))
        }
        ActionKind::Advance => {
            let a: AdvanceRequest = deserialize(&fields)?;
            not_ahead("payload.started", a.started, now)?;
            if a.step == 0 {
                return Err(InputError::new("payload.step", "must be at least 1"));
            }
            if a.version == a.stable_version {
                return Err(InputError::new(
                    "payload.version",
                    "is the stable version: a rollout moves traffic between two versions",
                ));
            }
            Ok(Request::Advance(a))
        }
        ActionKind::Promote => {
            let mut p: PromoteRequest = deserialize(&fields)?;
            p.reason = p.reason.filter(|r| !r.is_blank());
            Ok(Request::Promote(p))
        }
        ActionKind::Status => {
            if fields.get("dry_run").is_some() {
                return Err(InputError::new(
                    "payload.dry_run",
                    "status never changes anything, so it takes no dry_run",
                ));
            }
            deserialize(&fields).map(Request::Status)
        }
        ActionKind::History => {
            if fields.get("dry_run").is_some() {
                return Err(InputError::new(
                    "payload.dry_run",
                    "history never changes anything, so it takes no dry_run",
                ));
            }
            let h: HistoryRequest = deserialize(&fields)?;
            if let Some(n) = h.limit {
                check_history_limit(n).map_err(|p| InputError::new("payload.limit", p))?;
            }
            if let Some(n) = h.dora_days {
                check_dora_days(n).map_err(|p| InputError::new("payload.dora_days", p))?;
            }
            Ok(Request::History(h))
        }
        ActionKind::Reconcile => deserialize(&fields).map(Request::Reconcile),
        ActionKind::PromoteStage => {
            let p: super::PromoteStageRequest = deserialize(&fields)?;
            if let Some(due) = p.due {
                not_ahead("payload.due", due, now)?;
            }
            Ok(Request::PromoteStage(p.check()?))
        }
    }
}

fn parse_deploy(f: DeployFields) -> Result<DeployRequest, InputError> {
    let source = match (f.function, f.image_uri, f.repository) {
        (Some(function), Some(uri), None) => {
            let mut image: ImageRef = uri
                .parse()
                .map_err(|p| InputError::new("payload.image_uri", p))?;
            image.tag = f.tag;
            DeploySource::Image { function, image }
        }
        (None, None, Some(repository)) => {
            let tag = f.tag.ok_or_else(|| {
                InputError::new(
                    "payload.tag",
                    "is missing: a deploy by repository names the tag to deploy",
                )
            })?;
            if f.pushed.is_some() {
                return Err(InputError::new(
                    "payload.pushed",
                    "goes with \"function\" and \"image_uri\": a deploy by tag deploys what the tag points to now",
                ));
            }
            DeploySource::Tag { repository, tag }
        }
        _ => {
            return Err(InputError::new(
                "payload",
                "a deploy names either \"function\" and \"image_uri\", or \"repository\" and \"tag\"",
            ));
        }
    };
    Ok(DeployRequest {
        source,
        pushed: f.pushed,
        reason: f.reason.filter(|r| !r.is_blank()),
        dry_run: f.dry_run,
    })
}

/// A time a caller may give must not be ahead of our clock: a push time from the future would make
/// every real push after it look stale, a rollout start from the future would put its check away.
fn not_ahead(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), InputError> {
    if t > now + super::MAX_CLOCK_SKEW {
        return Err(InputError::new(
            field,
            format!(
                "{} is ahead of this deployer's clock ({})",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ));
    }
    Ok(())
}
