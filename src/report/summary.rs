//! The one place a run's outcome and reason follow from its per-function results.

use super::{ActionKind, Deployment, Outcome, step_name};

/// The run's outcome and reason, from its deployments, as `action` counts them.
pub fn summarize(action: ActionKind, deployments: &[Deployment]) -> (Outcome, Option<String>) {
    match action {
        ActionKind::Reconcile => sweep(deployments),
        _ => self::deployments(deployments),
    }
}

/// A deploy, rollback, promotion or check: one failure fails the run.
fn deployments(deployments: &[Deployment]) -> (Outcome, Option<String>) {
    let count = |o| deployments.iter().filter(|d| d.outcome == o).count();
    let failed = count(Outcome::Failed);
    let deployed = count(Outcome::Deployed);
    let live = count(Outcome::AlreadyLive);
    let rolled = count(Outcome::RolledBack);
    let rolling = count(Outcome::RollingOut);
    let would_deploy = count(Outcome::WouldDeploy);
    let would_roll = count(Outcome::WouldRollBack);
    let n = deployments.len();
    if n == 0 {
        return (Outcome::Skipped, Some("no function to deploy".into()));
    }
    if failed > 0 {
        let names: Vec<String> = deployments
            .iter()
            .filter(|d| d.outcome == Outcome::Failed)
            .map(|d| {
                let step = d
                    .failed_step
                    .map(|s| format!(" at {}", step_name(s)))
                    .unwrap_or_default();
                format!("{}{step}", d.function.name())
            })
            .collect();
        return (
            Outcome::Failed,
            Some(format!("{failed} of {n} failed: {}", names.join(", "))),
        );
    }
    let skipped = count(Outcome::Skipped);
    if skipped == n {
        let why = deployments.iter().find_map(|d| d.reason.clone());
        return (Outcome::Skipped, why);
    }
    if rolled > 0 {
        return (
            Outcome::RolledBack,
            Some(format!("{rolled} of {n} rolled back")),
        );
    }
    if rolling > 0 {
        return (
            Outcome::RollingOut,
            Some(format!("{rolling} of {n} rolling out")),
        );
    }
    if would_roll > 0 {
        return (
            Outcome::WouldRollBack,
            Some(format!("dry run: {would_roll} of {n} would be rolled back")),
        );
    }
    if would_deploy > 0 {
        return (
            Outcome::WouldDeploy,
            Some(format!("dry run: {would_deploy} of {n} would be deployed")),
        );
    }
    let dispatched = count(Outcome::Dispatched);
    if dispatched > 0 {
        return (
            Outcome::Dispatched,
            Some(format!(
                "{dispatched} of {n} dispatched: each function's own run deploys it and reports"
            )),
        );
    }
    let would_dispatch = count(Outcome::WouldDispatch);
    if would_dispatch > 0 {
        return (
            Outcome::WouldDispatch,
            Some(format!(
                "dry run: {would_dispatch} of {n} would be dispatched"
            )),
        );
    }
    if deployed > 0 {
        let already = if live > 0 {
            format!(", {live} already live")
        } else {
            String::new()
        };
        return (
            Outcome::Deployed,
            Some(format!("{deployed} of {n} deployed{already}")),
        );
    }
    (
        Outcome::AlreadyLive,
        Some("the alias already runs this image everywhere: nothing to do".into()),
    )
}

/// The sweep's outcome: failed when a deployment it ran failed (or a function could not be read),
/// else what it did; drift and rejected images are findings, not failures.
fn sweep(deployments: &[Deployment]) -> (Outcome, Option<String>) {
    let mut counts: Vec<(Outcome, usize)> = Vec::new();
    for d in deployments {
        match counts.iter_mut().find(|(o, _)| *o == d.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((d.outcome, 1)),
        }
    }
    let n = |o: Outcome| counts.iter().find(|(x, _)| *x == o).map_or(0, |(_, n)| *n);
    let text: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    let reason = format!(
        "reconcile of {} function(s): {}",
        deployments.len(),
        text.join(", ")
    );
    let started_rollout = deployments
        .iter()
        .any(|d| d.outcome == Outcome::RollingOut && !d.notified_before);
    let outcome = if n(Outcome::Failed) > 0 {
        Outcome::Failed
    } else if n(Outcome::Deployed) > 0 {
        Outcome::Deployed
    } else if started_rollout {
        Outcome::RollingOut
    } else if n(Outcome::WouldDeploy) > 0 {
        Outcome::WouldDeploy
    } else if n(Outcome::InSync) == deployments.len() {
        Outcome::InSync
    } else {
        Outcome::Skipped
    };
    (outcome, Some(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Level;
    use crate::types::{AliasName, FunctionRef};

    const ALL: [Outcome; 15] = [
        Outcome::Deployed,
        Outcome::AlreadyLive,
        Outcome::Skipped,
        Outcome::Failed,
        Outcome::RolledBack,
        Outcome::RollingOut,
        Outcome::WouldDeploy,
        Outcome::WouldRollBack,
        Outcome::Dispatched,
        Outcome::WouldDispatch,
        Outcome::InSync,
        Outcome::Drift,
        Outcome::Rejected,
        Outcome::Deferred,
        Outcome::ReadyToPromote,
    ];

    fn dep(i: usize, outcome: Outcome) -> Deployment {
        let mut d = Deployment::new(
            FunctionRef::parse(&format!("f{i}")).unwrap(),
            AliasName::parse("live").unwrap(),
        );
        d.outcome = outcome;
        d.reason = Some(format!("why f{i}"));
        d
    }

    /// A run's outcome is never a finding about one function (drift, rejected, deferred): every
    /// pair of function outcomes, for a deploy and for a sweep, summarises to a run-level one.
    #[test]
    fn a_runs_outcome_is_never_a_function_only_outcome() {
        let functions: Vec<Outcome> = ALL
            .into_iter()
            .filter(|o| o.level() != Level::Run)
            .collect();
        for action in [ActionKind::Deploy, ActionKind::Reconcile] {
            for a in &functions {
                for b in &functions {
                    let (o, reason) = summarize(action, &[dep(0, *a), dep(1, *b)]);
                    assert_ne!(
                        o.level(),
                        Level::Function,
                        "{action:?}: {a:?}+{b:?} -> {o:?}"
                    );
                    assert!(reason.is_some(), "{action:?}: {a:?}+{b:?} has no reason");
                }
            }
        }
    }

    #[test]
    fn levels_name_the_findings_and_the_stage_wait() {
        let only = |l: Level| ALL.into_iter().filter(move |o| o.level() == l);
        assert_eq!(
            only(Level::Function).collect::<Vec<_>>(),
            [Outcome::Drift, Outcome::Rejected, Outcome::Deferred]
        );
        assert_eq!(
            only(Level::Run).collect::<Vec<_>>(),
            [Outcome::ReadyToPromote]
        );
    }
}
