//! Stages: a target that follows another function (`after`), and a target in another account
//! (`assume_role_arn`). Checked once the whole DEPLOYER_TARGETS list is read, because `after` names
//! a function of another entry.

use super::{ConfigError, TARGETS_VAR, Target};
use crate::types::{FunctionRef, RoleArn};
use serde::Deserialize;

/// The shortest and longest bake: a minute (a schedule needs a time ahead), and 30 days.
pub const MIN_BAKE_SECS: u64 = 60;
pub const MAX_BAKE_SECS: u64 = 30 * 86_400;

/// `"after": {"function": "api-staging", "bake_secs": 1800, "manual": false}`: this target takes
/// only what `function` has run well for `bake_secs`, by promotion, never straight from a push.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// The earlier stage: a function of another target.
    pub function: FunctionRef,
    /// How long the earlier stage must have served a digest before it is promoted.
    pub bake_secs: u64,
    /// `true`: the scheduled check notifies "ready to promote" with the command, and a person
    /// promotes (`promote-stage`); `false`: the check promotes.
    #[serde(default)]
    pub manual: bool,
}

impl After {
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if !(MIN_BAKE_SECS..=MAX_BAKE_SECS).contains(&self.bake_secs) {
            return Err((
                "after.bake_secs",
                format!(
                    "{} is out of range: it must be between {MIN_BAKE_SECS} and {MAX_BAKE_SECS} (30 days)",
                    self.bake_secs
                ),
            ));
        }
        Ok(())
    }
}

/// An IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`), or why not (in the words
/// configuration errors have always used).
pub fn check_role_arn(arn: &str) -> Result<RoleArn, String> {
    arn.parse()
        .map_err(|_| format!("{arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"))
}

/// The index of the target that holds `function`, preferring one of `repository` when several do.
/// Two ARNs must match exactly; otherwise a name and an ARN of the same name are the same function
/// (as the reference says, and as `stages::names` matches a stage's `after` at run time).
pub fn target_of<'a>(
    targets: &'a [Target],
    function: &FunctionRef,
    repository: Option<&crate::types::Repository>,
) -> Option<(usize, &'a Target)> {
    let holds = |t: &Target| {
        t.functions.iter().any(|f| {
            if function.is_arn() && f.is_arn() {
                f == function
            } else {
                f.name() == function.name()
            }
        })
    };
    let mut found = targets.iter().enumerate().filter(|(_, t)| holds(t));
    let first = found.next()?;
    if let Some(repo) = repository
        && first.1.repository != *repo
        && let Some(same) = found.find(|(_, t)| &t.repository == repo)
    {
        return Some(same);
    }
    Some(first)
}

/// Every `after` names a configured function, and following `after` from any target never comes
/// back to it: a loop would promote a digest around it forever.
pub(super) fn check_stages(targets: &[Target]) -> Result<(), ConfigError> {
    for (i, t) in targets.iter().enumerate() {
        let Some(after) = &t.after else { continue };
        if target_of(targets, &after.function, Some(&t.repository)).is_none() {
            let configured: Vec<&str> = targets
                .iter()
                .flat_map(|t| t.functions.iter().map(FunctionRef::name))
                .collect();
            return Err(ConfigError::new(
                TARGETS_VAR,
                format!("[{i}].after.function"),
                format!(
                    "{:?} is not a function of any target (configured: {})",
                    after.function.as_str(),
                    configured.join(", ")
                ),
            ));
        }
        // Walk back from this target: earlier, earlier's earlier, ... A walk longer than the
        // number of targets, or one that meets a target twice, is a loop.
        let mut chain: Vec<usize> = vec![i];
        let mut at = t;
        while let Some(a) = &at.after {
            let Some((j, earlier)) = target_of(targets, &a.function, Some(&at.repository)) else {
                break;
            };
            if chain.contains(&j) {
                chain.push(j);
                // In promotion order: earliest first.
                let names: Vec<&str> = chain
                    .iter()
                    .rev()
                    .map(|k| targets[*k].functions[0].name())
                    .collect();
                return Err(ConfigError::new(
                    TARGETS_VAR,
                    format!("[{i}].after"),
                    format!(
                        "the stages form a loop: {} (a digest would be promoted around it forever)",
                        names.join(" → ")
                    ),
                ));
            }
            chain.push(j);
            at = earlier;
        }
    }
    Ok(())
}
