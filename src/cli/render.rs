//! What the CLI prints for people: the status, history and `status --check` tables, and the exit
//! code a check ends with. The actions return data; only this file turns it into text.

use crate::actions::history::HistoryReport;
use crate::actions::status::StatusReport;
use crate::report::{Outcome, Report};
use crate::text::short_digest;
use chrono::SecondsFormat;

/// A table for people: one line per function.
pub fn status_table(r: &StatusReport) -> String {
    let header = [
        "FUNCTION", "ALIAS", "VERSION", "IMAGE", "PREVIOUS", "$LATEST", "VERSIONS",
    ];
    let mut rows: Vec<[String; 7]> = vec![header.map(str::to_owned)];
    for s in &r.functions {
        let mut image = match (&s.image_tag, &s.image_digest) {
            (Some(t), Some(d)) => format!("{t} ({})", short_digest(d)),
            (None, Some(d)) => short_digest(d),
            _ => "-".into(),
        };
        if let Some(ix) = &s.index_digest {
            image.push_str(&format!(" of index {}", short_digest(ix)));
        }
        let latest = match (&s.error, s.latest_differs) {
            (Some(_), _) => "error".into(),
            (None, Some(true)) => "differs".into(),
            (None, Some(false)) => "same".into(),
            (None, None) => "-".into(),
        };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let target = match (&s.alias_target, &s.split) {
            (Some(t), Some(sp)) => Some(format!(
                "{t} + {}% {}",
                (sp.weight * 100.0).round(),
                sp.version
            )),
            (t, _) => t.clone(),
        };
        rows.push([
            s.function.name().to_owned(),
            s.alias.to_string(),
            opt(target),
            image,
            opt(s.previous_version.map(|v| match s.previous_image_exists {
                Some(false) => format!("{v} (image gone)"),
                _ => v.to_string(),
            })),
            latest,
            opt(s.versions.map(|n| n.to_string())),
        ]);
    }
    let mut out = crate::text::table(&rows);
    for s in &r.functions {
        if let (Some(sp), Some(at)) = (&s.split, &s.next_check_at) {
            out.push_str(&format!(
                "{}: rolling out version {} ({}%), next check at {at}\n",
                s.function.name(),
                sp.version,
                (sp.weight * 100.0).round()
            ));
        }
        if let (Some(sp), true) = (&s.split, s.stalled) {
            out.push_str(&format!(
                "{}: rolling out version {} ({}%), stalled: no check is pending (a reconcile sweep schedules it again; `self-deployer rollback --function {}` ends it)\n",
                s.function.name(),
                sp.version,
                (sp.weight * 100.0).round(),
                s.function
            ));
        }
        if let (Some(old), Some(v)) = (s.traffic_moving_from, s.version) {
            out.push_str(&format!(
                "{}: Lambda is still moving traffic from version {old} to {v}\n",
                s.function.name()
            ));
        }
        if let Some(e) = &s.error {
            out.push_str(&format!("{}: {e}\n", s.function.name()));
        }
    }
    out
}

/// A table for people: one line per version, newest first, then how each alias got where it is.
pub fn history_table(r: &HistoryReport) -> String {
    let header = [
        "VERSION", "BY", "PUSHED", "TAG", "IMAGE", "PREVIOUS", "ALIASES", "NOTE",
    ];
    let mut rows: Vec<[String; 8]> = vec![header.map(str::to_owned)];
    let dash = || "-".to_owned();
    for v in &r.versions {
        let mut notes = Vec::new();
        if v.pinned {
            notes.push("pinned from $LATEST".to_owned());
        }
        if v.rolled_back {
            notes.push("rolled back".to_owned());
        }
        if let Some(d) = &v.description {
            notes.push(format!("{d:?}"));
        }
        rows.push([
            v.version.to_string(),
            v.published_by.to_owned(),
            v.pushed
                .map_or_else(dash, |t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            v.tag.clone().unwrap_or_else(dash),
            v.digest.as_deref().map_or_else(dash, short_digest),
            v.previous.map_or_else(dash, |p| p.to_string()),
            if v.aliases.is_empty() {
                dash()
            } else {
                v.aliases.join(", ")
            },
            notes.join("; "),
        ]);
    }
    let mut out = crate::text::table(&rows);
    if r.versions.len() < r.total_versions {
        out.push_str(&format!(
            "({} of {} versions shown: --limit N for more)\n",
            r.versions.len(),
            r.total_versions
        ));
    }
    for a in &r.aliases {
        let target = a.target.as_deref().unwrap_or("?");
        let split: String = a
            .split
            .iter()
            .map(|s| format!(" + {}% {}", (s.weight * 100.0).round(), s.version))
            .collect();
        let how = match &a.last_move {
            Some(m) => format!(
                "{} from {} at {} (run {})",
                m.kind,
                m.from.map_or("none".to_owned(), |v| v.to_string()),
                m.moved.to_rfc3339_opts(SecondsFormat::Secs, true),
                m.run
            ),
            None => "last set by someone else".to_owned(),
        };
        out.push_str(&format!("alias {} -> {target}{split}: {how}\n", a.name));
    }
    if let Some(d) = &r.dora {
        out.push_str(&crate::dora::render(d));
    }
    if let Some(e) = &r.error {
        out.push_str(&format!("{}: {e}\n", r.function.name()));
    }
    out
}

/// `status --check` for people: one line per function, `NAME: OUTCOME: why`.
pub fn check_table(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.deployments {
        let outcome = match d.outcome {
            Outcome::WouldDeploy => "behind",
            o => o.as_str(),
        };
        out.push_str(&format!(
            "{}: {outcome}: {}\n",
            d.function.name(),
            d.reason.as_deref().unwrap_or_default()
        ));
    }
    out
}

/// `status --check`'s exit code: 0 all in sync, 1 a function could not be read, 3 anything else
/// (behind, drifting, rolling out, or on a rejected image: production is not the newest push).
pub fn check_exit(report: &Report) -> u8 {
    if report
        .deployments
        .iter()
        .any(|d| d.outcome == Outcome::Failed)
    {
        super::EXIT_FAILED
    } else if report
        .deployments
        .iter()
        .all(|d| d.outcome == Outcome::InSync)
    {
        0
    } else {
        super::EXIT_BEHIND
    }
}

/// `status --repository`: the counts, then one line per function that is not live.
pub fn fleet_status_table(s: &crate::actions::fleet_status::FleetStatus) -> String {
    let mut out = format!("{}: {}\n", s.repository, s.summary);
    if s.exceptions.is_empty() {
        return out;
    }
    let mut rows = vec![vec![
        "FUNCTION".to_owned(),
        "PROGRESS".to_owned(),
        "RUNS".to_owned(),
        "WHY".to_owned(),
    ]];
    for e in &s.exceptions {
        let progress = serde_json::to_value(e.progress)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.push(vec![
            e.function.clone(),
            progress,
            e.runs.clone().unwrap_or_else(|| "-".into()),
            e.reason.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&crate::text::table(&rows));
    out
}

/// `status --repository`, as a table or JSON; the exit code: 1 if a function could not be read,
/// 3 while not all are live.
pub fn print_fleet_status(s: &crate::actions::fleet_status::FleetStatus, table: bool) -> u8 {
    if table {
        print!("{}", fleet_status_table(s));
    } else {
        match serde_json::to_string_pretty(s) {
            Ok(json) => println!("{json}"),
            Err(e) => eprintln!("error: could not render the status: {e}"),
        }
    }
    match (s.is_failure(), s.all_live()) {
        (true, _) => super::EXIT_FAILED,
        (false, false) => super::EXIT_BEHIND,
        (false, true) => 0,
    }
}
