//! A target's `rollout`: traffic shifted to a new version in weighted steps, each gated by
//! CloudWatch alarms and the version's own error rate. Absent or `steps: []`: all at once.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Percent of traffic on the new version at each step, strictly ascending, each 1-99; after
    /// the last step the new version takes 100 %.
    #[serde(default)]
    pub steps: Vec<u8>,
    /// Time between steps.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// How often the gates are checked during a step.
    #[serde(default = "default_check")]
    pub check_secs: u64,
    /// CloudWatch alarm names; any in ALARM at a check rolls back.
    #[serde(default)]
    pub alarms: Vec<String>,
    /// The built-in gate: Errors / Invocations of the new version above this rolls back.
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    /// The evidence a check needs: with fewer invocations of the new version in the step so far
    /// (synthetic ones included) the check is inconclusive, and an inconclusive check never ends a
    /// step.
    #[serde(default = "default_min_invocations")]
    pub min_invocations: u64,
    /// How long past `interval_secs` a step may stay inconclusive before `on_inconclusive` decides.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: u64,
    #[serde(default)]
    pub on_inconclusive: OnInconclusive,
    /// Invocations the deployer makes itself when real traffic is too thin to judge.
    #[serde(default)]
    pub synthetic: Option<Synthetic>,
    /// Baseline gate: the new version's error rate may exceed the stable version's (same alias,
    /// same window) by at most this.
    #[serde(default)]
    pub max_error_rate_increase: Option<f64>,
    /// The new version's p99 `Duration` in the step's window, in milliseconds.
    #[serde(default)]
    pub max_p99_ms: Option<f64>,
    /// The new version's p99 over the stable version's p99 (e.g. 1.25).
    #[serde(default)]
    pub max_latency_increase: Option<f64>,
    /// Every gate is read and reported, none acts: for tuning thresholds before trusting them.
    #[serde(default)]
    pub report_only: bool,
}

/// What ends a step that stayed inconclusive for `max_wait_secs` past its interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInconclusive {
    /// No evidence is not good evidence: all traffic back on the stable version.
    #[default]
    Rollback,
    Proceed,
}

/// Synthetic traffic: the deployer invokes the new version (by its version number) itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synthetic {
    /// At most this many invocations per check (1-100).
    pub max_per_check: u32,
    /// `None`: the target's smoke payload.
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
}

fn default_interval() -> u64 {
    300
}

fn default_check() -> u64 {
    60
}

fn default_min_invocations() -> u64 {
    1
}

fn default_max_wait() -> u64 {
    3600
}

impl Default for Rollout {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            interval_secs: default_interval(),
            check_secs: default_check(),
            alarms: Vec::new(),
            max_error_rate: None,
            min_invocations: default_min_invocations(),
            max_wait_secs: default_max_wait(),
            on_inconclusive: OnInconclusive::default(),
            synthetic: None,
            max_error_rate_increase: None,
            max_p99_ms: None,
            max_latency_increase: None,
            report_only: false,
        }
    }
}

impl Rollout {
    /// Whether pushes roll out in steps (otherwise all at once).
    pub fn is_progressive(&self) -> bool {
        !self.steps.is_empty()
    }

    /// The weight (0-1) of step `n` (1-based).
    pub fn weight(&self, n: usize) -> Option<f64> {
        self.steps
            .get(n.checked_sub(1)?)
            .map(|p| f64::from(*p) / 100.0)
    }

    /// The step (1-based) whose weight `weight` (0-1) is, as Lambda reports it back.
    pub fn step_of(&self, weight: f64) -> Option<usize> {
        self.steps
            .iter()
            .position(|p| (f64::from(*p) / 100.0 - weight).abs() < 1e-6)
            .map(|i| i + 1)
    }

    /// Whether a check reads the new version's own metrics (and so needs `min_invocations` of
    /// evidence): any metric gate, or synthetic traffic, which exists only to supply that evidence.
    /// With alarms alone, the alarms are the evidence.
    pub fn reads_metrics(&self) -> bool {
        self.max_error_rate.is_some()
            || self.max_error_rate_increase.is_some()
            || self.max_p99_ms.is_some()
            || self.max_latency_increase.is_some()
            || self.synthetic.is_some()
    }

    /// The first problem, as (field, problem).
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(bad) = self.steps.iter().find(|p| !(1..=99).contains(*p)) {
            return Err((
                "rollout.steps",
                format!("{bad} is not a percentage between 1 and 99"),
            ));
        }
        if self.steps.windows(2).any(|w| w[0] >= w[1]) {
            return Err((
                "rollout.steps",
                format!("{:?} must be strictly ascending", self.steps),
            ));
        }
        if !(60..=86_400).contains(&self.interval_secs) {
            return Err((
                "rollout.interval_secs",
                format!(
                    "{} is out of range: it must be between 60 and 86400",
                    self.interval_secs
                ),
            ));
        }
        if !(60..=self.interval_secs).contains(&self.check_secs) {
            return Err((
                "rollout.check_secs",
                format!(
                    "{} is out of range: it must be between 60 and interval_secs ({})",
                    self.check_secs, self.interval_secs
                ),
            ));
        }
        if self.alarms.len() > 10 {
            return Err((
                "rollout.alarms",
                format!("names {} alarms: at most 10", self.alarms.len()),
            ));
        }
        if let Some(bad) = self
            .alarms
            .iter()
            .find(|a| a.is_empty() || a.chars().count() > 255 || a.chars().any(char::is_control))
        {
            return Err((
                "rollout.alarms",
                format!("{bad:?} is not a CloudWatch alarm name (1-255 characters)"),
            ));
        }
        // A name listed twice is almost always a typo for another alarm, which would go unwatched.
        if let Some((_, twice)) = self
            .alarms
            .iter()
            .enumerate()
            .find(|(i, a)| self.alarms[..*i].contains(a))
        {
            return Err(("rollout.alarms", format!("{twice:?} is listed twice")));
        }
        if let Some(r) = self.max_error_rate
            && !(0.0..=1.0).contains(&r)
        {
            return Err((
                "rollout.max_error_rate",
                format!("{r} is out of range: it must be between 0 and 1"),
            ));
        }
        if self.min_invocations == 0 {
            return Err(("rollout.min_invocations", "must be at least 1".to_owned()));
        }
        self.check_evidence()
    }

    /// The fields of issue 26: waiting for evidence, making it, and the comparative gates.
    fn check_evidence(&self) -> Result<(), (&'static str, String)> {
        if self.max_wait_secs > 86_400 {
            return Err((
                "rollout.max_wait_secs",
                format!(
                    "{} is out of range: it must be between 0 and 86400",
                    self.max_wait_secs
                ),
            ));
        }
        if let Some(s) = &self.synthetic
            && !(1..=100).contains(&s.max_per_check)
        {
            return Err((
                "rollout.synthetic.max_per_check",
                format!(
                    "{} is out of range: it must be between 1 and 100",
                    s.max_per_check
                ),
            ));
        }
        if let Some(r) = self.max_error_rate_increase
            && !(0.0..=1.0).contains(&r)
        {
            return Err((
                "rollout.max_error_rate_increase",
                format!("{r} is out of range: it must be between 0 and 1"),
            ));
        }
        if let Some(ms) = self.max_p99_ms
            && !(ms > 0.0 && ms <= 900_000.0)
        {
            return Err((
                "rollout.max_p99_ms",
                format!(
                    "{ms} is out of range: it must be above 0 and at most 900000 (Lambda's 15 minutes)"
                ),
            ));
        }
        if let Some(x) = self.max_latency_increase
            && !(1.0..=100.0).contains(&x)
        {
            return Err((
                "rollout.max_latency_increase",
                format!(
                    "{x} is out of range: it must be a ratio between 1 and 100 (1.25: at most 25 % slower)"
                ),
            ));
        }
        Ok(())
    }
}
