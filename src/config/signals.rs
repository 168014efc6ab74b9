//! What every run tells machines besides its report: EMF metrics in the log, and a deployment event
//! on an EventBridge bus. Three variables, each checked here with an exact error before any AWS call.

use super::{ConfigError, EVENT_BUS_VAR, METRICS_NAMESPACE_VAR, METRICS_VAR};

/// The namespace metrics go to unless DEPLOYER_METRICS_NAMESPACE names another.
pub const DEFAULT_NAMESPACE: &str = "SelfDeployer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalsConfig {
    /// Write EMF records (DEPLOYER_METRICS, default true). The CLI writes them only with `--metrics`.
    pub metrics: bool,
    pub metrics_namespace: String,
    /// The bus deployment events go to: a name (`default` is the account's default bus) or an
    /// ARN. `None`: no events.
    pub event_bus: Option<String>,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        Self {
            metrics: true,
            metrics_namespace: DEFAULT_NAMESPACE.to_owned(),
            event_bus: None,
        }
    }
}

pub(super) fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<SignalsConfig, ConfigError> {
    let metrics = match get(METRICS_VAR).as_deref().map(str::trim) {
        None | Some("") | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ConfigError::new(
                METRICS_VAR,
                "",
                format!("{other:?} is not a boolean: use true or false"),
            ));
        }
    };
    let metrics_namespace = match get(METRICS_NAMESPACE_VAR) {
        None => DEFAULT_NAMESPACE.to_owned(),
        Some(ns) => {
            check_namespace(&ns).map_err(|p| ConfigError::new(METRICS_NAMESPACE_VAR, "", p))?;
            ns
        }
    };
    let event_bus = match get(EVENT_BUS_VAR).filter(|s| !s.is_empty()) {
        None => None,
        Some(bus) => {
            check_event_bus(&bus).map_err(|p| ConfigError::new(EVENT_BUS_VAR, "", p))?;
            Some(bus)
        }
    };
    Ok(SignalsConfig {
        metrics,
        metrics_namespace,
        event_bus,
    })
}

/// CloudWatch's rules for a namespace: 1 to 255 of `0-9A-Za-z . - _ / # : space`, not only
/// spaces, and not `AWS/…`, which is AWS's own.
fn check_namespace(ns: &str) -> Result<(), String> {
    if ns.trim().is_empty() {
        return Err("is empty: name a CloudWatch namespace, e.g. SelfDeployer".into());
    }
    if ns.chars().count() > 255 {
        return Err(format!(
            "is {} characters long: a CloudWatch namespace has at most 255",
            ns.chars().count()
        ));
    }
    if let Some(bad) = ns.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#' | ':' | ' '))
    }) {
        return Err(format!(
            "{ns:?} contains {bad:?}: a CloudWatch namespace has only letters, digits, spaces and . - _ / # :"
        ));
    }
    if ns.starts_with("AWS/") {
        return Err(format!(
            "{ns:?} starts with \"AWS/\", which is reserved for AWS's own metrics"
        ));
    }
    Ok(())
}

fn is_bus_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
}

/// A bus name (`[/.-_A-Za-z0-9]`, at most 256) or a bus ARN
/// (`arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME`).
fn check_event_bus(bus: &str) -> Result<(), String> {
    if bus.starts_with("arn:") {
        if let Ok(arn) = bus.parse::<crate::types::Arn>()
            && arn.service() == "events"
            && !arn.region().is_empty()
            && arn
                .resource()
                .strip_prefix("event-bus/")
                .is_some_and(is_bus_name)
        {
            return Ok(());
        }
        return Err(format!(
            "{bus:?} is not an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"
        ));
    }
    if is_bus_name(bus) {
        return Ok(());
    }
    Err(format!(
        "{bus:?} is not an event bus name (at most 256 of A-Z a-z 0-9 . - _ /; \"default\" is the account's default bus) or ARN"
    ))
}
