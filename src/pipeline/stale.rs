//! Events that arrive late must not undo what happened after them.

use crate::gateway::{AliasState, FunctionState};
use crate::record::{MoveKind, VersionRecord};
use crate::types::ImageRef;
use chrono::{DateTime, SecondsFormat, Utc};

/// `Some(reason)` when this push event is older than what production already shows: the live
/// version records a later push, or the alias was rolled back after this image was pushed (a
/// replayed or late event must not undo a person's rollback; a new push of the same digest is a
/// later event and still deploys). Pure.
pub fn stale_event(
    alias: Option<&AliasState>,
    live: Option<&FunctionState>,
    image: &ImageRef,
    pushed: Option<DateTime<Utc>>,
) -> Option<String> {
    let pushed = pushed?;
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    if let Some(moved) = alias.and_then(AliasState::record)
        && moved.kind == MoveKind::Rollback
        && moved.moved > pushed
    {
        return Some(format!(
            "stale_event: this image was pushed at {}, before the alias was rolled back to version {} at {}; push it again (or deploy it by hand) to deploy it",
            at(pushed),
            moved.to,
            at(moved.moved),
        ));
    }
    let live = live?;
    if live.runs(&image.digest) {
        return None;
    }
    let record = VersionRecord::parse(&live.description)?;
    let live_pushed = record.pushed?;
    (live_pushed > pushed).then(|| {
        format!(
            "stale_event: this image was pushed at {}, but the live code ({}) was pushed later, at {}",
            at(pushed),
            record.tag.as_deref().unwrap_or(record.digest.as_str()),
            at(live_pushed),
        )
    })
}
