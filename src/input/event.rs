//! The "ECR Image Action" event, as EventBridge delivers it, and the "ECR Image Scan" event, which
//! is accepted and skipped (the push's own event deploys, and its image checks wait for the scan).

use super::{InputError, deserialize};
use crate::types::{Account, Digest, ManifestKind, Region, Repository, Tag};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ECR_SOURCE: &str = "aws.ecr";
pub const ECR_DETAIL_TYPE: &str = "ECR Image Action";
pub const ECR_SCAN_DETAIL_TYPE: &str = "ECR Image Scan";

/// How far ahead of our clock an event's `time` may be. EventBridge stamps events when they
/// happen, so anything later is forged or broken: deploying it would record a push time that makes
/// every real push after it look stale.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// `detail.action-type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ImageAction {
    Push,
    Delete,
    Other(String),
}

impl From<String> for ImageAction {
    fn from(s: String) -> Self {
        match s.as_str() {
            "PUSH" => Self::Push,
            "DELETE" => Self::Delete,
            _ => Self::Other(s),
        }
    }
}

impl From<ImageAction> for String {
    fn from(a: ImageAction) -> String {
        match a {
            ImageAction::Push => "PUSH".into(),
            ImageAction::Delete => "DELETE".into(),
            ImageAction::Other(s) => s,
        }
    }
}

/// `detail.result`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ImageResult {
    Success,
    Other(String),
}

impl From<String> for ImageResult {
    fn from(s: String) -> Self {
        if s == "SUCCESS" {
            Self::Success
        } else {
            Self::Other(s)
        }
    }
}

impl From<ImageResult> for String {
    fn from(r: ImageResult) -> String {
        match r {
            ImageResult::Success => "SUCCESS".into(),
            ImageResult::Other(s) => s,
        }
    }
}

/// The fields of an "ECR Image Action" event that matter, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EcrImageAction {
    pub action: ImageAction,
    pub result: ImageResult,
    pub repository: Repository,
    /// Required for a successful push; DELETE and FAILURE events may lack it.
    pub digest: Option<Digest>,
    pub tag: Option<Tag>,
    /// `detail.manifest-media-type`: an image or an image index; `None` when the event does not
    /// say (such an event is deployed as an image, as it always was).
    pub manifest: Option<ManifestKind>,
    pub account: Account,
    pub region: Region,
    pub time: DateTime<Utc>,
}

impl EcrImageAction {
    /// A successful push: the only kind of event that deploys.
    pub fn is_push(&self) -> bool {
        self.action == ImageAction::Push && self.result == ImageResult::Success
    }
}

/// `Serialize` only because aws_lambda_events requires it of every detail type.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Detail {
    action_type: ImageAction,
    result: ImageResult,
    repository_name: Repository,
    #[serde(default)]
    image_digest: Option<Digest>,
    #[serde(default)]
    image_tag: Option<Tag>,
    #[serde(default)]
    manifest_media_type: Option<String>,
}

/// An "ECR Image Scan" event: a basic scan finished. Never deploys anything.
#[derive(Debug, Clone, PartialEq)]
pub struct EcrImageScan {
    pub repository: Repository,
    pub digest: Option<Digest>,
    /// `detail.scan-status` (`COMPLETE`, `FAILED`).
    pub scan_status: Option<String>,
    pub account: Account,
    pub region: Region,
    pub time: DateTime<Utc>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
struct ScanDetail {
    repository_name: Repository,
    #[serde(default)]
    image_digest: Option<Digest>,
    #[serde(default)]
    scan_status: Option<String>,
}

pub(super) fn parse(payload: &Value, now: DateTime<Utc>) -> Result<EcrImageAction, InputError> {
    let ev: EventBridgeEvent<Detail> = deserialize(payload)?;
    let (account, region, time) = envelope(&ev, ECR_DETAIL_TYPE, now)?;
    let d = ev.detail;
    let event = EcrImageAction {
        action: d.action_type,
        result: d.result,
        repository: d.repository_name,
        digest: d.image_digest,
        tag: d.image_tag,
        manifest: d
            .manifest_media_type
            .as_deref()
            .map(|m| ManifestKind::of_media_type(Some(m))),
        account,
        region,
        time,
    };
    if event.is_push() && event.digest.is_none() {
        return Err(InputError::new(
            "payload.detail.image-digest",
            "is missing: a successful push always names the digest it created",
        ));
    }
    Ok(event)
}

pub(super) fn parse_scan(payload: &Value, now: DateTime<Utc>) -> Result<EcrImageScan, InputError> {
    let ev: EventBridgeEvent<ScanDetail> = deserialize(payload)?;
    let (account, region, time) = envelope(&ev, ECR_SCAN_DETAIL_TYPE, now)?;
    Ok(EcrImageScan {
        repository: ev.detail.repository_name,
        digest: ev.detail.image_digest,
        scan_status: ev
            .detail
            .scan_status
            .map(|s| crate::text::truncate(&crate::text::one_line(&s), 64)),
        account,
        region,
        time,
    })
}

/// What every ECR event must carry: the source and detail-type, and a registry account, region and
/// time that can be trusted.
fn envelope<D>(
    ev: &EventBridgeEvent<D>,
    detail_type: &str,
    now: DateTime<Utc>,
) -> Result<(Account, Region, DateTime<Utc>), InputError>
where
    D: serde::Serialize + serde::de::DeserializeOwned,
{
    if ev.source != ECR_SOURCE {
        return Err(InputError::new(
            "payload.source",
            format!(
                "{:?} is not {ECR_SOURCE:?}: only ECR image events are handled",
                ev.source
            ),
        ));
    }
    if ev.detail_type != detail_type {
        return Err(InputError::new(
            "payload.detail-type",
            format!("{:?} is not {detail_type:?}", ev.detail_type),
        ));
    }
    let account = ev
        .account
        .clone()
        .ok_or_else(|| InputError::new("payload.account", "is missing"))?;
    let account = Account::parse(&account).map_err(|p| InputError::new("payload.account", p))?;
    let region = ev
        .region
        .clone()
        .ok_or_else(|| InputError::new("payload.region", "is missing"))?;
    let region = Region::parse(&region).map_err(|p| InputError::new("payload.region", p))?;
    let time = ev
        .time
        .ok_or_else(|| InputError::new("payload.time", "is missing"))?;
    if time > now + MAX_CLOCK_SKEW {
        return Err(InputError::new(
            "payload.time",
            format!(
                "{} is {} minutes ahead of this deployer's clock ({}): EventBridge never sends events from the future",
                time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                (time - now).num_minutes(),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ));
    }
    Ok((account, region, time))
}
