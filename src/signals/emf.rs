//! CloudWatch embedded metric format: the records a run writes to its log, from its report.
//!
//! Written here rather than with `metrics_cloudwatch_embedded` (see docs/design.md, "Signals"): that
//! crate installs a process-wide recorder, writes one dimension set per record, and keeps
//! properties for the whole process, while a run needs three dimension sets per record, properties
//! per function, and records a test can read back without sharing a global.
//!
//! Per function: one record with `Deployments`, `DeploymentDuration`, `Rollbacks` and
//! `SmokeTestFailures` in dimension sets `[FunctionName]`, `[FunctionName, Outcome]` and `[Outcome]`,
//! and one record per step with `StepDuration` in `[FunctionName, Step]` and `[Step]`. A run with
//! no function (an event for nothing this deployer manages, a tag that did not resolve) writes one
//! record with `Deployments` in `[Outcome]`. Digest, version, tag and run id are properties, never
//! dimensions: each value would be a metric of its own.

use crate::report::{Deployment, Outcome, Report, Step, step_name};
use serde_json::{Map, Value, json};

pub const DEPLOYMENTS: &str = "Deployments";
pub const DEPLOYMENT_DURATION: &str = "DeploymentDuration";
pub const STEP_DURATION: &str = "StepDuration";
pub const ROLLBACKS: &str = "Rollbacks";
pub const SMOKE_TEST_FAILURES: &str = "SmokeTestFailures";
/// Lambda's 429s the run met (and waited out while it had time): one record per run that met any.
pub const THROTTLES: &str = "Throttles";

const COUNT: &str = "Count";
const MILLISECONDS: &str = "Milliseconds";
/// Reasons are for people reading the log next to the numbers; a bound keeps records small.
const MAX_REASON: usize = 500;

/// Every record of one run, each one JSON object (one log line).
pub fn records(report: &Report, namespace: &str, run_id: &str, timestamp_ms: u64) -> Vec<Value> {
    let at = At {
        namespace,
        run_id,
        timestamp_ms,
    };
    let mut out = Vec::new();
    if report.throttles > 0 {
        let mut fields = Map::new();
        common(&mut fields, report, run_id);
        out.push(record(
            namespace,
            timestamp_ms,
            &[&["Action"]],
            &[(THROTTLES, COUNT, json!(report.throttles))],
            fields,
        ));
    }
    if report.deployments.is_empty() {
        out.push(run_record(report, &at));
        return out;
    }
    for d in report
        .deployments
        .iter()
        .filter(|d| !crate::signals::quiet_check(d))
    {
        deployment_records(&mut out, report, d, &at);
    }
    out
}

/// Where and when the records of one run go.
struct At<'a> {
    namespace: &'a str,
    run_id: &'a str,
    timestamp_ms: u64,
}

/// What every record of a run carries.
fn common(props: &mut Map<String, Value>, report: &Report, run_id: &str) {
    put(props, "RunId", Some(run_id));
    put(props, "Action", Some(action(report)));
    if report.dry_run {
        props.insert("DryRun".into(), Value::Bool(true));
    }
}

/// A run that deployed nothing: one record of its outcome.
fn run_record(report: &Report, at: &At<'_>) -> Value {
    let mut fields = Map::new();
    fields.insert("Outcome".into(), report.outcome.as_str().into());
    common(&mut fields, report, at.run_id);
    put(&mut fields, "Repository", report.repository.as_deref());
    put(&mut fields, "ImageDigest", report.image_digest.as_deref());
    put(&mut fields, "ImageTag", report.image_tag.as_deref());
    put(
        &mut fields,
        "Reason",
        report
            .reason
            .as_deref()
            .map(|r| crate::text::truncate(r, MAX_REASON))
            .as_deref(),
    );
    record(
        at.namespace,
        at.timestamp_ms,
        &[&["Outcome"]],
        &[(DEPLOYMENTS, COUNT, json!(1))],
        fields,
    )
}

/// One function's records: the deployment, its DORA figures, and each step's duration.
fn deployment_records(out: &mut Vec<Value>, report: &Report, d: &Deployment, at: &At<'_>) {
    let (namespace, run_id, timestamp_ms) = (at.namespace, at.run_id, at.timestamp_ms);
    let mut fields = Map::new();
    fields.insert("FunctionName".into(), d.function.name().into());
    fields.insert("Outcome".into(), d.outcome.as_str().into());
    common(&mut fields, report, run_id);
    properties(&mut fields, report, d);
    let duration: u64 = d.steps.iter().map(|s| s.ms).sum();
    // A rollout stopped by a gate or an alarm is a rollback too, whatever its outcome says.
    let rollbacks = u64::from(
        d.outcome == Outcome::RolledBack
            || (d.failed_step == Some(crate::report::Step::Rollout) && d.rollout.is_some()),
    );
    let smoke_failures = u64::from(d.smoke_test.as_ref().is_some_and(|s| !s.passed));
    out.push(record(
        namespace,
        timestamp_ms,
        &[
            &["FunctionName"],
            &["FunctionName", "Outcome"],
            &["Outcome"],
        ],
        &[
            (DEPLOYMENTS, COUNT, json!(1)),
            (DEPLOYMENT_DURATION, MILLISECONDS, json!(duration)),
            (ROLLBACKS, COUNT, json!(rollbacks)),
            (SMOKE_TEST_FAILURES, COUNT, json!(smoke_failures)),
        ],
        fields,
    ));
    // DORA: lead time and change failure, in [FunctionName] only.
    if let Some(m) = super::dora_emf::metrics(report, d, timestamp_ms) {
        let mut fields = super::dora_emf::fields(report, d, timestamp_ms);
        common(&mut fields, report, run_id);
        out.push(record(
            namespace,
            timestamp_ms,
            &[&["FunctionName"]],
            &m,
            fields,
        ));
    }
    for (step, ms) in steps(d) {
        let mut fields = Map::new();
        fields.insert("FunctionName".into(), d.function.name().into());
        fields.insert("Step".into(), step_name(step).into());
        common(&mut fields, report, run_id);
        // A property here: this record's dimensions are the step's.
        fields.insert("Outcome".into(), d.outcome.as_str().into());
        // One value, or all of them when a step ran more than once.
        let value = match ms.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        out.push(record(
            namespace,
            timestamp_ms,
            &[&["FunctionName", "Step"], &["Step"]],
            &[(STEP_DURATION, MILLISECONDS, value)],
            fields,
        ));
    }
}

fn action(report: &Report) -> &'static str {
    report.action.as_str()
}

fn put(fields: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        fields.insert(key.to_owned(), v.into());
    }
}

fn properties(fields: &mut Map<String, Value>, report: &Report, d: &Deployment) {
    let version = d.version.map(|v| v.to_string());
    let previous = d.previous_version.map(|v| v.to_string());
    put(fields, "Alias", Some(d.alias.as_str()));
    if d.function.is_arn() {
        put(fields, "FunctionArn", Some(d.function.as_str()));
    }
    put(fields, "Version", version.as_deref());
    put(fields, "PreviousVersion", previous.as_deref());
    put(fields, "Repository", report.repository.as_deref());
    put(fields, "ImageDigest", report.image_digest.as_deref());
    put(fields, "ImageTag", report.image_tag.as_deref());
    put(fields, "ImageUri", report.image_uri.as_deref());
    let failed_step = d.failed_step.map(step_name);
    put(fields, "FailedStep", failed_step.as_deref());
    let reason = d
        .reason
        .as_deref()
        .map(|r| crate::text::truncate(r, MAX_REASON));
    put(fields, "Reason", reason.as_deref());
}

/// The step timings grouped by step, in the order the steps first ran.
fn steps(d: &Deployment) -> Vec<(Step, Vec<u64>)> {
    let mut out: Vec<(Step, Vec<u64>)> = Vec::new();
    for t in &d.steps {
        match out.iter_mut().find(|(s, _)| *s == t.step) {
            Some((_, ms)) => ms.push(t.ms),
            None => out.push((t.step, vec![t.ms])),
        }
    }
    out
}

/// One EMF record: the `_aws` metadata, and every dimension value, metric value and property at
/// the top level, as the specification requires.
fn record(
    namespace: &str,
    timestamp_ms: u64,
    dimensions: &[&[&str]],
    metrics: &[(&str, &str, Value)],
    mut fields: Map<String, Value>,
) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, _, value) in metrics {
        fields.insert((*name).to_owned(), value.clone());
    }
    fields.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": dimensions,
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(fields)
}
