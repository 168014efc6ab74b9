//! Step 1: what production runs now: the alias, the version behind it, and that version's image.

use crate::aws::{describe, is_not_found};
use crate::deploy::StepError;
use crate::deploy::state::FunctionState;
use crate::types::{AliasName, AliasTarget, RevisionId};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_alias::GetAliasOutput;

#[derive(Debug, Clone, PartialEq)]
pub struct AliasState {
    pub revision_id: RevisionId,
    pub target: AliasTarget,
    /// The alias splits traffic (a canary is running); moving it clears the split.
    pub has_routing: bool,
}

impl AliasState {
    /// Reads a GetAlias response; a target that is not a version or `$LATEST`, or a missing
    /// RevisionId (which the move's guard needs), is an error.
    pub fn from_output(out: &GetAliasOutput, alias: &AliasName) -> Result<Self, StepError> {
        let raw = out.function_version().unwrap_or_default();
        let target = AliasTarget::parse(raw).ok_or_else(|| {
            StepError::new(format!(
                "alias {alias} points to {raw:?}, which is not a version"
            ))
        })?;
        let revision_id = out
            .revision_id()
            .filter(|r| !r.is_empty())
            .map(RevisionId::new)
            .ok_or_else(|| StepError::new("GetAlias returned no RevisionId"))?;
        let has_routing = out
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .is_some_and(|w| !w.is_empty());
        Ok(Self {
            revision_id,
            target,
            has_routing,
        })
    }
}

/// Production as found: no alias yet (first deployment), or the alias and the code it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub alias: Option<AliasState>,
    /// The code behind the alias (a version, or `$LATEST` if the alias follows it).
    pub code: Option<FunctionState>,
}

pub async fn resolve(
    lambda: &Client,
    function: &str,
    alias: &AliasName,
) -> Result<Live, StepError> {
    let got = lambda
        .get_alias()
        .function_name(function)
        .name(alias.as_str())
        .send()
        .await;
    let out = match got {
        Ok(out) => out,
        // Lambda answers ResourceNotFound both for a missing alias and a missing function; only
        // the first means "first deployment".
        Err(e) if is_not_found(&e) && !describe(&e).contains("Function not found") => {
            return Ok(Live {
                alias: None,
                code: None,
            });
        }
        Err(e) => return Err(StepError::new(format!("GetAlias failed: {}", describe(&e)))),
    };
    let state = AliasState::from_output(&out, alias)?;
    let target = state.target;
    let qualifier = match target {
        AliasTarget::Latest => "$LATEST".to_owned(),
        AliasTarget::Version(v) => v.to_string(),
    };
    let code = lambda
        .get_function()
        .function_name(function)
        .qualifier(&qualifier)
        .send()
        .await
        .map_err(|e| StepError::new(format!("GetFunction {qualifier} failed: {}", describe(&e))))?;
    let code = FunctionState::from_output(&code).map_err(StepError::new)?;
    Ok(Live {
        alias: Some(state),
        code: Some(code),
    })
}
