//! Step 5: freeze exactly the smoke-tested code into an immutable version.

use crate::aws::{Clock, describe, error_code, is_precondition_failed};
use crate::deploy::StepError;
use crate::deploy::poll::until_settled;
use crate::types::{Digest, RevisionId, Version};
use aws_sdk_lambda::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use std::time::Duration;

/// Lambda's limit on a version description.
pub const MAX_DESCRIPTION: usize = 256;
const MARK: &str = "self-deployer";

/// What the deployer writes into each version it publishes, machine-readable, so that rollback
/// knows the previous version exactly and a stale event can be told from a new one.
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
}

impl VersionRecord {
    /// `self-deployer digest=sha256:… previous=41 pushed=2026-11-26T07:00:00Z tag=v1.2`, at most
    /// 256 characters. The tag goes last so that only it is shortened when a long tag would not fit.
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
            s.push_str(&format!(
                " pushed={}",
                t.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
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
        let (mut digest, mut previous, mut pushed, mut tag, mut pinned) =
            (None, None, None, None, false);
        for w in words {
            match w.split_once('=') {
                Some(("digest", d)) => digest = Some(Digest::parse(d).ok()?),
                Some(("previous", "none")) => previous = None,
                Some(("previous", v)) => previous = Some(Version::parse(v)?),
                Some(("pushed", t)) => {
                    pushed = Some(DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc))
                }
                Some(("tag", t)) => tag = Some(t.to_owned()),
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
        })
    }
}

/// `PublishVersion` guarded twice: `CodeSha256` is the code that passed the smoke test, and
/// `RevisionId` is the function as it was then. If anyone changed code or configuration in
/// between, Lambda refuses and nothing untested becomes a version. Waits until the new version
/// is Active, so the alias never moves to a version that cannot start yet.
pub async fn publish(
    lambda: &Client,
    clock: &Clock,
    function: &str,
    code_sha256: &str,
    revision: Option<&RevisionId>,
    description: &str,
    timeout: Duration,
) -> Result<Version, StepError> {
    let out = lambda
        .publish_version()
        .function_name(function)
        .code_sha256(code_sha256)
        .set_revision_id(revision.map(|r| r.as_str().to_owned()))
        .description(description)
        .send()
        .await
        .map_err(|e| {
            // A RevisionId mismatch is PreconditionFailed; a CodeSha256 mismatch comes back as
            // InvalidParameterValue ("CodeSHA256 (...) is different from current CodeSHA256").
            let sha_mismatch = error_code(&e) == Some("InvalidParameterValueException")
                && describe(&e).to_ascii_lowercase().contains("codesha256");
            if is_precondition_failed(&e) || sha_mismatch {
                StepError::concurrent(format!(
                    "the function changed after the smoke test ({}); nothing was published",
                    describe(&e)
                ))
            } else {
                StepError::new(format!("PublishVersion failed: {}", describe(&e)))
            }
        })?;
    let version = out.version().and_then(Version::parse).ok_or_else(|| {
        StepError::new(format!(
            "PublishVersion returned {:?}, not a version number",
            out.version()
        ))
    })?;
    // Belt and braces: Lambda enforces the CodeSha256 guard; a response that contradicts it
    // (an emulator, a bug) must still not reach the alias.
    if let Some(sha) = out.code_sha256().filter(|sha| *sha != code_sha256) {
        return Err(StepError::concurrent(format!(
            "version {version} has CodeSha256 {sha}, not the smoke-tested {code_sha256}"
        )));
    }
    let pending = matches!(out.state(), Some(aws_sdk_lambda::types::State::Pending));
    if pending {
        let settled =
            until_settled(lambda, clock, function, Some(&version.to_string()), timeout).await?;
        if let Some(why) = settled.state.update_failure() {
            return Err(StepError::new(format!(
                "version {version} did not become active: {why}"
            )));
        }
    }
    Ok(version)
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
}
