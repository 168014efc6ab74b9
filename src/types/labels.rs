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
