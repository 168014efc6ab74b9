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
    /// Fewer invocations than this and the error rate is not judged (the gate passes, and says so).
    #[serde(default = "default_min_invocations")]
    pub min_invocations: u64,
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

impl Default for Rollout {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            interval_secs: default_interval(),
            check_secs: default_check(),
            alarms: Vec::new(),
            max_error_rate: None,
            min_invocations: default_min_invocations(),
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
        Ok(())
    }
}
