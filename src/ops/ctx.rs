//! What every run needs from outside, for one invocation: the clients, the deadline, this run's
//! id (written into what it changes), and the rollout and account services.

use crate::gateway::cloudwatch::CloudWatch;
use crate::gateway::scheduler::Scheduler;
use crate::gateway::{Clock, Lambda, ecr::Ecr};
use std::time::{Duration, SystemTime};

/// No step starts with less than this left of the invocation: enough to put `$LATEST` back, write
/// the report and notify before Lambda stops us.
pub const DEADLINE_RESERVE: Duration = Duration::from_secs(30);

/// What a run needs from outside, for one invocation.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lambda: Lambda,
    /// ECR, for the image checks.
    pub ecr: Ecr,
    pub update_timeout: Duration,
    /// Longest wait for an alias's provisioned concurrency to be `READY` after a move.
    pub provisioned_wait: Duration,
    /// Identifies this run in what it writes (the alias description), so that it can recognise its
    /// own change after a lost response.
    pub run_id: String,
    /// When the Lambda runtime will stop this invocation; `None` in the CLI.
    pub deadline: Option<SystemTime>,
    pub rollouts: Rollouts,
    /// Roles assumed for targets in other accounts (see [`super::accounts::ctx_for`]).
    pub accounts: super::accounts::Accounts,
    /// The run's notification sinks, told when a function's deployment starts (GitHub's
    /// `in_progress`); their end-of-run delivery is the engine's.
    pub notifier: crate::notify::Notifier,
    /// The image labels this run read, once per image (lead time's start, GitHub's commit).
    pub labels: super::labels::LabelReads,
}

impl Ctx {
    pub fn clock(&self) -> &Clock {
        self.lambda.clock()
    }

    /// Time left before the reserve, if there is a deadline.
    pub fn time_left(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        let left = deadline
            .duration_since(self.clock().now())
            .unwrap_or_default();
        Some(left.saturating_sub(DEADLINE_RESERVE))
    }

    /// How long a wait for Lambda may last: the update timeout, or less when the deadline is nearer.
    pub fn wait_budget(&self) -> Duration {
        match self.time_left() {
            Some(left) => left.min(self.update_timeout),
            None => self.update_timeout,
        }
    }

    /// Why no new step may start now, if none may.
    pub fn out_of_time(&self) -> Option<String> {
        let deadline = self.deadline?;
        let left = deadline
            .duration_since(self.clock().now())
            .unwrap_or_default();
        (left < DEADLINE_RESERVE).then(|| {
            format!(
                "stopped: only {} s of this invocation were left (a step starts only with at least {} s to spare)",
                left.as_secs(),
                DEADLINE_RESERVE.as_secs()
            )
        })
    }
}

/// What rollouts need besides Lambda: where to schedule checks and what they invoke.
#[derive(Clone, Debug, Default)]
pub struct Rollouts {
    pub scheduler: Option<Scheduler>,
    pub cloudwatch: Option<CloudWatch>,
    pub group: String,
    pub role_arn: Option<String>,
    /// The deployer's own function ARN (what the schedules invoke).
    pub target_arn: Option<String>,
}

impl Rollouts {
    /// The scheduler, its role and the deployer's ARN a schedule needs; else why they are missing.
    pub fn ready(&self) -> Result<(&Scheduler, &String, &String), String> {
        match (
            self.scheduler.as_ref(),
            self.role_arn.as_ref(),
            self.target_arn.as_ref(),
        ) {
            (Some(s), Some(role), Some(target)) => Ok((s, role, target)),
            _ => Err(self.missing().unwrap_or_default()),
        }
    }

    /// Why a rollout cannot start here, if it cannot: checked before anything is changed.
    pub fn missing(&self) -> Option<String> {
        if self.scheduler.is_none() || self.cloudwatch.is_none() {
            return Some("this deployer has no EventBridge Scheduler or CloudWatch client, so it cannot run a rollout".into());
        }
        if self.role_arn.is_none() {
            return Some(format!(
                "{} is not set: a rollout's checks are schedules that need a role to invoke the deployer",
                crate::config::SCHEDULER_ROLE_VAR
            ));
        }
        if self.target_arn.is_none() {
            return Some(format!(
                "{} is not set: a rollout's checks need to know which function to invoke (in Lambda it is this one; in the CLI set it)",
                crate::config::FUNCTION_ARN_VAR
            ));
        }
        None
    }
}
