//! An image's labels (its config: `org.opencontainers.image.created` for lead time, `.revision`
//! for GitHub's commit), read once per run per image: a push to many functions deployed by one run
//! reads each image's config once, the functions deployed side by side waiting for the same read.
//! A read that fails is remembered too: the run does not ask again for every function.

use crate::gateway::ecr::Ecr;
use crate::gateway::https::Https;
use crate::types::{ImageRef, LabelsRead};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// The run's reads of image labels, by registry, repository and digest.
#[derive(Clone, Debug)]
pub struct LabelReads {
    /// Fetches the config blob from the address ECR gives (plain HTTPS, no token); `Err` when no
    /// HTTPS client could be built (then no label is ever read, and lead time counts from the push).
    blobs: Result<Https, String>,
    /// Bounds one read (two ECR calls and the blob): the deployment waits for it.
    budget: Duration,
    reads: Arc<Mutex<HashMap<String, Arc<OnceCell<LabelsRead>>>>>,
}

impl LabelReads {
    pub fn new(blobs: Result<Https, String>, budget: Duration) -> Self {
        Self {
            blobs,
            budget,
            reads: Default::default(),
        }
    }

    /// The HTTPS client config blobs are fetched with, its calls bounded by `timeout`.
    pub fn blob_client(timeout: Duration) -> Result<Https, String> {
        Https::new(timeout)
    }

    /// `image`'s labels through `ecr` (the target's credentials), read by the first function of
    /// the run that asks, within the budget and `left` (the invocation's time before its reserve);
    /// every later function gets the same answer.
    pub async fn of(&self, ecr: &Ecr, image: &ImageRef, left: Option<Duration>) -> LabelsRead {
        let key = format!(
            "{}/{}@{}",
            image.account.as_str(),
            image.repository.as_str(),
            image.digest
        );
        let cell = {
            let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
            reads.entry(key).or_default().clone()
        };
        let budget = left.map_or(self.budget, |l| l.min(self.budget));
        cell.get_or_init(|| self.read(ecr, image, budget))
            .await
            .clone()
    }

    async fn read(&self, ecr: &Ecr, image: &ImageRef, budget: Duration) -> LabelsRead {
        let blobs = self.blobs.as_ref().map_err(Clone::clone)?;
        let read = ecr.config_reader();
        let labels = read.labels(
            blobs,
            Some(image.account.as_str()),
            image.repository.as_str(),
            image.digest.as_str(),
        );
        match tokio::time::timeout(budget, labels).await {
            Ok(r) => r.map(Arc::new),
            Err(_) => Err(format!(
                "the image's config was not read within {} s",
                budget.as_secs()
            )),
        }
    }
}
