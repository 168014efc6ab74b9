//! A function's versions and aliases as a timeline, from what Lambda lists and the records the
//! deployer writes (pure): what `history` shows and what the DORA figures are computed from.

use crate::gateway::lambda::{AliasInfo, VersionInfo};
use crate::record::{AliasRecord, MoveKind, VersionRecord};
use crate::types::{Digest, Version};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// A share of an alias's traffic on another version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Split {
    pub version: Version,
    pub weight: f64,
}

/// Who published a version: this deployer (its description is a version record), or anyone else.
pub const BY_DEPLOYER: &str = "self-deployer";
pub const BY_OTHER: &str = "other";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliasNow {
    pub name: String,
    /// A version number, or `$LATEST`.
    pub target: Option<String>,
    /// A canary split: another version and its share of traffic (0-1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<Split>,
    /// The last move, as this deployer recorded it; `None` when someone else set the alias last.
    pub last_move: Option<Move>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// `deploy`, `rollback` or `pin`.
    pub kind: &'static str,
    pub moved: DateTime<Utc>,
    pub from: Option<Version>,
    pub to: Version,
    pub run: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionEntry {
    pub version: Version,
    /// `self-deployer`, or `other` when the description is not a record of this deployer.
    pub published_by: &'static str,
    /// The image: as recorded, or, for others' versions, Lambda's CodeSha256 (for an image
    /// function, the manifest digest).
    pub digest: Option<String>,
    /// The image index the push named, when `digest` was chosen from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// Whether `digest` still exists in the target's repository (a rollback to a version whose
    /// image is gone is refused); absent when it could not be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_exists: Option<bool>,
    pub tag: Option<String>,
    /// When the image was pushed (from the ECR event).
    pub pushed: Option<DateTime<Utc>>,
    /// The image's `org.opencontainers.image.created` label, when it was read at the deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// The version the alias pointed to before this one went live.
    pub previous: Option<Version>,
    /// Published only to freeze what an alias on `$LATEST` served.
    pub pinned: bool,
    /// The aliases that send traffic to it now (`live`, or `live (10%)` for a split).
    pub aliases: Vec<String>,
    /// The alias went back past this version: an alias's last move was a rollback from it, or a
    /// later deployment recorded an earlier version as its previous (so this one was no longer
    /// live then).
    pub rolled_back: bool,
    /// Someone else's description, as they wrote it (bounded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The report's aliases and versions from what Lambda listed. Pure, so every inference is tested
/// without AWS.
pub fn assemble(
    versions: Vec<VersionInfo>,
    aliases: Vec<AliasInfo>,
    limit: usize,
) -> (Vec<AliasNow>, Vec<VersionEntry>, usize) {
    let aliases_now: Vec<AliasNow> = aliases.iter().map(alias_now).collect();

    let records: Vec<(VersionInfo, Option<VersionRecord>)> = versions
        .into_iter()
        .map(|v| {
            let r = VersionRecord::parse(&v.description);
            (v, r)
        })
        .collect();
    let ours: BTreeSet<Version> = records
        .iter()
        .filter(|(_, r)| r.as_ref().is_some_and(|r| !r.pinned))
        .map(|(v, _)| v.version)
        .collect();

    let rolled_back = rolled_back(&aliases, &records, &ours);

    let total = records.len();
    let mut entries: Vec<VersionEntry> = records
        .into_iter()
        .map(|(v, r)| entry(v, r, &aliases, &rolled_back))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.version));
    entries.truncate(limit);
    (aliases_now, entries, total)
}

fn alias_now(a: &AliasInfo) -> AliasNow {
    AliasNow {
        name: a.name.clone(),
        target: a.target.map(|t| t.to_string()),
        split: a
            .routing
            .iter()
            .map(|(v, w)| Split {
                version: *v,
                weight: *w,
            })
            .collect(),
        last_move: AliasRecord::parse(&a.description).map(|r| Move {
            kind: r.kind.as_str(),
            moved: r.moved,
            from: r.from,
            to: r.to,
            run: r.run,
        }),
    }
}

/// The versions the alias went back past: a rollback moved it off that version, or a later
/// deployment found the alias on an earlier one (its `previous`).
fn rolled_back(
    aliases: &[AliasInfo],
    records: &[(VersionInfo, Option<VersionRecord>)],
    ours: &BTreeSet<Version>,
) -> BTreeSet<Version> {
    let mut rolled_back: BTreeSet<Version> = aliases
        .iter()
        .filter_map(|a| AliasRecord::parse(&a.description))
        .filter(|r| r.kind == MoveKind::Rollback)
        .filter_map(|r| r.from)
        .collect();
    for (v, r) in records {
        let Some(previous) = r.as_ref().filter(|r| !r.pinned).and_then(|r| r.previous) else {
            continue;
        };
        rolled_back.extend(ours.range(..v.version).filter(|x| **x > previous).copied());
    }
    rolled_back
}

/// One version's line: who published it, from what, which aliases serve it.
fn entry(
    v: VersionInfo,
    r: Option<VersionRecord>,
    aliases: &[AliasInfo],
    rolled_back: &BTreeSet<Version>,
) -> VersionEntry {
    let live_now = aliases
        .iter()
        .any(|a| a.target.and_then(|t| t.version()) == Some(v.version));
    let serving: Vec<String> = aliases
        .iter()
        .filter_map(|a| {
            if a.target.and_then(|t| t.version()) == Some(v.version) {
                Some(a.name.clone())
            } else {
                a.routing
                    .iter()
                    .find(|(rv, _)| *rv == v.version)
                    .map(|(_, w)| format!("{} ({}%)", a.name, (w * 100.0).round()))
            }
        })
        .collect();
    // A version an alias serves whole again is live, not rolled back.
    let is_rolled_back = rolled_back.contains(&v.version) && !live_now;
    match r {
        Some(r) => VersionEntry {
            version: v.version,
            published_by: BY_DEPLOYER,
            digest: Some(r.digest.to_string()),
            index_digest: r.index.map(|d| d.to_string()),
            image_exists: None,
            tag: r.tag,
            pushed: r.pushed,
            created: r.created,
            previous: r.previous,
            pinned: r.pinned,
            aliases: serving,
            rolled_back: is_rolled_back,
            description: None,
        },
        None => VersionEntry {
            version: v.version,
            published_by: BY_OTHER,
            digest: v
                .code_sha256
                .as_deref()
                .and_then(Digest::from_code_sha256)
                .map(|d| d.to_string()),
            index_digest: None,
            image_exists: None,
            tag: None,
            pushed: None,
            created: None,
            previous: None,
            pinned: false,
            aliases: serving,
            rolled_back: is_rolled_back,
            description: Some(crate::text::truncate(
                &crate::text::one_line(&v.description),
                256,
            ))
            .filter(|d| !d.trim().is_empty()),
        },
    }
}
