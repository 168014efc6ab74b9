//! The four DORA figures of one function over a window, from what the deployer already wrote
//! (pure): version records (push time, previous version), when each version was published, the
//! alias's last move, and which versions the alias went back past.
//!
//! - deployment frequency: versions this deployer published in the window (not pins);
//! - lead time for changes: the image's creation (its `org.opencontainers.image.created` label,
//!   recorded when it was read) to its version's publication, else its push (median);
//! - change failure rate: the share of those deployments the alias later went back past (a
//!   rollback, a rollout's gate, a failure after publishing);
//! - time to restore: from a failed version's publication to traffic leaving it (a rollback's
//!   recorded move, else the next version published; an upper bound when only the later
//!   deployment says so) (median).

use crate::gateway::lambda::{AliasInfo, VersionInfo};
use crate::record::{AliasRecord, MoveKind};
use crate::timeline::{BY_DEPLOYER, assemble};
use crate::types::Version;
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dora {
    pub days: u32,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub deployments: usize,
    pub deployments_per_day: f64,
    /// Median, over deployments whose push time is recorded.
    pub lead_time_seconds: Option<i64>,
    /// Deployments the alias later went back past.
    pub failed_changes: usize,
    pub change_failure_rate: Option<f64>,
    /// Median, over failed changes whose restore is known.
    pub time_to_restore_seconds: Option<i64>,
    pub restores: usize,
}

fn median(mut xs: Vec<i64>) -> Option<i64> {
    xs.sort_unstable();
    let n = xs.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(xs[n / 2]),
        _ => Some((xs[n / 2 - 1] + xs[n / 2]) / 2),
    }
}

/// The figures for the `days` before `now`.
pub fn figures(
    versions: &[VersionInfo],
    aliases: &[AliasInfo],
    now: DateTime<Utc>,
    days: u32,
) -> Dora {
    let since = now - Duration::days(i64::from(days));
    let published: BTreeMap<Version, DateTime<Utc>> = versions
        .iter()
        .filter_map(|v| Some((v.version, v.published?)))
        .collect();
    let (_, entries, _) = assemble(versions.to_vec(), aliases.to_vec(), usize::MAX);
    // This deployer's deployments, oldest first, with when each went live.
    let mut ours: Vec<_> = entries
        .iter()
        .filter(|e| e.published_by == BY_DEPLOYER && !e.pinned)
        .filter_map(|e| Some((e, *published.get(&e.version).or(e.pushed.as_ref())?)))
        .collect();
    ours.sort_by_key(|(e, _)| e.version);
    let rollbacks: Vec<(Version, DateTime<Utc>)> = aliases
        .iter()
        .filter_map(|a| AliasRecord::parse(&a.description))
        .filter(|r| r.kind == MoveKind::Rollback)
        .filter_map(|r| Some((r.from?, r.moved)))
        .collect();
    let in_window: Vec<_> = ours
        .iter()
        .filter(|(_, t)| *t > since && *t <= now)
        .collect();
    let lead: Vec<i64> = in_window
        .iter()
        .filter(|(e, _)| published.contains_key(&e.version))
        // The image's creation when the record has it (issue 27: "image created → live"),
        // else its push.
        .filter_map(|(e, live)| Some((*live - e.created.or(e.pushed)?).num_seconds().max(0)))
        .collect();
    let failed: Vec<_> = in_window.iter().filter(|(e, _)| e.rolled_back).collect();
    let restore: Vec<i64> = failed
        .iter()
        .filter_map(|(e, live)| {
            let by_rollback = rollbacks
                .iter()
                .filter(|(v, _)| *v == e.version)
                .map(|(_, t)| *t);
            let by_next = ours
                .iter()
                .filter(|(n, _)| n.version > e.version)
                .map(|(_, t)| *t);
            // Records keep whole seconds, Lambda's LastModified milliseconds.
            let end = by_rollback
                .chain(by_next)
                .filter(|t| *t + Duration::seconds(1) > *live)
                .min()?;
            Some((end - *live).num_seconds().max(0))
        })
        .collect();
    let n = in_window.len();
    Dora {
        days,
        since: since.with_nanosecond(0).unwrap_or(since),
        until: now.with_nanosecond(0).unwrap_or(now),
        deployments: n,
        deployments_per_day: if days == 0 {
            0.0
        } else {
            n as f64 / f64::from(days)
        },
        lead_time_seconds: median(lead),
        failed_changes: failed.len(),
        change_failure_rate: (n > 0).then(|| failed.len() as f64 / n as f64),
        restores: restore.len(),
        time_to_restore_seconds: median(restore),
    }
}

fn human(secs: Option<i64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) if s < 172_800 => format!("{:.1} h", s as f64 / 3600.0),
        Some(s) => format!("{:.1} days", s as f64 / 86_400.0),
    }
}

/// Four lines for people.
pub fn render(d: &Dora) -> String {
    let rate = d
        .change_failure_rate
        .map_or("-".into(), |r| format!("{:.0}%", r * 100.0));
    format!(
        "DORA, last {} days ({} to {}):\n  deployment frequency  {} deployments ({:.2} a day)\n  lead time for changes {} (median, image created, else pushed, to live)\n  change failure rate   {rate} ({} of {})\n  time to restore       {} (median of {})\n",
        d.days,
        d.since.format("%Y-%m-%d"),
        d.until.format("%Y-%m-%d"),
        d.deployments,
        d.deployments_per_day,
        human(d.lead_time_seconds),
        d.failed_changes,
        d.deployments,
        human(d.time_to_restore_seconds),
        d.restores,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::VersionRecord;
    use crate::types::{AliasTarget, Digest};
    use chrono::TimeZone;

    fn t(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, h, m, 0).unwrap()
    }

    fn ours(v: u64, previous: u64, pushed: DateTime<Utc>, published: DateTime<Utc>) -> VersionInfo {
        let record = VersionRecord {
            digest: Digest::parse(&format!("sha256:{:064x}", v)).unwrap(),
            previous: Version::new(previous),
            pushed: Some(pushed),
            tag: Some(format!("v{v}")),
            pinned: false,
            index: None,
            created: None,
        };
        VersionInfo {
            version: Version::new(v).unwrap(),
            description: record.to_description(),
            code_sha256: None,
            published: Some(published),
        }
    }

    /// v1 someone else's; v2 fine; v3 bad, found out when v4 was deployed from v2 (a rollback in
    /// between); v5 bad, rolled back to v4 by hand; v6 published 40 days before, outside.
    fn history() -> (Vec<VersionInfo>, Vec<AliasInfo>) {
        let mut versions = vec![
            VersionInfo {
                version: Version::new(1).unwrap(),
                description: "by hand".into(),
                code_sha256: None,
                published: Some(t(2, 9, 0)),
            },
            ours(2, 1, t(20, 10, 0), t(20, 10, 5)),
            ours(3, 2, t(21, 12, 0), t(21, 12, 10)),
            ours(4, 2, t(21, 13, 0), t(21, 13, 10)),
            ours(5, 4, t(22, 9, 0), t(22, 9, 20)),
        ];
        // Far outside the window (published in October).
        let mut old = ours(6, 5, t(1, 0, 0), t(1, 0, 5));
        old.version = Version::new(6).unwrap();
        old.published = Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 5, 0).unwrap());
        versions.push(old);
        let rollback = AliasRecord {
            kind: MoveKind::Rollback,
            moved: t(22, 9, 50),
            to: Version::new(4).unwrap(),
            from: Version::new(5),
            run: "r".into(),
            step: None,
        };
        let aliases = vec![AliasInfo {
            name: "live".into(),
            target: AliasTarget::parse("4"),
            routing: vec![],
            description: rollback.to_description(),
        }];
        (versions, aliases)
    }

    #[test]
    fn the_four_figures_of_a_known_history() {
        let (versions, aliases) = history();
        let d = figures(&versions, &aliases, t(30, 0, 0), 30);
        assert_eq!(
            d.deployments, 4,
            "v2 to v5: not someone else's v1 nor v6 outside the window"
        );
        assert!((d.deployments_per_day - 4.0 / 30.0).abs() < 1e-9);
        // Leads 300, 600, 600, 1200 s.
        assert_eq!(d.lead_time_seconds, Some(600));
        assert_eq!((d.failed_changes, d.change_failure_rate), (2, Some(0.5)));
        // v3: 12:10 to v4's 13:10 (3600 s); v5: 09:20 to the rollback at 09:50 (1800 s).
        assert_eq!((d.restores, d.time_to_restore_seconds), (2, Some(2700)));
        assert_eq!(
            render(&d),
            "DORA, last 30 days (2026-10-31 to 2026-11-30):\n  deployment frequency  4 deployments (0.13 a day)\n  lead time for changes 10 min (median, image created, else pushed, to live)\n  change failure rate   50% (2 of 4)\n  time to restore       45 min (median of 2)\n"
        );
    }

    #[test]
    fn lead_time_counts_from_the_images_created_label_when_recorded() {
        let (mut versions, aliases) = history();
        // v5 (pushed 09:00, published 09:20) was built at 08:00: its lead is 80 min, not 20.
        let v5 = &mut versions[4];
        let mut r = VersionRecord::parse(&v5.description).unwrap();
        r.created = Some(t(22, 8, 0));
        v5.description = r.to_description();
        let d = figures(&versions, &aliases, t(22, 23, 0), 1);
        assert_eq!(d.lead_time_seconds, Some(80 * 60));
        // Over the month: leads 300, 600, 600 (pushed) and 4800 (created).
        let d = figures(&versions, &aliases, t(30, 0, 0), 30);
        assert_eq!(d.lead_time_seconds, Some(600));
    }

    #[test]
    fn a_narrow_window_and_an_empty_one() {
        let (versions, aliases) = history();
        let d = figures(&versions, &aliases, t(22, 23, 0), 1);
        assert_eq!(d.deployments, 1, "only v5");
        assert_eq!(d.lead_time_seconds, Some(1200));
        assert_eq!(d.time_to_restore_seconds, Some(1800));
        let d = figures(&[], &[], t(22, 12, 0), 30);
        assert_eq!(
            (d.deployments, d.change_failure_rate, d.lead_time_seconds),
            (0, None, None)
        );
    }

    #[test]
    fn a_rollback_in_the_second_of_publication_counts() {
        let published = t(22, 9, 20) + Duration::milliseconds(470);
        let v = ours(2, 1, t(22, 9, 0), published);
        let rollback = AliasRecord {
            kind: MoveKind::Rollback,
            moved: t(22, 9, 20),
            to: Version::new(1).unwrap(),
            from: Version::new(2),
            run: "r".into(),
            step: None,
        };
        let alias = AliasInfo {
            name: "live".into(),
            target: AliasTarget::parse("1"),
            routing: vec![],
            description: rollback.to_description(),
        };
        let d = figures(&[v], &[alias], t(23, 0, 0), 30);
        assert_eq!((d.restores, d.time_to_restore_seconds), (1, Some(0)));
    }
}
