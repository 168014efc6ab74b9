//! What production runs now: the alias, the version behind it, and that version's image.

use crate::gateway::{AliasState, FunctionState, Lambda};
use crate::ops::StepError;
use crate::types::{AliasName, AliasTarget, Version};

/// Production as found: no alias yet (first deployment), or the alias and the code it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub alias: Option<AliasState>,
    /// The code behind the alias (a version, or `$LATEST` if the alias follows it).
    pub code: Option<FunctionState>,
    /// A rollout in progress (or a split set by hand): the other version and what it runs.
    pub canary: Option<(Version, FunctionState)>,
}

pub async fn resolve(
    lambda: &Lambda,
    function: &str,
    alias: &AliasName,
) -> Result<Live, StepError> {
    let Some(state) = lambda.get_alias(function, alias).await? else {
        return Ok(Live {
            alias: None,
            code: None,
            canary: None,
        });
    };
    let qualifier = match state.target {
        AliasTarget::Latest => None,
        AliasTarget::Version(v) => Some(v.to_string()),
    };
    let code = lambda
        .get_function(function, qualifier.as_deref())
        .await
        .map_err(|e| {
            StepError::new(format!(
                "GetFunction {} failed: {}",
                qualifier.as_deref().unwrap_or("$LATEST"),
                e.message
            ))
        })?;
    let canary = match state.canary() {
        Some((v, _)) => Some((
            v,
            lambda.get_function(function, Some(&v.to_string())).await?,
        )),
        None => None,
    };
    Ok(Live {
        alias: Some(state),
        code: Some(code),
        canary,
    })
}
