//! What Lambda says about one function or version, reduced to what the pipeline decides on.

use crate::types::{Digest, RevisionId};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::{LastUpdateStatus, PackageType, State};

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionState {
    pub revision_id: RevisionId,
    pub code_sha256: String,
    /// The image by digest (`ResolvedImageUri`), or as configured when Lambda did not resolve it.
    pub image_uri: Option<String>,
    pub package_type: Option<PackageType>,
    pub state: Option<State>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<LastUpdateStatus>,
    pub last_update_reason: Option<String>,
    pub description: String,
}

impl FunctionState {
    /// Reads a GetFunction response; a response without the fields the guards need is an error,
    /// never a default.
    pub fn from_output(out: &GetFunctionOutput) -> Result<Self, String> {
        let c = out
            .configuration()
            .ok_or("GetFunction returned no Configuration")?;
        let revision_id = c
            .revision_id()
            .filter(|r| !r.is_empty())
            .ok_or("GetFunction returned no RevisionId")?;
        let code_sha256 = c
            .code_sha256()
            .filter(|s| !s.is_empty())
            .ok_or("GetFunction returned no CodeSha256")?;
        let code = out.code();
        let image_uri = code
            .and_then(|c| c.resolved_image_uri().or(c.image_uri()))
            .map(str::to_owned);
        Ok(Self {
            revision_id: RevisionId::new(revision_id),
            code_sha256: code_sha256.to_owned(),
            image_uri,
            package_type: c.package_type().cloned(),
            state: c.state().cloned(),
            state_reason: c.state_reason().map(str::to_owned),
            last_update_status: c.last_update_status().cloned(),
            last_update_reason: c.last_update_status_reason().map(str::to_owned),
            description: c.description().unwrap_or_default().to_owned(),
        })
    }

    /// Lambda is still applying a change: an update in progress, or a function/version being created.
    pub fn is_settling(&self) -> bool {
        matches!(self.last_update_status, Some(LastUpdateStatus::InProgress))
            || matches!(self.state, Some(State::Pending))
    }

    /// Does this code run `digest`? By the resolved image URI when Lambda reports one, else by
    /// CodeSha256, which for an image function is the manifest digest.
    pub fn runs(&self, digest: &Digest) -> bool {
        match self.image_uri.as_deref().and_then(Digest::from_image_uri) {
            Some(d) => &d == digest,
            None => digest.matches_code_sha256(&self.code_sha256),
        }
    }

    /// The digest this code runs, if it can be told.
    pub fn digest(&self) -> Option<Digest> {
        self.image_uri
            .as_deref()
            .and_then(Digest::from_image_uri)
            .or_else(|| {
                Digest::parse(&format!(
                    "sha256:{}",
                    self.code_sha256.trim_start_matches("sha256:")
                ))
                .ok()
            })
    }

    /// The reason an update ended as it did, for the report.
    pub fn update_failure(&self) -> Option<String> {
        if matches!(self.last_update_status, Some(LastUpdateStatus::Failed)) {
            return Some(format!(
                "LastUpdateStatus is Failed: {}",
                self.last_update_reason
                    .as_deref()
                    .unwrap_or("Lambda gave no reason")
            ));
        }
        if matches!(self.state, Some(State::Failed)) {
            return Some(format!(
                "State is Failed: {}",
                self.state_reason
                    .as_deref()
                    .unwrap_or("Lambda gave no reason")
            ));
        }
        None
    }
}
