//! What GitHub is told about one function's run (pure): which deployment, and its statuses.

use crate::report::{ActionKind, Deployment, Outcome, Report};
use crate::types::Version;

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
    /// A new deployment of the run's image (its commit from the image or its tag).
    New,
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
    let rollout_step = |d: &Deployment| {
        d.rollout.as_ref().map(|r| {
            (
                r.new_version,
                describe(&format!("{} on v{}", pct(r.weight), r.new_version)),
            )
        })
    };
    match report.action {
        ActionKind::Deploy | ActionKind::PromoteStage | ActionKind::Reconcile => {
            let v = d.version;
            let start = (
                State::InProgress,
                describe(&format!("deploying to {}", d.function.name())),
            );
            match d.outcome {
                Outcome::Deployed => Some(Plan {
                    which: Which::New,
                    version: v,
                    statuses: vec![
                        start,
                        (
                            State::Success,
                            describe(&format!("v{} live on {}", opt(v), d.alias)),
                        ),
                    ],
                }),
                Outcome::RollingOut => {
                    let (new, step) = rollout_step(d)?;
                    Some(Plan {
                        which: Which::New,
                        version: Some(new),
                        statuses: vec![start, (State::InProgress, step)],
                    })
                }
                Outcome::Failed if report.image_digest.is_some() || report.image_tag.is_some() => {
                    Some(Plan {
                        which: Which::New,
                        version: None,
                        statuses: vec![start, (State::Failure, failure(d))],
                    })
                }
                _ => None,
            }
        }
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

fn opt(v: Option<Version>) -> String {
    v.map_or("?".into(), |v| v.to_string())
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
