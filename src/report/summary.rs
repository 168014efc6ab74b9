//! The one place a run's outcome and reason follow from its per-function results.

use super::{ActionKind, Deployment, FailureKind, Outcome, step_name};

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

/// A fan-out that handed its functions to other runs ([`dispatched`]): into batches, and what
/// each batch's run does with its functions ("deploys", "rolls back").
#[derive(Debug, Clone, Copy)]
pub struct Batched {
    pub runs: usize,
    pub does: &'static str,
}

/// Failed functions named in a fan-out's reason; the per-function entries name them all.
const NAMED_IN_REASON: usize = 10;

/// A fan-out's outcome and reason: as any run's, but a failure counts what could not be
/// dispatched (and what may have been: its answer never came), and a dispatch in batches says
/// into how many runs.
pub fn dispatched(
    deployments: &[Deployment],
    batched: Option<Batched>,
) -> (Outcome, Option<String>) {
    let (outcome, reason) = self::deployments(deployments);
    match (outcome, batched) {
        (Outcome::Failed, _) => (outcome, Some(partial_failure(deployments))),
        (Outcome::Dispatched, Some(b)) => {
            let n = deployments.len();
            let reason = format!(
                "{n} of {n} dispatched in {} batches: each batch's run {} its functions at once and reports",
                b.runs, b.does
            );
            (outcome, Some(reason))
        }
        _ => (outcome, reason),
    }
}

fn partial_failure(deployments: &[Deployment]) -> String {
    let maybe = |d: &&Deployment| d.failure_kind == Some(FailureKind::TimedOut);
    let failed: Vec<&str> = deployments
        .iter()
        .filter(|d| d.outcome == Outcome::Failed && !maybe(d))
        .map(|d| d.function.name())
        .collect();
    let unknown: Vec<&str> = deployments
        .iter()
        .filter(|d| d.outcome == Outcome::Failed && maybe(d))
        .map(|d| d.function.name())
        .collect();
    let sent = deployments
        .iter()
        .filter(|d| d.outcome == Outcome::Dispatched)
        .count();
    let named = |list: &[&str]| crate::text::first_names(list, NAMED_IN_REASON);
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!(
            "{} of {} could not be dispatched ({})",
            failed.len(),
            deployments.len(),
            named(&failed)
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "{} of {} may have been dispatched ({}): their answers never came, and a repeat is harmless",
            unknown.len(),
            deployments.len(),
            named(&unknown)
        ));
    }
    parts.push(format!(
        "{sent} were dispatched and deploy in their own runs"
    ));
    parts.join("; ")
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
    fn a_partial_failure_names_the_first_few_and_counts_the_rest() {
        let ds: Vec<Deployment> = (0..15)
            .map(|i| {
                dep(
                    i,
                    if i < 12 {
                        Outcome::Failed
                    } else {
                        Outcome::Dispatched
                    },
                )
            })
            .collect();
        assert_eq!(
            dispatched(&ds, None).1.unwrap(),
            "12 of 15 could not be dispatched (f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 2 more); 3 were dispatched and deploy in their own runs"
        );
        let sent: Vec<Deployment> = (0..30).map(|i| dep(i, Outcome::Dispatched)).collect();
        let b = Batched {
            runs: 8,
            does: "deploys",
        };
        assert_eq!(
            dispatched(&sent, Some(b)).1.unwrap(),
            "30 of 30 dispatched in 8 batches: each batch's run deploys its functions at once and reports"
        );
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
