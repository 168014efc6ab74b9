//! "CloudWatch Alarm State Change" events: an alarm a rollout watches acts at once.

use super::{InputError, deserialize};
use crate::types::{Account, Region};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const SOURCE: &str = "aws.cloudwatch";
pub const DETAIL_TYPE: &str = "CloudWatch Alarm State Change";

/// The alarm and the state it went to.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmStateChange {
    pub alarm_name: String,
    /// `ALARM`, `OK`, `INSUFFICIENT_DATA`.
    pub state: String,
    /// The account the alarm lives in: an alarm of a target in another account (forwarded from
    /// its bus) acts only on targets of that account, even if a name is used in both.
    pub account: Option<Account>,
    /// The region the alarm lives in: a rollout's alarms are read in the deployer's region, so an
    /// alarm of the same name elsewhere is not theirs.
    pub region: Option<Region>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    alarm_name: String,
    state: State,
}

#[derive(Deserialize, Serialize)]
struct State {
    value: String,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Detail,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

pub(super) fn parse(payload: &Value) -> Result<AlarmStateChange, InputError> {
    let ev: Event = deserialize(payload)?;
    if ev.detail_type != DETAIL_TYPE {
        return Err(InputError::new(
            "payload.detail-type",
            format!("{:?} is not {DETAIL_TYPE:?}", ev.detail_type),
        ));
    }
    if ev.detail.alarm_name.is_empty() || ev.detail.alarm_name.chars().count() > 255 {
        return Err(InputError::new(
            "payload.detail.alarmName",
            "is not a CloudWatch alarm name (1-255 characters)",
        ));
    }
    let account = ev
        .account
        .map(|a| Account::parse(&a).map_err(|p| InputError::new("payload.account", p)))
        .transpose()?;
    let region = ev
        .region
        .map(|r| Region::parse(&r).map_err(|p| InputError::new("payload.region", p)))
        .transpose()?;
    Ok(AlarmStateChange {
        alarm_name: ev.detail.alarm_name,
        state: ev.detail.state.value,
        account,
        region,
    })
}
