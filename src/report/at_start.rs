//! What a deployment learned at its start (before `$LATEST` changed) that its end needs. Kept on
//! the deployment, never in the report.

use crate::types::LabelsRead;

/// What a sink did at a deployment's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// It created this for the deployment (a GitHub deployment's id): the end goes on from it.
    Created(u64),
    /// It tried and got nothing back (the service down, failing or silent): the end tries again as
    /// if nothing had been told, so a brief outage at the start loses no deployment.
    Failed,
    /// There is nothing to tell for this deployment (no commit): nor at the end. Its warning is on
    /// the deployment.
    Nothing,
}

/// The sinks that tried to tell about the deployment at its start, and what the image said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AtStart {
    /// Each sink that tried, by name, with what came of it.
    pub sinks: Vec<(&'static str, Told)>,
    /// The image's labels as the run read them when the deployment started (`None`: not read,
    /// e.g. the run failed before its start): a sink's end of run needs no second read.
    pub image_labels: Option<LabelsRead>,
    /// The image's `org.opencontainers.image.created` label, when its config was read and the
    /// label is an RFC 3339 time: where lead time counts from.
    pub image_created: Option<chrono::DateTime<chrono::Utc>>,
    /// The image of the version this run is about, when the run read it (a rollback's target):
    /// how an earlier GitHub deployment created at a run's start, before its version was known,
    /// is found.
    pub image_digest: Option<String>,
}

impl AtStart {
    /// What `sink` did at the start: `None` when it did not try.
    pub fn sink(&self, name: &str) -> Option<Told> {
        self.sinks
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, told)| *told)
    }
}
