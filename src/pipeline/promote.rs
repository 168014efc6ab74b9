//! Move the alias, the contract with callers: guarded, recorded, and checked when in doubt.

use crate::gateway::AliasState;
use crate::gateway::ErrorKind;
use crate::gateway::lambda::AliasMove;
use crate::pipeline::run::{Ctx, StepError};
use crate::record::{AliasRecord, MoveKind};
use crate::types::{AliasName, RevisionId, Version};

/// Who made the move the alias now shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// This run.
    Ours,
    /// Another run got there first with the same version (a duplicate delivery of the same push).
    ByAnotherRun,
}

/// The alias after a successful move.
#[derive(Debug, Clone, PartialEq)]
pub struct Promoted {
    pub moved: Moved,
    /// Its RevisionId, when Lambda said.
    pub revision: Option<RevisionId>,
}

/// Points `alias` at `version` only (clearing any split), guarded by the RevisionId in `current`
/// (`None`: the alias does not exist yet and is created). The move records this run in the alias's
/// description. Any error is checked before it is believed: a timeout or 5xx may hide a move that
/// went through, and a guard trip may be our own earlier attempt whose answer was lost and which
/// the SDK retried. Whatever someone else did stays theirs.
pub async fn promote(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: Option<&AliasState>,
    version: Version,
    kind: MoveKind,
) -> Result<Promoted, StepError> {
    let record = AliasRecord {
        kind,
        moved: ctx.clock().now_utc(),
        to: version,
        from: current.and_then(|a| a.target.version()),
        run: ctx.run_id.clone(),
    };
    let to = AliasMove {
        version,
        routing: Vec::new(),
        revision: current.map(|a| a.revision_id.clone()),
        description: record.to_description(),
    };
    let err = match ctx.lambda.move_alias(function, alias, &to).await {
        Ok(revision) => {
            return Ok(Promoted {
                moved: Moved::Ours,
                revision,
            });
        }
        Err(e) => e,
    };
    match landed(ctx, function, alias, version).await {
        Some(found) => {
            tracing::warn!(function, %alias, %version, error = %err, moved = ?found.moved, "the alias move reported an error, but the alias serves the version");
            Ok(found)
        }
        None if err.is(ErrorKind::PreconditionFailed) || err.is(ErrorKind::Conflict) => {
            Err(StepError::new(format!(
                "alias {alias} was changed by someone else during the deployment ({}); it was left as they set it",
                err.message
            )))
        }
        None => Err(StepError::from(err)),
    }
}

/// Whether the alias serves exactly `version` now, and whose move that was.
pub async fn landed(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    version: Version,
) -> Option<Promoted> {
    let state = ctx.lambda.get_alias(function, alias).await.ok()??;
    if !state.serves_only(version) {
        return None;
    }
    let ours = state.record().is_some_and(|r| r.run == ctx.run_id);
    Some(Promoted {
        moved: if ours {
            Moved::Ours
        } else {
            Moved::ByAnotherRun
        },
        revision: Some(state.revision_id),
    })
}
