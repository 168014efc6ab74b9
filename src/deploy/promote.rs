//! Step 6: move the alias, the contract with callers, to the new version.

use crate::aws::{describe, is_conflict, is_precondition_failed};
use crate::deploy::StepError;
use crate::deploy::resolve::AliasState;
use crate::types::{AliasName, RevisionId, Version};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use std::collections::HashMap;

/// `UpdateAlias` guarded by the alias RevisionId read at the start of the run: if anyone moved the
/// alias meanwhile (a manual rollback, another deployer), Lambda refuses and we report it rather
/// than overwrite their decision. A missing alias is created. Returns the alias's new RevisionId.
pub async fn promote(
    lambda: &Client,
    function: &str,
    alias: &AliasName,
    current: Option<&AliasState>,
    version: Version,
) -> Result<RevisionId, StepError> {
    match try_promote(lambda, function, alias, current, version).await {
        Ok(r) => Ok(r),
        Err(e) if e.concurrent => Err(e),
        Err(e) => {
            // A timeout or 5xx may hide a move that went through. Look before reporting a failure
            // (and before $LATEST is restored under a version that is in fact live).
            match landed(lambda, function, alias, version).await {
                Some(revision) => {
                    tracing::warn!(function, %alias, %version, error = %e.reason, "the alias move reported an error but went through");
                    Ok(revision)
                }
                None => Err(e),
            }
        }
    }
}

/// The alias's RevisionId if it points fully at `version`.
pub async fn landed(
    lambda: &Client,
    function: &str,
    alias: &AliasName,
    version: Version,
) -> Option<RevisionId> {
    let out = lambda
        .get_alias()
        .function_name(function)
        .name(alias.as_str())
        .send()
        .await
        .ok()?;
    let state = AliasState::from_output(&out, alias).ok()?;
    (state.target == crate::types::AliasTarget::Version(version) && !state.has_routing)
        .then_some(state.revision_id)
}

async fn try_promote(
    lambda: &Client,
    function: &str,
    alias: &AliasName,
    current: Option<&AliasState>,
    version: Version,
) -> Result<RevisionId, StepError> {
    let revision = match current {
        Some(a) => {
            let mut req = lambda
                .update_alias()
                .function_name(function)
                .name(alias.as_str())
                .function_version(version.to_string())
                .revision_id(a.revision_id.as_str());
            if a.has_routing {
                // A canary split would keep sending part of the traffic to the old version.
                req = req.routing_config(
                    AliasRoutingConfiguration::builder()
                        .set_additional_version_weights(Some(HashMap::new()))
                        .build(),
                );
            }
            let out = req.send().await.map_err(|e| {
                if is_precondition_failed(&e) {
                    StepError::concurrent(format!(
                        "alias {alias} was changed by someone else during the deployment ({}); it was left as they set it",
                        describe(&e)
                    ))
                } else {
                    StepError::new(format!("UpdateAlias failed: {}", describe(&e)))
                }
            })?;
            out.revision_id().map(RevisionId::new)
        }
        None => {
            let out = lambda
                .create_alias()
                .function_name(function)
                .name(alias.as_str())
                .function_version(version.to_string())
                .description("managed by self-deployer")
                .send()
                .await
                .map_err(|e| {
                    if is_conflict(&e) {
                        StepError::concurrent(format!(
                            "alias {alias} was created by someone else during the deployment ({}); it was left as they set it",
                            describe(&e)
                        ))
                    } else {
                        StepError::new(format!("CreateAlias failed: {}", describe(&e)))
                    }
                })?;
            out.revision_id().map(RevisionId::new)
        }
    };
    revision.ok_or_else(|| StepError::new("the alias moved, but Lambda returned no RevisionId"))
}
