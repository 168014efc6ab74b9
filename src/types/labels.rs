//! An image's labels (its config's `config.Labels`) and the two the deployer reads: the commit it
//! was built from and when it was created.

use chrono::{DateTime, Utc};

pub type Labels = serde_json::Map<String, serde_json::Value>;

/// One read of an image's labels, shared by every function of a run that deploys the image, or
/// why they could not be read (no permission, a registry without blobs, no answer).
pub type LabelsRead = Result<std::sync::Arc<Labels>, String>;

pub const REVISION: &str = "org.opencontainers.image.revision";
pub const CREATED: &str = "org.opencontainers.image.created";

/// The image's `org.opencontainers.image.created` label as a time: `None` when it is missing or
/// not RFC 3339 (another tool's label is never trusted to parse).
pub fn created_label(labels: &Labels) -> Option<DateTime<Utc>> {
    let text = labels.get(CREATED)?.as_str()?;
    Some(DateTime::parse_from_rfc3339(text.trim()).ok()?.to_utc())
}

/// The created label when it can be where a change's lead time starts: not a fixed stamp from
/// before 2000 (Jib, ko, Nix and other reproducible builds write the Unix epoch) and not later than
/// `latest` (the push, else now: a build machine's clock ahead of ours). `None`: count from the push.
pub fn created_for_lead_time(labels: &Labels, latest: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let earliest = DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z")
        .ok()?
        .to_utc();
    created_label(labels).filter(|c| *c >= earliest && *c <= latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(created: &str) -> Labels {
        let mut l = Labels::new();
        l.insert(CREATED.into(), serde_json::Value::String(created.into()));
        l
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn an_epoch_stamp_or_a_time_after_the_push_is_no_start_for_lead_time() {
        let pushed = t("2026-11-26T07:00:00Z");
        let ok = labels("2026-11-26T06:40:00Z");
        assert_eq!(
            created_for_lead_time(&ok, pushed),
            Some(t("2026-11-26T06:40:00Z"))
        );
        for stamp in [
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:01Z",
            "1980-01-01T00:00:00Z",
        ] {
            assert_eq!(
                created_for_lead_time(&labels(stamp), pushed),
                None,
                "{stamp}"
            );
        }
        assert_eq!(
            created_for_lead_time(&labels("2026-11-26T07:05:00Z"), pushed),
            None
        );
        assert_eq!(created_for_lead_time(&labels("yesterday"), pushed), None);
    }
}
