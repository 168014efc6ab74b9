//! Move the alias, the contract with callers: guarded, recorded, and checked when in doubt.

use crate::gateway::AliasState;
use crate::gateway::ErrorKind;
use crate::gateway::lambda::AliasMove;
use crate::ops::{Ctx, FailureKind, StepError};
use crate::record::{AliasRecord, MoveKind, VersionRecord};
use crate::types::{AliasName, RevisionId, Version};
use chrono::{DateTime, Utc};

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
    /// Lambda's answer showed its own transition: traffic still moving off this version.
    pub transition: Option<Version>,
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
    shift(ctx, function, alias, current, version, Vec::new(), kind).await
}

/// As [`promote`], with a canary split: `version` is the alias's own version and `routing` sends a
/// share of the traffic to another version (empty: none).
pub async fn shift(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: Option<&AliasState>,
    version: Version,
    routing: Vec<(Version, f64)>,
    kind: MoveKind,
) -> Result<Promoted, StepError> {
    let record = AliasRecord {
        kind,
        moved: ctx.clock().now_utc(),
        to: version,
        from: current.and_then(|a| a.target.version()),
        run: ctx.run_id.clone(),
        step: None,
    };
    move_recorded(ctx, function, alias, current, routing, record).await
}

/// One step of a rollout: `weight` of the traffic on `canary`, the rest on `stable`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weight {
    pub stable: Version,
    pub canary: Version,
    pub weight: f64,
    /// Which of the target's steps (1-based).
    pub step: usize,
    /// When the step's clock starts: the time its first check is counted from.
    pub at: DateTime<Utc>,
}

/// As [`shift`], for a rollout's step: the alias record carries the step and its start, so that a
/// later check can recognise this move as the deployer's own even when its answer was lost.
pub async fn set_weight(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: &AliasState,
    w: &Weight,
) -> Result<Promoted, StepError> {
    let record = AliasRecord {
        kind: MoveKind::Rollout,
        moved: w.at,
        to: w.stable,
        from: current.target.version(),
        run: ctx.run_id.clone(),
        step: Some(w.step),
    };
    let routing = vec![(w.canary, w.weight)];
    move_recorded(ctx, function, alias, Some(current), routing, record).await
}

/// The move itself: the alias's own version is the one `record` says it moves to, so the record
/// and the alias cannot disagree.
async fn move_recorded(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    current: Option<&AliasState>,
    routing: Vec<(Version, f64)>,
    record: AliasRecord,
) -> Result<Promoted, StepError> {
    let version = record.to;
    let to = AliasMove {
        version,
        routing: routing.clone(),
        revision: current.map(|a| a.revision_id.clone()),
        description: record.to_description(),
    };
    let err = match ctx.lambda.move_alias_seen(function, alias, &to).await {
        Ok((revision, transition)) => {
            return Ok(Promoted {
                moved: Moved::Ours,
                revision,
                transition,
            });
        }
        Err(e) => e,
    };
    match landed_at(ctx, function, alias, version, &routing).await {
        Some(found) => {
            tracing::warn!(function, %alias, %version, error = %err, moved = ?found.moved, "the alias move reported an error, but the alias serves the version");
            Ok(found)
        }
        None if err.is(ErrorKind::PreconditionFailed) || err.is(ErrorKind::Conflict) => {
            Err(StepError::of(
                FailureKind::Conflict,
                format!(
                    "alias {alias} was changed by someone else during the deployment ({}); it was left as they set it",
                    err.message
                ),
            ))
        }
        None => Err(StepError::from(err)),
    }
}

/// Whether the alias is exactly on `version` with `routing` now, and whose move that was.
async fn landed_at(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    version: Version,
    routing: &[(Version, f64)],
) -> Option<Promoted> {
    let state = ctx.lambda.get_alias(function, alias).await.ok()??;
    if !state.is_exactly(version, routing) {
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
        transition: state.transition,
    })
}

/// After our move was refused: the alias as it is now, if what took our place is an older push put
/// live all at once by another run of this deployer (two pushes deployed side by side, the older
/// one finishing first). The newest push must win, so the caller moves again, guarded by this
/// state; the sentence says what happened. Anything else (a person, a rollback, a rollout, a newer
/// push or one pushed at the same instant, an alias we cannot read) stays as it is: `None`.
pub async fn older_push_took_our_place(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    ours_pushed: DateTime<Utc>,
) -> Option<(AliasState, String)> {
    let state = ctx.lambda.get_alias(function, alias).await.ok()??;
    let record = state.record()?;
    let live = state.target.version()?;
    // Only the move its record describes: a person's `update-alias` keeps our old description but
    // points elsewhere, and a person is never overridden (as a reconcile sweep never fights one).
    if !state.routing.is_empty()
        || record.kind != MoveKind::Deploy
        || record.to != live
        || record.run == ctx.run_id
    {
        return None;
    }
    let code = ctx
        .lambda
        .get_function(function, Some(&live.to_string()))
        .await
        .ok()?;
    let theirs = VersionRecord::parse(&code.description)?.pushed?;
    (theirs < ours_pushed).then(|| {
        let why = format!(
            "another run put an older push live on alias {alias} (version {live}, pushed {}) while this one was tested; this newer push replaced it",
            theirs.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        (state, why)
    })
}
