//! Lambda: every call the deployer makes to the Lambda API is here (and in its submodules:
//! listing, tags, invoke), guarded where it mutates.

use super::budget::{Budget, Quota};
use super::{AliasState, ApiError, Clock, ErrorKind, FunctionState};
use crate::types::{AliasName, RevisionId, Version};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use std::collections::HashMap;

mod invoke;
mod listing;
mod provisioned;
mod tags;

pub use listing::{AliasInfo, VersionInfo};

#[derive(Clone, Debug)]
pub struct Lambda {
    client: Client,
    clock: Clock,
    /// This run's share of the control-plane rate (see [`Budget`]); shared by its clones.
    budget: Budget,
}

/// A new version, as PublishVersion answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub version: Version,
    pub code_sha256: Option<String>,
    /// Lambda is still preparing it (State Pending).
    pub pending: bool,
}

/// Where to point an alias, and the guard to do it with.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasMove {
    pub version: Version,
    /// A canary split: another version and its share of traffic. Empty clears any split.
    pub routing: Vec<(Version, f64)>,
    /// The alias's RevisionId as read; `None` creates the alias.
    pub revision: Option<RevisionId>,
    /// What the alias's description records about this move.
    pub description: String,
}

impl Lambda {
    pub fn new(client: Client) -> Self {
        let clock = Clock::of(client.config());
        let budget = Budget::new(crate::config::fleet::DEFAULT_CONTROL_PLANE_RPS, 1, None);
        Self {
            client,
            clock,
            budget,
        }
    }

    /// The same client, pacing its calls by `budget` (one per run).
    pub fn with_budget(&self, budget: Budget) -> Self {
        Self {
            budget,
            ..self.clone()
        }
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The same client, signing with `assumed` (a target in another account).
    pub fn with_credentials(&self, assumed: &super::sts::Assumed) -> Self {
        Self {
            client: signed_with!(self.client, assumed),
            clock: self.clock.clone(),
            budget: self.budget.clone(),
        }
    }

    /// The client's clock: virtual in tests, so every wait in the engine follows it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The alias, or `None` if the function exists but the alias does not (a first deployment).
    pub async fn get_alias(
        &self,
        function: &str,
        alias: &AliasName,
    ) -> Result<Option<AliasState>, ApiError> {
        let res = self
            .budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .get_alias()
                    .function_name(function)
                    .name(alias.as_str())
                    .send()
            })
            .await;
        match res {
            Ok(out) => AliasState::from_output(&out, alias.as_str())
                .map(Some)
                .map_err(|message| ApiError {
                    op: "GetAlias",
                    kind: ErrorKind::Other,
                    message,
                }),
            Err(e) => {
                let err = ApiError::from_sdk("GetAlias", &e);
                // Lambda answers ResourceNotFound both for a missing alias and a missing function;
                // only the first means "first deployment".
                if err.is(ErrorKind::NotFound) && !err.message.contains("Function not found") {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// GetFunction of `$LATEST` (`None`) or a version.
    pub async fn get_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionState, ApiError> {
        let out = self
            .budget
            .paced(Quota::GetFunction, &self.clock, || {
                self.client
                    .get_function()
                    .function_name(function)
                    .set_qualifier(qualifier.map(str::to_owned))
                    .send()
            })
            .await
            .map_err(|e| ApiError::from_sdk("GetFunction", &e))?;
        FunctionState::from_output(&out).map_err(|message| ApiError {
            op: "GetFunction",
            kind: ErrorKind::Other,
            message,
        })
    }

    /// `UpdateFunctionCode(ImageUri, RevisionId)`: `$LATEST` runs the image once Lambda applied it.
    pub async fn update_code(
        &self,
        function: &str,
        image_uri: &str,
        revision: Option<&RevisionId>,
    ) -> Result<(), ApiError> {
        self.budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .update_function_code()
                    .function_name(function)
                    .image_uri(image_uri)
                    .set_revision_id(revision.map(|r| r.as_str().to_owned()))
                    .publish(false)
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("UpdateFunctionCode", &e))
    }

    /// `PublishVersion` guarded twice: `CodeSha256` and `RevisionId`.
    pub async fn publish(
        &self,
        function: &str,
        code_sha256: &str,
        revision: Option<&RevisionId>,
        description: &str,
    ) -> Result<Published, ApiError> {
        let out = self
            .budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .publish_version()
                    .function_name(function)
                    .code_sha256(code_sha256)
                    .set_revision_id(revision.map(|r| r.as_str().to_owned()))
                    .description(description)
                    .send()
            })
            .await
            .map_err(|e| ApiError::from_sdk("PublishVersion", &e))?;
        let version = out
            .version()
            .and_then(Version::parse)
            .ok_or_else(|| ApiError {
                op: "PublishVersion",
                kind: ErrorKind::Other,
                message: format!("returned {:?}, not a version number", out.version()),
            })?;
        Ok(Published {
            version,
            code_sha256: out.code_sha256().map(str::to_owned),
            pending: matches!(out.state(), Some(aws_sdk_lambda::types::State::Pending)),
        })
    }

    /// `UpdateAlias` guarded by the alias's RevisionId, or `CreateAlias` when there is none yet.
    /// Returns the alias's new RevisionId (the next guarded move needs it).
    pub async fn move_alias(
        &self,
        function: &str,
        alias: &AliasName,
        to: &AliasMove,
    ) -> Result<Option<RevisionId>, ApiError> {
        self.move_alias_seen(function, alias, to)
            .await
            .map(|(revision, _)| revision)
    }

    /// As [`Self::move_alias`], also returning the version Lambda is still moving traffic off, when
    /// its answer shows the alias in its own transition (see `gateway::state::lambda_transition`).
    pub async fn move_alias_seen(
        &self,
        function: &str,
        alias: &AliasName,
        to: &AliasMove,
    ) -> Result<(Option<RevisionId>, Option<Version>), ApiError> {
        let seen = |routing: Option<&AliasRoutingConfiguration>| {
            let weights = super::state::weights(routing);
            let target = crate::types::AliasTarget::Version(to.version);
            super::state::lambda_transition(&target, &weights, &to.description)
        };
        let weights: HashMap<String, f64> = to
            .routing
            .iter()
            .map(|(v, w)| (v.to_string(), *w))
            .collect();
        match &to.revision {
            Some(revision) => self
                .budget
                .paced(Quota::ControlPlane, &self.clock, || {
                    self.client
                        .update_alias()
                        .function_name(function)
                        .name(alias.as_str())
                        .function_version(to.version.to_string())
                        .revision_id(revision.as_str())
                        .description(&to.description)
                        // Always sent: an empty map clears a split, which would otherwise keep
                        // sending part of the traffic to another version.
                        .routing_config(
                            AliasRoutingConfiguration::builder()
                                .set_additional_version_weights(Some(weights.clone()))
                                .build(),
                        )
                        .send()
                })
                .await
                .map(|o| {
                    (
                        o.revision_id().map(RevisionId::new),
                        seen(o.routing_config()),
                    )
                })
                .map_err(|e| ApiError::from_sdk("UpdateAlias", &e)),
            None => self
                .budget
                .paced(Quota::ControlPlane, &self.clock, || {
                    self.client
                        .create_alias()
                        .function_name(function)
                        .name(alias.as_str())
                        .function_version(to.version.to_string())
                        .description(&to.description)
                        .send()
                })
                .await
                .map(|o| (o.revision_id().map(RevisionId::new), None))
                .map_err(|e| ApiError::from_sdk("CreateAlias", &e)),
        }
    }
}
