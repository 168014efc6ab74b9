//! The JSON body for machines (SQS, Lambda subscribers).

use crate::report::{Deployment, Report};
use serde_json::Value;

/// The report, narrowed to this function, for machines.
pub fn machine(report: &Report, d: Option<&Deployment>) -> Value {
    let mut one = report.clone();
    one.notification = None;
    if let Some(d) = d {
        one.outcome = d.outcome;
        one.deployments = vec![d.clone()];
    }
    serde_json::to_value(&one).unwrap_or(Value::Null)
}
