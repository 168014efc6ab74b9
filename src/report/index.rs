//! The image chosen from an image index for one function, as the report shows it.

use serde::Serialize;

/// Flattened into a deployment: `index_digest`, `image_digest`, `platform`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexChoice {
    /// The image index the run was given.
    pub index_digest: String,
    /// The image chosen from it for this function's architecture: the one that runs.
    pub image_digest: String,
    /// That image's platform (`linux/arm64/v8`).
    pub platform: String,
}
