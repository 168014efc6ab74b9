//! The one-time schedules that bring a rollout's next check: names, times, payloads.
//!
//! A name is deterministic per (function, alias, version, step, due time), so a duplicate delivery
//! of a check creates the same schedule (and EventBridge Scheduler refuses the second), and all of
//! a rollout's schedules share a prefix per (function, alias, version), so a pending one can be
//! found and deleted without a database.

use crate::input::AdvanceRequest;
use crate::types::{AliasName, FunctionRef, Version};
use chrono::{DateTime, TimeZone, Utc};

/// `sd-` and 12 hex digits naming (function, alias): function names alone may take 64 characters.
pub fn alias_prefix(function: &FunctionRef, alias: &AliasName) -> String {
    format!("sd-{}-", hash12(function.as_str(), alias.as_str()))
}

/// 12 hex digits naming the pair (`a`, `b`): FNV-1a, 64 bits, stable across releases and
/// platforms, unlike std's hasher. Also names stage promotion checks (`crate::stages`).
pub fn hash12(a: &str, b: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.bytes().chain([0]).chain(b.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
}

/// The prefix of every schedule of one rollout.
pub fn version_prefix(function: &FunctionRef, alias: &AliasName, version: Version) -> String {
    format!("{}{version}-", alias_prefix(function, alias))
}

/// At most 64 characters of `[0-9a-zA-Z-_.]`: `sd-<12 hex>-<version>-s<step>-<yyyymmddThhmmss>`.
pub fn name(c: &AdvanceRequest, due: DateTime<Utc>) -> String {
    format!(
        "{}s{}-{}",
        version_prefix(&c.function, &c.alias, c.version),
        c.step,
        due.format("%Y%m%dT%H%M%S")
    )
}

/// The due time a schedule's name carries.
pub fn due_of(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.rsplit('-').next()?;
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S").ok()?;
    Some(Utc.from_utc_datetime(&naive))
}

/// The version a schedule's name belongs to, given the (function, alias) prefix.
pub fn version_of(name: &str, alias_prefix: &str) -> Option<Version> {
    Version::parse(name.strip_prefix(alias_prefix)?.split('-').next()?)
}

/// The next `started + k × check_secs` (k ≥ 1) still ahead of `now`, to the second: derived from
/// the check's own payload, so a duplicate delivery names the same schedule.
pub fn next_due(started: DateTime<Utc>, check_secs: u64, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = chrono::Duration::seconds(check_secs.max(1) as i64);
    let mut due = started + step;
    if due <= now {
        let behind = (now - started).num_seconds().max(0) as u64;
        let k = behind / check_secs.max(1) + 1;
        due = started + chrono::Duration::seconds((k * check_secs.max(1)) as i64);
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> AdvanceRequest {
        AdvanceRequest {
            function: FunctionRef::parse(&"f".repeat(64)).unwrap(),
            alias: AliasName::parse(&"a".repeat(128)).unwrap(),
            version: Version::new(9_999_999_999).unwrap(),
            stable_version: Version::new(4).unwrap(),
            step: 12,
            started: Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 7).unwrap(),
            tally: Default::default(),
        }
    }

    #[test]
    fn names_are_short_safe_deterministic_and_carry_their_due_time() {
        let c = req();
        let due = Utc.with_ymd_and_hms(2026, 11, 28, 15, 1, 7).unwrap();
        let n = name(&c, due);
        assert!(n.len() <= 64, "{n} is {} long", n.len());
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{n}"
        );
        assert_eq!(n, name(&c, due));
        assert!(n.starts_with(&version_prefix(&c.function, &c.alias, c.version)));
        assert_eq!(due_of(&n), Some(due));
        let p = alias_prefix(&c.function, &c.alias);
        assert_eq!(version_of(&n, &p), Some(c.version));
        let other = AliasName::parse("live").unwrap();
        assert_ne!(alias_prefix(&c.function, &other), p);
    }

    #[test]
    fn the_next_check_is_the_first_period_boundary_ahead() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap();
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        assert_eq!(next_due(t0, 60, t0), at(60));
        assert_eq!(next_due(t0, 60, at(59)), at(60));
        assert_eq!(next_due(t0, 60, at(60)), at(120));
        assert_eq!(next_due(t0, 60, at(61)), at(120));
        assert_eq!(next_due(t0, 300, at(901)), at(1200));
    }
}
