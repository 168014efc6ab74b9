//! What a sweep found for one function: decided, or an image to deploy.

use crate::report::{Deployment, End};
use crate::types::{ImageRef, Version};
use chrono::{DateTime, Utc};

/// What a sweep found for one function.
pub(super) enum Finding {
    /// Decided: in sync, drift, rejected, rolling out, or a read that failed.
    Done(Box<Deployment>),
    /// The newest matching image is not live and was never rejected: deploy it.
    Missed {
        image: ImageRef,
        pushed: Option<DateTime<Utc>>,
        /// The version the alias is on now.
        live: Option<Version>,
    },
}

pub(super) fn done(dep: Deployment, end: End) -> Finding {
    Finding::Done(Box::new(dep.ended(end)))
}
