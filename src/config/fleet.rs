//! How a fleet (more functions than DEPLOYER_INLINE_MAX) is deployed and told about: the
//! control-plane rate budget, how long the fleet's summary waits for stragglers, and whether
//! successes are told per function or once per fleet. Each variable is checked here with an exact
//! error before any AWS call.

use super::{ConfigError, parse_number};

// Read by the IaC checks with the rest (tests/iac/iac.py, engine_env_vars).
pub const CONTROL_PLANE_RPS_VAR: &str = "DEPLOYER_CONTROL_PLANE_RPS";
pub const FLEET_REPORT_SECS_VAR: &str = "DEPLOYER_FLEET_REPORT_SECS";
pub const NOTIFY_FLEET_VAR: &str = "DEPLOYER_NOTIFY_FLEET";

/// What `--help` says of the three variables, in order.
pub(super) const HELP: [&str; 3] = [
    "Lambda control-plane calls per second the deployer makes, split across its concurrent runs (1-15, default 10 of Lambda's 15)",
    "how long a fleet's summary waits for every function's outcome before naming the stragglers, in seconds (default 900)",
    "above DEPLOYER_INLINE_MAX: summary (one message per push or fleet rollback, failures at once) or each (default summary)",
];

/// Of Lambda's 15 control-plane requests per second per account and Region (a quota that cannot be
/// raised), the deployer takes 10 by default and leaves the rest to CI, Terraform and people.
pub const DEFAULT_CONTROL_PLANE_RPS: u32 = 10;
/// Lambda's own limit: a budget above it would only buy throttles.
pub const MAX_CONTROL_PLANE_RPS: usize = 15;
/// How long a fleet's summary waits for every function to have an outcome: one invocation's
/// longest run.
pub const DEFAULT_FLEET_REPORT_SECS: usize = 900;

/// How the successes of a fleet are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotifyFleet {
    /// One summary per push or fleet rollback; failures still each at once.
    #[default]
    Summary,
    /// One message per function, as for a single deployment.
    Each,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// The deployer's control-plane calls per second, split across its concurrent runs.
    pub control_plane_rps: u32,
    /// After this long the summary is sent with the stragglers named.
    pub report_secs: u64,
    pub notify: NotifyFleet,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            control_plane_rps: DEFAULT_CONTROL_PLANE_RPS,
            report_secs: DEFAULT_FLEET_REPORT_SECS as u64,
            notify: NotifyFleet::Summary,
        }
    }
}

pub(super) fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<FleetConfig, ConfigError> {
    let rps = parse_number(
        get,
        CONTROL_PLANE_RPS_VAR,
        DEFAULT_CONTROL_PLANE_RPS as usize,
        1,
        MAX_CONTROL_PLANE_RPS,
    )?;
    // At least a minute: the first check is scheduled no sooner (EventBridge Scheduler's
    // granularity), and at most a day, when a forgotten summary is no longer news.
    let report_secs = parse_number(
        get,
        FLEET_REPORT_SECS_VAR,
        DEFAULT_FLEET_REPORT_SECS,
        60,
        86_400,
    )?;
    let notify = match get(NOTIFY_FLEET_VAR).as_deref().map(str::trim) {
        None | Some("") | Some("summary") => NotifyFleet::Summary,
        Some("each") => NotifyFleet::Each,
        Some(other) => {
            return Err(ConfigError::new(
                NOTIFY_FLEET_VAR,
                "",
                format!("{other:?} is not a choice: use summary or each"),
            ));
        }
    };
    Ok(FleetConfig {
        control_plane_rps: rps as u32,
        report_secs: report_secs as u64,
        notify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<FleetConfig, String> {
        parse(&|k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_ten_calls_a_second_fifteen_minutes_and_a_summary() {
        assert_eq!(load(&[]).unwrap(), FleetConfig::default());
        assert_eq!(load(&[]).unwrap().control_plane_rps, 10);
        assert_eq!(load(&[]).unwrap().report_secs, 900);
    }

    #[test]
    fn each_variable_is_checked_with_an_exact_error() {
        assert_eq!(
            load(&[(CONTROL_PLANE_RPS_VAR, "15")])
                .unwrap()
                .control_plane_rps,
            15
        );
        assert_eq!(
            load(&[(CONTROL_PLANE_RPS_VAR, "0")]).unwrap_err(),
            "DEPLOYER_CONTROL_PLANE_RPS: 0 is out of range: it must be between 1 and 15"
        );
        assert_eq!(
            load(&[(CONTROL_PLANE_RPS_VAR, "16")]).unwrap_err(),
            "DEPLOYER_CONTROL_PLANE_RPS: 16 is out of range: it must be between 1 and 15"
        );
        assert_eq!(
            load(&[(CONTROL_PLANE_RPS_VAR, "fast")]).unwrap_err(),
            "DEPLOYER_CONTROL_PLANE_RPS: \"fast\" is not a whole number"
        );
        assert_eq!(
            load(&[(FLEET_REPORT_SECS_VAR, "30")]).unwrap_err(),
            "DEPLOYER_FLEET_REPORT_SECS: 30 is out of range: it must be between 60 and 86400"
        );
        assert_eq!(
            load(&[(NOTIFY_FLEET_VAR, "each")]).unwrap().notify,
            NotifyFleet::Each
        );
        assert_eq!(
            load(&[(NOTIFY_FLEET_VAR, "all")]).unwrap_err(),
            "DEPLOYER_NOTIFY_FLEET: \"all\" is not a choice: use summary or each"
        );
    }
}
