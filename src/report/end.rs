//! How one function's part of a run ended: an outcome with the sentence that explains it, made by
//! one constructor per outcome. An action returns an `End`; `Deployment::end` is the one place
//! it is written into the report (a failure is written by `Deployment::fail`, with its step and
//! kind). The run's outcome is never chosen here: the summariser derives it from these.

use super::Outcome;

/// Which level of the report an outcome belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Only one function's result (a sweep's findings): a run that found it is `skipped`,
    /// `in_sync` or `failed` as a whole.
    Function,
    /// Only the whole run's (a stage that waits for a person has no function to report on).
    Run,
    /// Either: a run's outcome is the common outcome of its functions.
    Both,
}

impl Outcome {
    /// Which level of the report this outcome belongs to.
    pub fn level(self) -> Level {
        match self {
            Outcome::Drift | Outcome::Rejected | Outcome::Deferred => Level::Function,
            Outcome::ReadyToPromote => Level::Run,
            Outcome::Deployed
            | Outcome::AlreadyLive
            | Outcome::Skipped
            | Outcome::Failed
            | Outcome::RolledBack
            | Outcome::RollingOut
            | Outcome::WouldDeploy
            | Outcome::WouldRollBack
            | Outcome::Dispatched
            | Outcome::WouldDispatch
            | Outcome::InSync => Level::Both,
        }
    }
}

/// One function's ending, short of a failure (a failure carries a step and a kind:
/// `Deployment::fail`). `reason: None` keeps the sentence an earlier step wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "an End is written into the report with Deployment::end"]
pub struct End {
    pub(super) outcome: Outcome,
    pub(super) reason: Option<String>,
}

/// Proof that a deployment's ending was written (by `Deployment::end` or `Deployment::fail`):
/// what the rollout's steps return, so that the compiler sees every path write one. Only this
/// module makes it.
#[derive(Debug)]
pub struct Ended(());

impl Ended {
    pub(super) fn written() -> Self {
        Ended(())
    }
}

macro_rules! ends {
    ($($(#[$doc:meta])* $name:ident => $outcome:ident;)*) => {
        impl End {
            $(
                $(#[$doc])*
                pub fn $name(reason: impl Into<String>) -> Self {
                    Self { outcome: Outcome::$outcome, reason: Some(reason.into()) }
                }
            )*
        }
    };
}

ends! {
    /// The alias moved to the new version.
    deployed => Deployed;
    /// The alias already served what was asked.
    already_live => AlreadyLive;
    /// Nothing to do, on purpose; the reason says why.
    skipped => Skipped;
    /// Traffic went back to an earlier version.
    rolled_back => RolledBack;
    /// Part of the traffic is on the new version and a check is coming (or the reason says it
    /// may not be).
    rolling_out => RollingOut;
    /// Dry run: a deployment would have been made.
    would_deploy => WouldDeploy;
    /// Dry run: the alias would have been moved back.
    would_roll_back => WouldRollBack;
    /// Fan-out dry run: this function would have been handed to its own invocation.
    would_dispatch => WouldDispatch;
    /// Reconcile: the alias runs the newest matching image.
    in_sync => InSync;
    /// Reconcile: the alias is not where this deployer last put it.
    drift => Drift;
    /// Reconcile: the newest image failed here before; never retried by a sweep.
    rejected => Rejected;
    /// Reconcile: not started for lack of time; the next sweep does it.
    deferred => Deferred;
}

impl End {
    /// Fan-out: handed to its own invocation, which reports on its own. The sentence so far stays.
    pub fn dispatched() -> Self {
        Self {
            outcome: Outcome::Dispatched,
            reason: None,
        }
    }

    /// Deployed, with no sentence of its own (a deployment's report says what moved).
    pub fn deployed_as_is() -> Self {
        Self {
            outcome: Outcome::Deployed,
            reason: None,
        }
    }

    /// The same ending with `more` after its sentence (a dry run's rollout steps).
    pub fn and(mut self, more: &str) -> Self {
        if let Some(r) = self.reason.as_mut() {
            r.push_str(more);
        }
        self
    }

    /// The outcome this ending writes (for a caller that decides on it before writing).
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ending_of_a_function_is_a_run_only_outcome() {
        let all = [
            End::deployed(""),
            End::already_live(""),
            End::skipped(""),
            End::rolled_back(""),
            End::rolling_out(""),
            End::would_deploy(""),
            End::would_roll_back(""),
            End::would_dispatch(""),
            End::in_sync(""),
            End::drift(""),
            End::rejected(""),
            End::deferred(""),
            End::dispatched(),
            End::deployed_as_is(),
        ];
        for e in all {
            assert_ne!(e.outcome().level(), Level::Run, "{:?}", e.outcome());
        }
    }

    #[test]
    fn each_constructor_writes_its_own_outcome() {
        assert_eq!(End::deployed("x").outcome(), Outcome::Deployed);
        assert_eq!(End::skipped("x").outcome(), Outcome::Skipped);
        assert_eq!(End::rolled_back("x").outcome(), Outcome::RolledBack);
        assert_eq!(End::drift("x").outcome(), Outcome::Drift);
        assert_eq!(End::deferred("x").reason.as_deref(), Some("x"));
        assert_eq!(End::dispatched().reason, None);
        assert_eq!(
            End::would_deploy("a").and(", b").reason.as_deref(),
            Some("a, b")
        );
        assert_eq!(End::deployed_as_is().and(", b").reason, None);
    }
}
