//! What GitHub is told about one function's run (pure): which deployment, and its statuses; and
//! how GitHub's answers and an image's labels are read.

use crate::report::{ActionKind, Deployment, Outcome, Report, Told};
use crate::types::Version;
use serde_json::Value;

/// The sink's name, under which its id is kept on a deployment (`AtStart`).
pub const SINK: &str = "github";

/// GitHub's limit on a status's description.
pub const MAX_DESCRIPTION: usize = 140;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    InProgress,
    Success,
    Failure,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::InProgress => "in_progress",
            State::Success => "success",
            State::Failure => "failure",
        }
    }
}

/// Which GitHub deployment the statuses go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// A new deployment of the run's image (its commit from the image or its tag): the run
    /// failed before its deployment started (an image check), so none was created then.
    New,
    /// The deployment created when this run's deployment started (`in_progress` already told).
    Started(u64),
    /// The deployment an earlier run created for this version (a rollout's later steps).
    Existing(Version),
    /// A new deployment of the commit that `version` was deployed from (a manual rollback).
    CommitOf(Version),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub which: Which,
    /// The version the deployment is of (its payload).
    pub version: Option<Version>,
    pub statuses: Vec<(State, String)>,
}

/// A status description within GitHub's 140 characters.
pub fn describe(s: &str) -> String {
    crate::text::truncate(&crate::text::one_line(s), MAX_DESCRIPTION)
}

fn pct(weight: f64) -> String {
    format!("{}%", (weight * 100.0).round() as i64)
}

fn failure(d: &Deployment) -> String {
    let step = d
        .failed_step
        .map(|s| format!(" at {}", crate::report::step_name(s)))
        .unwrap_or_default();
    let why = d.reason.as_deref().unwrap_or("failed");
    describe(&format!("failed{step}: {why}"))
}

/// What to tell GitHub about `d`, or `None` when this run is nothing GitHub should show (a dry
/// run, a duplicate, a skip, a dispatch, a check that only confirmed the weight).
pub fn plan(report: &Report, d: &Deployment) -> Option<Plan> {
    if report.dry_run {
        return None;
    }
    match report.action {
        ActionKind::Deploy | ActionKind::PromoteStage | ActionKind::Reconcile => push(report, d),
        ActionKind::Advance | ActionKind::Promote => {
            let r = d.rollout.as_ref()?;
            let status = match d.outcome {
                Outcome::RollingOut if r.weight_changed => (State::InProgress, rollout_step(d)?.1),
                Outcome::Deployed => (
                    State::Success,
                    describe(&format!("v{} live on {}", r.new_version, d.alias)),
                ),
                // A gate or an alarm ended the rollout (the check reports it failed at `rollout`).
                Outcome::RolledBack | Outcome::Failed => (State::Failure, failure(d)),
                _ => return None,
            };
            Some(Plan {
                which: Which::Existing(r.new_version),
                version: Some(r.new_version),
                statuses: vec![status],
            })
        }
        ActionKind::Rollback => match (d.outcome, d.version) {
            (Outcome::RolledBack, Some(v)) => {
                let why = report
                    .request_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                Some(Plan {
                    which: Which::CommitOf(v),
                    version: Some(v),
                    statuses: vec![(
                        State::Success,
                        describe(&format!("rolled back to v{v}{why}")),
                    )],
                })
            }
            _ => None,
        },
        // Reads only: nothing went live. A fleet's batches report as deploy or rollback, and its
        // summary check tells people, not GitHub.
        ActionKind::Status
        | ActionKind::History
        | ActionKind::DeployBatch
        | ActionKind::RollbackBatch
        | ActionKind::FleetReport => None,
    }
}

/// What a push's run (a deploy, a stage's promotion, a reconcile's redeploy) tells GitHub.
fn push(report: &Report, d: &Deployment) -> Option<Plan> {
    let v = d.version;
    // Created with `in_progress` when the deployment started: only the end is left.
    let (which, mut statuses) = match d.at_start.sink(SINK) {
        Some(Told::Created(id)) => (Which::Started(id), vec![]),
        // Nothing GitHub could be told (no commit): the start's warning says why.
        Some(Told::Nothing) => return None,
        // The run ended before its start (an image check), or GitHub gave no deployment
        // then (down, 500, no answer): created now, so a brief outage loses none.
        Some(Told::Failed) | None => (
            Which::New,
            vec![(
                State::InProgress,
                describe(&format!("deploying to {}", d.function.name())),
            )],
        ),
    };
    let live = |v: Option<Version>| {
        (
            State::Success,
            describe(&format!("v{} live on {}", opt(v), d.alias)),
        )
    };
    let version = match d.outcome {
        Outcome::Deployed => {
            statuses.push(live(v));
            v
        }
        // Another run of the same push moved the alias first: live all the same.
        Outcome::AlreadyLive if which != Which::New => {
            statuses.push(live(v));
            v
        }
        Outcome::RollingOut => {
            let (new, step) = rollout_step(d)?;
            statuses.push((State::InProgress, step));
            Some(new)
        }
        Outcome::Failed if report.image_digest.is_some() || report.image_tag.is_some() => {
            statuses.push((State::Failure, failure(d)));
            None
        }
        _ => return None,
    };
    Some(Plan {
        which,
        version,
        statuses,
    })
}

/// A rollout's version and its step's description ("10% on v42").
fn rollout_step(d: &Deployment) -> Option<(Version, String)> {
    d.rollout.as_ref().map(|r| {
        (
            r.new_version,
            describe(&format!("{} on v{}", pct(r.weight), r.new_version)),
        )
    })
}

fn opt(v: Option<Version>) -> String {
    v.map_or("?".into(), |v| v.to_string())
}

pub use crate::types::labels::{CREATED, REVISION, created_label};

/// A revision label fit to be a `ref`: a commit SHA, or a branch or tag name.
pub fn is_ref(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// The deployment (id, commit) GitHub lists for this function's version, newest first: the one
/// whose payload names the version, else one created at its run's start (before the version was
/// known, so its payload has none) of the version's image `digest`, when that is known.
pub fn find(
    list: &Value,
    function: &str,
    version: Version,
    digest: Option<&str>,
) -> Option<(u64, String)> {
    let want = version.to_string();
    let ours = |d: &&Value| d["payload"]["function"].as_str() == Some(function);
    let id_sha = |d: &Value| Some((d.get("id")?.as_u64()?, d.get("sha")?.as_str()?.to_owned()));
    let all = list.as_array()?;
    all.iter()
        .filter(ours)
        .find(|d| d["payload"]["version"].as_str() == Some(want.as_str()))
        .and_then(id_sha)
        .or_else(|| {
            let digest = digest?;
            all.iter()
                .filter(ours)
                .find(|d| {
                    d["payload"]["version"].is_null()
                        && d["payload"]["digest"].as_str() == Some(digest)
                })
                .and_then(id_sha)
        })
}

/// This function's deployments created at a run's start (no version in their payload), newest
/// first: where a rollout's deployment is when its version was not known then.
pub fn unversioned(list: &Value, function: &str) -> Vec<u64> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|d| {
            d["payload"]["function"].as_str() == Some(function) && d["payload"]["version"].is_null()
        })
        .filter_map(|d| d["id"].as_u64())
        .collect()
}

/// A query parameter's value, percent-encoded.
pub fn query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The commit a tag names, when it is a full 40-hex SHA.
pub fn commit_of_tag(tag: &str) -> Option<String> {
    (tag.len() == 40 && tag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| tag.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RolloutInfo, Step};
    use crate::types::{AliasName, FunctionRef};

    fn dep(outcome: Outcome, version: u64) -> Deployment {
        let mut d = Deployment::new(
            FunctionRef::parse("api").unwrap(),
            AliasName::parse("live").unwrap(),
        );
        d.outcome = outcome;
        d.version = Version::new(version);
        d
    }

    fn report(action: ActionKind) -> Report {
        let mut r = Report::new(action);
        r.image_tag = Some("a".repeat(40));
        r
    }

    fn rollout(d: &mut Deployment, weight: f64, changed: bool) {
        d.rollout = Some(RolloutInfo {
            stable_version: Version::new(1).unwrap(),
            new_version: Version::new(2).unwrap(),
            step: 1,
            steps: vec![10, 50],
            weight,
            weight_changed: changed,
            next_check_at: None,
            schedule: None,
            error_rate: None,
            check: None,
        });
    }

    #[test]
    fn a_push_is_a_new_deployment_with_its_statuses() {
        let p = plan(&report(ActionKind::Deploy), &dep(Outcome::Deployed, 2)).unwrap();
        assert_eq!(p.which, Which::New);
        assert_eq!(
            p.statuses,
            vec![
                (State::InProgress, "deploying to api".into()),
                (State::Success, "v2 live on live".into())
            ]
        );
        let mut failed = dep(Outcome::Failed, 1);
        failed.failed_step = Some(Step::SmokeTest);
        failed.reason = Some(format!("status 500 {}", "x".repeat(300)));
        let p = plan(&report(ActionKind::Deploy), &failed).unwrap();
        let (state, text) = &p.statuses[1];
        assert_eq!(*state, State::Failure);
        assert!(text.starts_with("failed at smoke_test: status 500"));
        assert_eq!(text.chars().count(), 140);
        let mut r = dep(Outcome::RollingOut, 1);
        rollout(&mut r, 0.1, true);
        let p = plan(&report(ActionKind::Deploy), &r).unwrap();
        assert_eq!(p.statuses[1], (State::InProgress, "10% on v2".into()));
    }

    #[test]
    fn rollout_checks_and_rollbacks_follow_the_earlier_deployment() {
        let mut r = dep(Outcome::RollingOut, 1);
        rollout(&mut r, 0.5, true);
        let p = plan(&report(ActionKind::Advance), &r).unwrap();
        assert_eq!(p.which, Which::Existing(Version::new(2).unwrap()));
        assert_eq!(p.statuses, vec![(State::InProgress, "50% on v2".into())]);
        rollout(&mut r, 0.5, false);
        assert_eq!(
            plan(&report(ActionKind::Advance), &r),
            None,
            "only confirmed"
        );
        let mut gate = dep(Outcome::RolledBack, 1);
        rollout(&mut gate, 0.0, true);
        gate.reason = Some("alarm api-errors is ALARM".into());
        let p = plan(&report(ActionKind::Advance), &gate).unwrap();
        assert_eq!(
            p.statuses,
            vec![(State::Failure, "failed: alarm api-errors is ALARM".into())]
        );
        let mut check = dep(Outcome::Failed, 1);
        rollout(&mut check, 0.0, true);
        check.failed_step = Some(Step::Rollout);
        check.reason = Some("alarm api-5xx is in ALARM: rolled back to version 1".into());
        let p = plan(&report(ActionKind::Advance), &check).unwrap();
        assert_eq!(
            p.statuses,
            vec![(
                State::Failure,
                "failed at rollout: alarm api-5xx is in ALARM: rolled back to version 1".into()
            )]
        );
        let p = plan(
            &Report::new(ActionKind::Rollback),
            &dep(Outcome::RolledBack, 1),
        )
        .unwrap();
        assert_eq!(p.which, Which::CommitOf(Version::new(1).unwrap()));
        assert_eq!(
            p.statuses,
            vec![(State::Success, "rolled back to v1".into())]
        );
    }

    #[test]
    fn a_deployment_created_at_the_start_gets_only_its_end() {
        let r = report(ActionKind::Deploy);
        let mut d = dep(Outcome::Deployed, 2);
        d.at_start.sinks.push((SINK, Told::Created(7)));
        let p = plan(&r, &d).unwrap();
        assert_eq!(p.which, Which::Started(7));
        assert_eq!(p.statuses, vec![(State::Success, "v2 live on live".into())]);
        let mut failed = dep(Outcome::Failed, 1);
        failed.at_start.sinks.push((SINK, Told::Created(7)));
        failed.failed_step = Some(Step::SmokeTest);
        failed.reason = Some("status 500".into());
        let p = plan(&r, &failed).unwrap();
        assert_eq!(
            (p.which, p.statuses),
            (
                Which::Started(7),
                vec![(State::Failure, "failed at smoke_test: status 500".into())]
            )
        );
        // Another run of the push moved the alias first: live, so the start's deployment succeeds.
        let mut other = dep(Outcome::AlreadyLive, 2);
        other.at_start.sinks.push((SINK, Told::Created(7)));
        assert_eq!(plan(&r, &other).unwrap().statuses[0].0, State::Success);
        assert_eq!(plan(&r, &dep(Outcome::AlreadyLive, 2)), None, "a duplicate");
        // Nothing to tell at the start (no commit): nothing more at the end.
        d.at_start.sinks = vec![(SINK, Told::Nothing)];
        assert_eq!(plan(&r, &d), None);
        // GitHub failed at the start: the end creates the deployment, `in_progress` then its end.
        d.at_start.sinks = vec![(SINK, Told::Failed)];
        let p = plan(&r, &d).unwrap();
        assert_eq!(
            (p.which, p.statuses),
            (
                Which::New,
                vec![
                    (State::InProgress, "deploying to api".into()),
                    (State::Success, "v2 live on live".into())
                ]
            )
        );
    }

    #[test]
    fn an_earlier_deployment_is_found_by_version_else_by_its_image() {
        let v2 = Version::new(2).unwrap();
        let list = serde_json::json!([
            {"id": 9, "sha": "c", "payload": {"function": "api", "version": null, "digest": "sha256:c"}},
            {"id": 8, "sha": "x", "payload": {"function": "other", "version": "2", "digest": "sha256:b"}},
            {"id": 7, "sha": "b", "payload": {"function": "api", "version": null, "digest": "sha256:b"}},
            {"id": 3, "sha": "a", "payload": {"function": "api", "version": "1", "digest": "sha256:a"}},
        ]);
        assert_eq!(
            find(&list, "api", v2, Some("sha256:b")),
            Some((7, "b".into()))
        );
        assert_eq!(
            find(&list, "api", v2, None),
            None,
            "no version, no image: unknown"
        );
        assert_eq!(
            find(&list, "api", Version::new(1).unwrap(), Some("sha256:c")),
            Some((3, "a".into())),
            "the version first"
        );
        assert_eq!(unversioned(&list, "api"), vec![9, 7]);
    }

    #[test]
    fn the_created_label_is_a_time_or_nothing() {
        let labels = |v: serde_json::Value| {
            serde_json::json!({ CREATED: v })
                .as_object()
                .unwrap()
                .clone()
        };
        let want = chrono::DateTime::parse_from_rfc3339("2026-11-26T05:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            created_label(&labels("2026-11-26T06:00:00+01:00".into())),
            Some(want)
        );
        for bad in [
            serde_json::json!("2026-11-26"),
            serde_json::json!("soon"),
            serde_json::json!(""),
            serde_json::json!(1764136800),
            serde_json::Value::Null,
        ] {
            assert_eq!(created_label(&labels(bad.clone())), None, "{bad}");
        }
        assert_eq!(created_label(&serde_json::Map::new()), None);
    }

    #[test]
    fn nothing_for_dry_runs_duplicates_and_skips() {
        let mut dry = report(ActionKind::Deploy);
        dry.dry_run = true;
        assert_eq!(plan(&dry, &dep(Outcome::Deployed, 2)), None);
        for o in [Outcome::AlreadyLive, Outcome::Skipped, Outcome::Dispatched] {
            assert_eq!(plan(&report(ActionKind::Deploy), &dep(o, 2)), None);
        }
        assert_eq!(commit_of_tag(&"A".repeat(40)), Some("a".repeat(40)));
        assert_eq!(commit_of_tag("v1.2"), None);
        assert_eq!(commit_of_tag(&"g".repeat(40)), None);
    }
}
