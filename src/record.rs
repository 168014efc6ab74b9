//! What the deployer writes where the next run can read it, without a database: into the
//! description of each version it publishes, and of the alias each time it moves it.
//!
//! The version record makes rollback exact (`previous=`) and tells a stale event from a new one
//! (`pushed=`). The alias record says who moved the alias last, how and when: a replayed push older
//! than the last rollback must not undo it, and a run whose response was lost can recognise its own
//! move (`run=`).

use crate::types::{Digest, Tag, Version};
use chrono::{DateTime, SecondsFormat, Utc};

/// Lambda's limit on a version or alias description.
pub const MAX_DESCRIPTION: usize = 256;
const MARK: &str = "self-deployer";

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc))
}

/// What the deployer writes into each version it publishes, machine-readable.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub digest: Digest,
    /// The version the alias pointed to before this one went live (`None`: first deployment).
    pub previous: Option<Version>,
    /// When the image was pushed (the event time).
    pub pushed: Option<DateTime<Utc>>,
    pub tag: Option<String>,
    /// Published only to freeze what an alias on `$LATEST` served, not from a push.
    pub pinned: bool,
    /// The image index the push named, when `digest` is the image chosen from it for this
    /// function's architecture.
    pub index: Option<Digest>,
    /// The image's `org.opencontainers.image.created` label, when its config was read: what
    /// `history --dora` counts lead time from (else `pushed`). Records written before it lack it.
    pub created: Option<DateTime<Utc>>,
}

impl VersionRecord {
    /// `self-deployer digest=sha256:… previous=41 pushed=2026-11-26T07:00:00Z tag=v1.2`, at most
    /// 256 characters. The tag goes last so that only it is shortened when a long tag would not fit;
    /// the created time gives way when it alone would cut the tag (a 40-hex commit tag names the
    /// commit GitHub deploys and a stage promotion carries on; without `created`, history's lead
    /// time counts from `pushed`).
    pub fn to_description(&self) -> String {
        let mut s = String::from(MARK);
        if self.pinned {
            s.push_str(" pinned");
        }
        s.push_str(&format!(" digest={}", self.digest));
        s.push_str(" previous=");
        match self.previous {
            Some(v) => s.push_str(&v.to_string()),
            None => s.push_str("none"),
        }
        if let Some(t) = self.pushed {
            s.push_str(&format!(" pushed={}", rfc3339(t)));
        }
        if let Some(ix) = &self.index {
            s.push_str(&format!(" index={ix}"));
        }
        if let Some(t) = self.created {
            let created = format!(" created={}", rfc3339(t));
            let tag = self.tag.as_ref().map_or(0, |t| " tag=".len() + t.len());
            let whole_tag_fits = |extra: usize| s.len() + extra + tag <= MAX_DESCRIPTION;
            // Left out only when it alone would cut a tag that fits whole without it.
            if whole_tag_fits(created.len()) || !whole_tag_fits(0) {
                s.push_str(&created);
            }
        }
        if let Some(tag) = &self.tag {
            let room = MAX_DESCRIPTION.saturating_sub(s.len() + " tag=".len());
            if room >= 2 {
                // Tags are ASCII, so a byte count is a character count.
                let tag = if tag.len() > room {
                    format!("{}~", &tag[..room - 1])
                } else {
                    tag.clone()
                };
                s.push_str(&format!(" tag={tag}"));
            }
        }
        s
    }

    /// Reads a description written by [`to_description`]; `None` for anyone else's description.
    pub fn parse(description: &str) -> Option<Self> {
        let mut words = description.split_whitespace();
        if words.next()? != MARK {
            return None;
        }
        let (mut digest, mut previous, mut pushed, mut tag, mut pinned, mut index) =
            (None, None, None, None, false, None);
        let mut created = None;
        for w in words {
            match w.split_once('=') {
                Some(("digest", d)) => digest = Some(Digest::parse(d).ok()?),
                Some(("previous", "none")) => previous = None,
                Some(("previous", v)) => previous = Some(Version::parse(v)?),
                Some(("pushed", t)) => pushed = Some(parse_time(t)?),
                Some(("tag", t)) => tag = Some(t.to_owned()),
                Some(("index", d)) => index = Some(Digest::parse(d).ok()?),
                // Another tool's label could be anything: unreadable is unknown, not a bad record.
                Some(("created", t)) => created = parse_time(t),
                None if w == "pinned" => pinned = true,
                _ => {} // Fields added by later releases are ignored, not fatal.
            }
        }
        Some(Self {
            digest: digest?,
            previous,
            pushed,
            tag,
            pinned,
            index,
            created,
        })
    }

    pub fn new(
        digest: Digest,
        previous: Option<Version>,
        pushed: Option<DateTime<Utc>>,
        tag: Option<&Tag>,
    ) -> Self {
        Self {
            digest,
            previous,
            pushed,
            tag: tag.map(|t| t.to_string()),
            pinned: false,
            index: None,
            created: None,
        }
    }

    /// The same, with the image's created label (when it was read).
    pub fn created(self, created: Option<DateTime<Utc>>) -> Self {
        Self { created, ..self }
    }

    /// The same, for an image chosen from image index `index` (when there is one).
    pub fn chosen_from(self, index: Option<&Digest>) -> Self {
        Self {
            index: index.cloned(),
            ..self
        }
    }
}

/// Why the alias moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    Deploy,
    Rollback,
    /// Frozen from `$LATEST` onto a version, serving the same code.
    Pin,
    /// A rollout's weight set (the alias keeps its version, part of the traffic goes to the new).
    Rollout,
}

impl MoveKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MoveKind::Deploy => "deploy",
            MoveKind::Rollback => "rollback",
            MoveKind::Pin => "pin",
            MoveKind::Rollout => "rollout",
        }
    }
}

/// What the deployer writes into the alias's description with every move.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    pub kind: MoveKind,
    pub moved: DateTime<Utc>,
    pub to: Version,
    pub from: Option<Version>,
    /// The run that made the move (the Lambda request id, or the CLI's own id).
    pub run: String,
    /// A rollout's weight: which of the target's steps it is (1-based). With the alias's split it
    /// tells the deployer's own weight (whose answer may have been lost) from a person's change
    /// that kept the description; `moved` is when that step's clock started. `None` in records
    /// written before steps were recorded, and for every other kind of move.
    pub step: Option<usize>,
}

impl AliasRecord {
    /// `self-deployer moved=2026-11-28T15:00:00Z kind=rollback to=2 from=3 run=…` (and ` step=2`
    /// for a rollout's weight, before the run so that a long run id is what gets shortened).
    pub fn to_description(&self) -> String {
        let from = self.from.map_or("none".to_owned(), |v| v.to_string());
        let step = self.step.map(|n| format!(" step={n}")).unwrap_or_default();
        let s = format!(
            "{MARK} moved={} kind={} to={} from={from}{step} run={}",
            rfc3339(self.moved),
            self.kind.as_str(),
            self.to,
            self.run
        );
        crate::text::truncate(&s, MAX_DESCRIPTION)
    }

    pub fn parse(description: &str) -> Option<Self> {
        let mut words = description.split_whitespace();
        if words.next()? != MARK {
            return None;
        }
        let (mut kind, mut moved, mut to, mut from, mut run) = (None, None, None, None, None);
        let mut step = None;
        for w in words {
            match w.split_once('=') {
                Some(("moved", t)) => moved = Some(parse_time(t)?),
                Some(("kind", "deploy")) => kind = Some(MoveKind::Deploy),
                Some(("kind", "rollback")) => kind = Some(MoveKind::Rollback),
                Some(("kind", "pin")) => kind = Some(MoveKind::Pin),
                Some(("kind", "rollout")) => kind = Some(MoveKind::Rollout),
                Some(("to", v)) => to = Some(Version::parse(v)?),
                Some(("from", "none")) => from = None,
                Some(("from", v)) => from = Some(Version::parse(v)?),
                Some(("run", r)) => run = Some(r.to_owned()),
                Some(("step", n)) => step = Some(n.parse::<usize>().ok().filter(|n| *n > 0)?),
                _ => {}
            }
        }
        Some(Self {
            kind: kind?,
            moved: moved?,
            to: to?,
            from,
            run: run?,
            step,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rec(tag: Option<&str>) -> VersionRecord {
        VersionRecord {
            digest: Digest::parse(&format!("sha256:{}", "b".repeat(64))).unwrap(),
            previous: Version::new(41),
            pushed: Some(Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap()),
            tag: tag.map(str::to_owned),
            pinned: false,
            index: None,
            created: None,
        }
    }

    #[test]
    fn description_round_trips() {
        let r = rec(Some("sha-abc123"));
        let d = r.to_description();
        assert_eq!(
            d,
            format!(
                "self-deployer digest=sha256:{} previous=41 pushed=2026-11-26T07:00:00Z tag=sha-abc123",
                "b".repeat(64)
            )
        );
        assert_eq!(VersionRecord::parse(&d), Some(r));
        let first = VersionRecord {
            previous: None,
            tag: None,
            pinned: true,
            ..rec(None)
        };
        assert_eq!(VersionRecord::parse(&first.to_description()), Some(first));
    }

    #[test]
    fn the_images_created_time_is_recorded_and_old_or_odd_records_still_parse() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T06:40:00Z")
            .unwrap()
            .to_utc();
        let r = VersionRecord {
            index: Some(Digest::parse(&format!("sha256:{}", "f".repeat(64))).unwrap()),
            ..rec(Some(&"t".repeat(128)))
        }
        .created(Some(at));
        let d = r.to_description();
        assert!(d.len() <= MAX_DESCRIPTION, "{}", d.len());
        assert!(d.contains(" created=2026-11-26T06:40:00Z tag=t"), "{d}");
        assert_eq!(VersionRecord::parse(&d).unwrap().created, Some(at));
        // Written before the field existed: no created time, the rest as before.
        let old = format!(
            "self-deployer digest=sha256:{} previous=41 pushed=2026-11-26T07:00:00Z tag=v1",
            "b".repeat(64)
        );
        let back = VersionRecord::parse(&old).unwrap();
        assert_eq!((back.created, back.previous), (None, Version::new(41)));
        // An unreadable time is unknown, never a rejected record.
        let odd = old.replace(" tag=v1", " created=yesterday tag=v1");
        let back = VersionRecord::parse(&odd).unwrap();
        assert_eq!((back.created, back.tag.as_deref()), (None, Some("v1")));
    }

    #[test]
    fn an_index_is_recorded_with_the_image_chosen_from_it_and_a_long_tag_still_fits() {
        let r = VersionRecord {
            index: Some(Digest::parse(&format!("sha256:{}", "f".repeat(64))).unwrap()),
            ..rec(Some(&"t".repeat(128)))
        };
        let d = r.to_description();
        assert!(d.len() <= MAX_DESCRIPTION, "{}", d.len());
        assert!(d.contains(&format!(" index=sha256:{} tag=t", "f".repeat(64))));
        let back = VersionRecord::parse(&d).unwrap();
        assert_eq!(
            (back.digest, back.index),
            (r.digest.clone(), r.index.clone())
        );
    }

    #[test]
    fn a_commit_tag_keeps_its_place_before_the_created_time() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let at = "2026-11-26T06:40:00Z".parse().unwrap();
        let with_index = VersionRecord {
            index: Some(Digest::parse(&format!("sha256:{}", "f".repeat(64))).unwrap()),
            ..rec(Some(sha))
        }
        .created(Some(at));
        let d = with_index.to_description();
        assert!(d.len() <= MAX_DESCRIPTION, "{}", d.len());
        let back = VersionRecord::parse(&d).unwrap();
        assert_eq!(back.tag.as_deref(), Some(sha), "{d}");
        assert_eq!(back.created, None, "{d}");
        // With room for both, both are kept.
        let plain = rec(Some(sha)).created(Some(at)).to_description();
        let back = VersionRecord::parse(&plain).unwrap();
        assert_eq!((back.tag.as_deref(), back.created), (Some(sha), Some(at)));
    }

    #[test]
    fn long_tags_are_shortened_to_fit_256_characters() {
        let long = "t".repeat(128);
        let d = rec(Some(&long)).to_description();
        assert_eq!(d.len(), MAX_DESCRIPTION);
        assert!(d.ends_with("t~"));
        let back = VersionRecord::parse(&d).unwrap();
        assert_eq!(back.previous, Version::new(41));
        assert_eq!(back.digest, rec(None).digest);
    }

    #[test]
    fn foreign_descriptions_are_not_records() {
        assert_eq!(VersionRecord::parse(""), None);
        assert_eq!(VersionRecord::parse("release 1.2 by jenkins"), None);
        assert_eq!(
            VersionRecord::parse("self-deployer previous=3"),
            None,
            "no digest"
        );
        assert_eq!(
            VersionRecord::parse("self-deployer digest=sha256:12 previous=3"),
            None
        );
        let d = format!(
            "self-deployer digest=sha256:{} previous=41 future=x",
            "c".repeat(64)
        );
        assert_eq!(VersionRecord::parse(&d).unwrap().previous, Version::new(41));
    }

    #[test]
    fn alias_records_round_trip_and_ignore_foreign_text() {
        let r = AliasRecord {
            kind: MoveKind::Rollback,
            moved: Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap(),
            to: Version::new(2).unwrap(),
            from: Version::new(3),
            run: "3f1c-aa".into(),
            step: None,
        };
        let d = r.to_description();
        assert_eq!(
            d,
            "self-deployer moved=2026-11-28T15:00:00Z kind=rollback to=2 from=3 run=3f1c-aa"
        );
        assert_eq!(AliasRecord::parse(&d), Some(r));
        assert_eq!(AliasRecord::parse("managed by self-deployer"), None);
        assert_eq!(AliasRecord::parse("self-deployer kind=deploy"), None);
    }

    #[test]
    fn a_rollout_records_its_step_and_old_records_still_parse() {
        let r = AliasRecord {
            kind: MoveKind::Rollout,
            moved: Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap(),
            to: Version::new(1).unwrap(),
            from: Version::new(1),
            run: "r-9".into(),
            step: Some(2),
        };
        let d = r.to_description();
        assert_eq!(
            d,
            "self-deployer moved=2026-11-28T15:00:00Z kind=rollout to=1 from=1 step=2 run=r-9"
        );
        assert_eq!(AliasRecord::parse(&d), Some(r));
        let old = "self-deployer moved=2026-11-28T15:00:00Z kind=rollout to=1 from=1 run=r-9";
        assert_eq!(AliasRecord::parse(old).unwrap().step, None);
        for bad in ["step=0", "step=x", "step=-1"] {
            let d =
                format!("self-deployer moved=2026-11-28T15:00:00Z kind=rollout to=1 {bad} run=r");
            assert_eq!(AliasRecord::parse(&d), None, "{bad}");
        }
    }
}
