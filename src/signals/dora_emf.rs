//! DORA metrics in EMF, per function in `[FunctionName]`, where the run knows them:
//! `LeadTimeSeconds` (the image's `org.opencontainers.image.created` label to live, for a
//! deployment that went live; the push's event time when the label is missing, unreadable or its
//! config was not read, and the record's `LeadTimeFrom` says which) and
//! `ChangeFailure` (1 for a deployment that failed after publishing, or was rolled back by a gate
//! or by hand; 0 for one that went live). Deployment frequency is the existing `Deployments`.
//! `TimeToRestoreSeconds` (for a rollback, or a rollout stopped by a gate or an alarm: from when
//! the alias last moved to the bad version, by the deployer's record of that move, to now).

use crate::report::{ActionKind, Deployment, Outcome, Report, Step};
use serde_json::{Map, Value, json};

pub const LEAD_TIME: &str = "LeadTimeSeconds";
pub const CHANGE_FAILURE: &str = "ChangeFailure";
pub const TIME_TO_RESTORE: &str = "TimeToRestoreSeconds";

/// Seconds from the bad version going live to `timestamp_ms`, when this run put traffic back on
/// a good version and the record says since when the bad one served.
pub fn time_to_restore(report: &Report, d: &Deployment, timestamp_ms: u64) -> Option<u64> {
    let restored = d.outcome == Outcome::RolledBack
        || (d.failed_step == Some(Step::Rollout)
            && d.rollout.as_ref().is_some_and(|r| r.weight_changed));
    if report.dry_run || !restored {
        return None;
    }
    let since_ms = u64::try_from(d.bad_live_since?.timestamp_millis()).ok()?;
    Some(timestamp_ms.saturating_sub(since_ms) / 1000)
}

/// 1, 0, or nothing to say (a skip, a duplicate, a rollout still going, a failure before publishing).
pub fn change_failure(report: &Report, d: &Deployment) -> Option<u8> {
    if report.dry_run {
        return None;
    }
    match d.outcome {
        Outcome::Deployed => Some(0),
        Outcome::RolledBack => Some(1),
        Outcome::Failed
            if report.action != ActionKind::Rollback
                && d.steps.iter().any(|s| s.step == Step::Publish) =>
        {
            Some(1)
        }
        _ => None,
    }
}

/// Where a lead time counts from: the `LeadTimeFrom` property of the DORA record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadFrom {
    /// The image's `org.opencontainers.image.created` label.
    ImageCreated,
    /// The push's event time (no label, an unreadable one, or the config not read).
    Pushed,
}

impl LeadFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadFrom::ImageCreated => "image_created",
            LeadFrom::Pushed => "pushed",
        }
    }
}

/// Seconds from the image's creation (else its push, the report's event time) to
/// `timestamp_ms`, for a deployment that went live, and which of the two it counts from.
pub fn lead_time(report: &Report, d: &Deployment, timestamp_ms: u64) -> Option<(u64, LeadFrom)> {
    if report.dry_run || d.outcome != Outcome::Deployed {
        return None;
    }
    let (from_ms, from) = match d.at_start.image_created {
        Some(created) => (created.timestamp_millis(), LeadFrom::ImageCreated),
        None => {
            let pushed =
                chrono::DateTime::parse_from_rfc3339(report.event_time.as_deref()?).ok()?;
            (pushed.timestamp_millis(), LeadFrom::Pushed)
        }
    };
    let from_ms = u64::try_from(from_ms).ok()?;
    Some((timestamp_ms.saturating_sub(from_ms) / 1000, from))
}

/// The record's metrics, or `None` when there is nothing to say.
pub fn metrics(
    report: &Report,
    d: &Deployment,
    timestamp_ms: u64,
) -> Option<Vec<(&'static str, &'static str, Value)>> {
    let mut m = Vec::new();
    if let Some((secs, _)) = lead_time(report, d, timestamp_ms) {
        m.push((LEAD_TIME, "Seconds", json!(secs)));
    }
    if let Some(f) = change_failure(report, d) {
        m.push((CHANGE_FAILURE, "Count", json!(f)));
    }
    if let Some(secs) = time_to_restore(report, d, timestamp_ms) {
        m.push((TIME_TO_RESTORE, "Seconds", json!(secs)));
    }
    (!m.is_empty()).then_some(m)
}

/// The properties a DORA record carries besides its metrics: with a lead time, where it counts
/// from (`LeadTimeFrom`: `image_created` or `pushed`), so a reader knows which it is.
pub fn fields(report: &Report, d: &Deployment, timestamp_ms: u64) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("FunctionName".into(), d.function.name().into());
    f.insert("Outcome".into(), d.outcome.as_str().into());
    if let Some((_, from)) = lead_time(report, d, timestamp_ms) {
        f.insert("LeadTimeFrom".into(), from.as_str().into());
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StepTiming;
    use crate::types::{AliasName, FunctionRef};

    fn dep(outcome: Outcome, steps: &[Step]) -> Deployment {
        let mut d = Deployment::new(
            FunctionRef::parse("api").unwrap(),
            AliasName::parse("live").unwrap(),
        );
        d.outcome = outcome;
        d.steps = steps
            .iter()
            .map(|s| StepTiming { step: *s, ms: 1 })
            .collect();
        d
    }

    #[test]
    fn change_failure_counts_what_reached_a_version() {
        let r = Report::new(ActionKind::Deploy);
        assert_eq!(change_failure(&r, &dep(Outcome::Deployed, &[])), Some(0));
        assert_eq!(
            change_failure(&r, &dep(Outcome::Failed, &[Step::SmokeTest])),
            None,
            "never published"
        );
        assert_eq!(
            change_failure(
                &r,
                &dep(Outcome::Failed, &[Step::Publish, Step::PromoteAlias])
            ),
            Some(1)
        );
        assert_eq!(
            change_failure(
                &Report::new(ActionKind::Rollback),
                &dep(Outcome::RolledBack, &[])
            ),
            Some(1)
        );
        assert_eq!(
            change_failure(
                &Report::new(ActionKind::Advance),
                &dep(Outcome::RolledBack, &[])
            ),
            Some(1)
        );
        assert_eq!(change_failure(&r, &dep(Outcome::AlreadyLive, &[])), None);
        assert_eq!(
            change_failure(&r, &dep(Outcome::RollingOut, &[Step::Publish])),
            None,
            "not over yet"
        );
    }

    #[test]
    fn lead_time_is_push_to_live_without_a_created_label() {
        let mut r = Report::new(ActionKind::Deploy);
        r.event_time = Some("2026-11-26T07:00:00Z".into());
        let live = chrono::DateTime::parse_from_rfc3339("2026-11-26T07:03:20Z")
            .unwrap()
            .timestamp_millis() as u64;
        let d = dep(Outcome::Deployed, &[]);
        assert_eq!(lead_time(&r, &d, live), Some((200, LeadFrom::Pushed)));
        assert_eq!(fields(&r, &d, live)["LeadTimeFrom"], "pushed");
        assert_eq!(lead_time(&r, &dep(Outcome::Failed, &[]), live), None);
        r.event_time = None;
        assert_eq!(lead_time(&r, &d, live), None);
        assert!(!fields(&r, &d, live).contains_key("LeadTimeFrom"));
    }

    #[test]
    fn lead_time_counts_from_the_images_created_label_when_it_was_read() {
        let mut r = Report::new(ActionKind::Deploy);
        r.event_time = Some("2026-11-26T07:00:00Z".into());
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let live = at("2026-11-26T07:03:20Z").timestamp_millis() as u64;
        let mut d = dep(Outcome::Deployed, &[]);
        // Built at 06:30, pushed at 07:00, live at 07:03:20: 33 min 20 s from its creation.
        d.at_start.image_created = Some(at("2026-11-26T06:30:00Z"));
        assert_eq!(
            lead_time(&r, &d, live),
            Some((2000, LeadFrom::ImageCreated))
        );
        assert_eq!(fields(&r, &d, live)["LeadTimeFrom"], "image_created");
        // Even with no push time (a deploy by hand), the label is enough.
        r.event_time = None;
        assert_eq!(
            lead_time(&r, &d, live),
            Some((2000, LeadFrom::ImageCreated))
        );
    }

    #[test]
    fn time_to_restore_is_bad_live_to_traffic_back() {
        let r = Report::new(ActionKind::Rollback);
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let now = at("2026-11-26T07:45:00Z").timestamp_millis() as u64;
        let mut d = dep(Outcome::RolledBack, &[]);
        assert_eq!(time_to_restore(&r, &d, now), None, "no record, no time");
        d.bad_live_since = Some(at("2026-11-26T07:00:00Z"));
        assert_eq!(time_to_restore(&r, &d, now), Some(45 * 60));
        d.outcome = Outcome::AlreadyLive;
        assert_eq!(time_to_restore(&r, &d, now), None, "nothing restored");
    }
}
