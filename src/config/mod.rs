//! Configuration from the environment, validated once at start.
//!
//! Every error names the variable, the field path inside it and the problem. Unknown fields are
//! errors: a typo such as `expect_stauts` must not silently turn a safety check off.

pub mod fleet;
pub mod github;
mod image_checks;
mod reconcile;
mod rollout;
mod signals;
pub mod stage;
#[cfg(test)]
mod stage_tests;
mod target;
#[cfg(test)]
mod tests;

pub use image_checks::{ImageChecks, MAX_SCAN_WAIT_SECS, RequireSignature};
pub use reconcile::ReconcileMode;
pub use rollout::{OnInconclusive, Rollout, Synthetic};
pub use signals::{DEFAULT_NAMESPACE, SignalsConfig};
pub use stage::After;
pub use target::{Smoke, Target};

use crate::types::{AliasName, Repository};
use std::time::Duration;

pub const TARGETS_VAR: &str = "DEPLOYER_TARGETS";
pub const ALIAS_VAR: &str = "DEPLOYER_ALIAS";
pub const TOPIC_VAR: &str = "DEPLOYER_TOPIC_ARN";
pub const TIMEOUT_VAR: &str = "DEPLOYER_UPDATE_TIMEOUT_SECS";
pub const API_TIMEOUT_VAR: &str = "DEPLOYER_API_TIMEOUT_SECS";
pub const PARALLEL_VAR: &str = "DEPLOYER_MAX_PARALLEL";
pub const DRY_RUN_VAR: &str = "DEPLOYER_DRY_RUN";
pub const NOTIFY_SKIPPED_VAR: &str = "DEPLOYER_NOTIFY_SKIPPED";
pub const KEEP_VERSIONS_VAR: &str = "DEPLOYER_KEEP_VERSIONS";
pub const ROLLOUT_VAR: &str = "DEPLOYER_ROLLOUT";
pub const SCHEDULER_ROLE_VAR: &str = "DEPLOYER_SCHEDULER_ROLE_ARN";
pub const SCHEDULE_GROUP_VAR: &str = "DEPLOYER_SCHEDULE_GROUP";
pub const FUNCTION_ARN_VAR: &str = "DEPLOYER_FUNCTION_ARN";
pub const IMAGE_CHECKS_VAR: &str = "DEPLOYER_IMAGE_CHECKS";
pub const METRICS_VAR: &str = "DEPLOYER_METRICS";
pub const METRICS_NAMESPACE_VAR: &str = "DEPLOYER_METRICS_NAMESPACE";
pub const EVENT_BUS_VAR: &str = "DEPLOYER_EVENT_BUS";
pub const INLINE_MAX_VAR: &str = "DEPLOYER_INLINE_MAX";
pub const RECONCILE_VAR: &str = "DEPLOYER_RECONCILE";
pub const PROVISIONED_WAIT_VAR: &str = "DEPLOYER_PROVISIONED_WAIT_SECS";

/// Every variable, with what it does: the CLI's `--help` prints this list, so it cannot fall behind.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        TARGETS_VAR,
        "JSON array of targets: repository, functions, tags, alias, smoke, keep_versions, registry_account, image_checks, rollout, reconcile_mode, after, assume_role_arn, github (required)",
    ),
    (
        ALIAS_VAR,
        "alias moved by deployments unless a target names its own (default live)",
    ),
    (TOPIC_VAR, "SNS topic ARN for notifications (default: none)"),
    (
        TIMEOUT_VAR,
        "longest wait for Lambda to apply an update, in seconds (default 600)",
    ),
    (
        API_TIMEOUT_VAR,
        "longest wait for one attempt of an AWS API call, in seconds; a whole call with retries gets 3x (default 20)",
    ),
    (PARALLEL_VAR, "functions deployed at once (default 4)"),
    (
        DRY_RUN_VAR,
        "true: ECR events are reported, never acted on (default false)",
    ),
    (
        NOTIFY_SKIPPED_VAR,
        "true: also notify skips, duplicates and dry runs (default false)",
    ),
    (
        KEEP_VERSIONS_VAR,
        "published versions kept per function, 0 = never prune (default 0)",
    ),
    (
        ROLLOUT_VAR,
        "JSON rollout for targets without their own: steps, interval_secs, check_secs, alarms, max_error_rate, min_invocations, max_wait_secs, on_inconclusive, synthetic, max_error_rate_increase, max_p99_ms, max_latency_increase, report_only (default: all at once)",
    ),
    (
        SCHEDULER_ROLE_VAR,
        "role EventBridge Scheduler assumes to invoke the deployer for rollout and stage promotion checks (required when any target has steps or after)",
    ),
    (
        SCHEDULE_GROUP_VAR,
        "EventBridge Scheduler group for rollout and stage promotion checks (default default)",
    ),
    (
        FUNCTION_ARN_VAR,
        "what rollout checks invoke and a fan-out dispatches to (default in Lambda: this function; required in the CLI to start a rollout or dispatch)",
    ),
    (
        IMAGE_CHECKS_VAR,
        "JSON image_checks for targets that set none: max_findings, require_scan, scan_wait_secs, require_signature (default: none)",
    ),
    (
        METRICS_VAR,
        "false: no CloudWatch EMF metrics in the log (default true; the CLI writes them only with --metrics)",
    ),
    (
        METRICS_NAMESPACE_VAR,
        "CloudWatch namespace of the metrics (default SelfDeployer)",
    ),
    (
        EVENT_BUS_VAR,
        "EventBridge bus for deployment events, a name (default is the account's default bus) or an ARN (default: none, no events)",
    ),
    (
        INLINE_MAX_VAR,
        "most functions one run deploys itself; an image for more is dispatched, one asynchronous invocation of DEPLOYER_FUNCTION_ARN per function (default 8)",
    ),
    (
        RECONCILE_VAR,
        "what a reconcile sweep does with a missed push for targets without their own reconcile_mode: deploy or report (default deploy)",
    ),
    (github::TOKEN_SECRET_VAR, github::TOKEN_SECRET_HELP),
    (github::API_URL_VAR, github::API_URL_HELP),
    (
        PROVISIONED_WAIT_VAR,
        "longest wait for an alias's provisioned concurrency to be READY after a move, in seconds (default 300)",
    ),
    (fleet::CONTROL_PLANE_RPS_VAR, fleet::HELP[0]),
    (fleet::FLEET_REPORT_SECS_VAR, fleet::HELP[1]),
    (fleet::NOTIFY_FLEET_VAR, fleet::HELP[2]),
];

const DEFAULT_ALIAS: &str = "live";
/// At 30-90 s per image update and DEPLOYER_MAX_PARALLEL 4, 8 functions fit well inside one
/// 15-minute invocation; more are dispatched.
pub const DEFAULT_INLINE_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{variable}{path}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    /// Where inside the variable, e.g. `[0].smoke.expect_status`; empty for a scalar variable.
    pub path: String,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable,
            path: path.into(),
            problem: crate::text::bounded(problem.into(), 300),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub targets: Vec<Target>,
    pub alias: AliasName,
    pub topic_arn: Option<String>,
    pub update_timeout: Duration,
    pub provisioned_wait: Duration,
    /// One attempt of an AWS API call.
    pub api_timeout: Duration,
    pub max_parallel: usize,
    /// ECR events are only reported on, never acted on (manual payloads choose for themselves).
    pub dry_run: bool,
    /// Also notify skips, duplicates and dry runs.
    pub notify_skipped: bool,
    pub scheduler: Scheduler,
    /// EMF metrics and deployment events.
    pub signals: SignalsConfig,
    /// Most functions one run deploys itself; more are dispatched (see `actions::dispatch`).
    pub inline_max: usize,
    /// GitHub deployments: where the token is and which API (`None`: no target has `github`).
    pub github: Option<github::GitHubSettings>,
    pub fleet: fleet::FleetConfig,
}

/// Where rollout checks are scheduled, and what they invoke.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    pub role_arn: Option<String>,
    pub group: String,
    /// `None`: in Lambda, the invoked function's own ARN.
    pub function_arn: Option<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let alias = match get(ALIAS_VAR) {
            Some(a) => AliasName::parse(&a).map_err(|p| ConfigError::new(ALIAS_VAR, "", p))?,
            None => AliasName::parse(DEFAULT_ALIAS).expect("the default alias name is valid"),
        };
        let raw = get(TARGETS_VAR).ok_or_else(|| {
            ConfigError::new(
                TARGETS_VAR,
                "",
                "is not set: it must be a JSON array of {\"repository\": ..., \"functions\": [...]}",
            )
        })?;
        let keep_default = parse_number(&get, KEEP_VERSIONS_VAR, 0, 0, 10_000)? as u32;
        target::check_keep_versions(keep_default)
            .map_err(|p| ConfigError::new(KEEP_VERSIONS_VAR, "", p))?;
        let checks_default = match get(IMAGE_CHECKS_VAR) {
            Some(raw) => image_checks::parse_default(IMAGE_CHECKS_VAR, &raw)?,
            None => None,
        };
        let rollout = match get(ROLLOUT_VAR).filter(|s| !s.trim().is_empty()) {
            None => Rollout::default(),
            Some(raw) => {
                let de = &mut serde_json::Deserializer::from_str(&raw);
                let r: Rollout = serde_path_to_error::deserialize(de).map_err(|e| {
                    let path = e.path().to_string();
                    let path = if path == "." {
                        String::new()
                    } else {
                        format!(".{path}")
                    };
                    ConfigError::new(ROLLOUT_VAR, path, e.into_inner().to_string())
                })?;
                r.check().map_err(|(field, p)| {
                    ConfigError::new(ROLLOUT_VAR, field.trim_start_matches("rollout"), p)
                })?;
                r
            }
        };
        let reconcile = ReconcileMode::parse(&get(RECONCILE_VAR).unwrap_or_default())
            .map_err(|p| ConfigError::new(RECONCILE_VAR, "", p))?;
        let defaults = target::Defaults {
            reconcile,
            alias: alias.clone(),
            keep_versions: keep_default,
            rollout,
            image_checks: checks_default,
        };
        let targets = target::parse_targets(&raw, &defaults)?;
        let scheduler = parse_scheduler(&get, &targets)?;
        let topic_arn = match get(TOPIC_VAR).filter(|s| !s.is_empty()) {
            Some(arn) => {
                Some(check_topic_arn(&arn).map_err(|p| ConfigError::new(TOPIC_VAR, "", p))?)
            }
            None => None,
        };
        let timeout_secs = parse_number(&get, TIMEOUT_VAR, 600, 1, 86_400)?;
        let provisioned_secs = parse_number(&get, PROVISIONED_WAIT_VAR, 300, 1, 86_400)?;
        let api_timeout_secs = parse_number(&get, API_TIMEOUT_VAR, 20, 1, 300)?;
        let max_parallel = parse_number(&get, PARALLEL_VAR, 4, 1, 64)?;
        Ok(Self {
            github: github::parse(&get, &targets)?,
            dry_run: parse_bool(&get, DRY_RUN_VAR)?,
            notify_skipped: parse_bool(&get, NOTIFY_SKIPPED_VAR)?,
            targets,
            alias,
            topic_arn,
            update_timeout: Duration::from_secs(timeout_secs as u64),
            provisioned_wait: Duration::from_secs(provisioned_secs as u64),
            api_timeout: Duration::from_secs(api_timeout_secs as u64),
            max_parallel,
            scheduler,
            signals: signals::parse(&get)?,
            inline_max: parse_number(&get, INLINE_MAX_VAR, DEFAULT_INLINE_MAX, 1, 10_000)?,
            fleet: fleet::parse(&get)?,
        })
    }

    /// Targets whose repository is `repository`.
    pub fn targets_for(&self, repository: &Repository) -> Vec<&Target> {
        self.targets
            .iter()
            .filter(|t| &t.repository == repository)
            .collect()
    }
}

fn parse_scheduler(
    get: &impl Fn(&str) -> Option<String>,
    targets: &[Target],
) -> Result<Scheduler, ConfigError> {
    let role_arn = get(SCHEDULER_ROLE_VAR).filter(|s| !s.is_empty());
    if let Some(arn) = &role_arn {
        if arn.parse::<crate::types::RoleArn>().is_err() {
            return Err(ConfigError::new(
                SCHEDULER_ROLE_VAR,
                "",
                format!("{arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
            ));
        }
    } else if let Some(i) = targets.iter().position(|t| t.after.is_some()) {
        return Err(ConfigError::new(
            SCHEDULER_ROLE_VAR,
            "",
            format!(
                "is not set, but {TARGETS_VAR}[{i}] follows another stage (after): each promotion check is an EventBridge Scheduler schedule, which needs a role to invoke the deployer"
            ),
        ));
    } else if let Some(i) = targets.iter().position(|t| t.rollout.is_progressive()) {
        return Err(ConfigError::new(
            SCHEDULER_ROLE_VAR,
            "",
            format!(
                "is not set, but {TARGETS_VAR}[{i}] rolls out in steps: each step is checked by an EventBridge Scheduler schedule, which needs a role to invoke the deployer"
            ),
        ));
    }
    let group = get(SCHEDULE_GROUP_VAR)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let name_ok = |s: &str| {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if !name_ok(&group) {
        return Err(ConfigError::new(
            SCHEDULE_GROUP_VAR,
            "",
            format!(
                "{group:?} is not a schedule group name (1-64 of letters, digits, '-', '_', '.')"
            ),
        ));
    }
    let function_arn = get(FUNCTION_ARN_VAR).filter(|s| !s.is_empty());
    if let Some(arn) = &function_arn {
        let f = crate::types::FunctionRef::parse(arn)
            .map_err(|p| ConfigError::new(FUNCTION_ARN_VAR, "", p))?;
        if !f.is_arn() {
            return Err(ConfigError::new(
                FUNCTION_ARN_VAR,
                "",
                format!(
                    "{arn:?} is not a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
                ),
            ));
        }
    }
    Ok(Scheduler {
        role_arn,
        group,
        function_arn,
    })
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ConfigError::new(
            var,
            "",
            format!("{other:?} is not a boolean: use true or false"),
        )),
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    let n: usize = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(var, "", format!("{raw:?} is not a whole number")))?;
    if !(min..=max).contains(&n) {
        return Err(ConfigError::new(
            var,
            "",
            format!("{n} is out of range: it must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

fn check_topic_arn(arn: &str) -> Result<String, String> {
    // A topic's resource is its bare name: a ':' in it would be a subscription ARN.
    match arn.parse::<crate::types::Arn>() {
        Ok(a) if a.service() == "sns" && !a.region().is_empty() && !a.resource().contains(':') => {
            Ok(arn.to_owned())
        }
        _ => Err(format!(
            "{arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
        )),
    }
}
