//! Signals on the modelled Lambda world: the EMF records a run writes, parsed back and checked
//! against the specification and against the run's report; and the deployment events it puts on
//! EventBridge (a mock client records every PutEvents), including an EventBridge that refuses them.

use crate::support;

use aws_sdk_eventbridge::operation::put_events::{PutEventsError, PutEventsInput, PutEventsOutput};
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use self_deployer::report::{Outcome, Report, step_name};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use support::world::{Answer, World, digest, image_uri};
use support::{BUS, IntoReport, TestEngine, config, config_with, push};

// --- EMF ---------------------------------------------------------------------------------------

const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One record against the EMF specification: `_aws.Timestamp` (whole milliseconds),
/// `_aws.CloudWatchMetrics` with a Namespace, Dimensions (sets of at most 30 names) and Metrics
/// (Name, Unit), and every dimension (a string) and metric (a number, or up to 100 numbers) at the
/// top level. `Err` says what is wrong.
fn check_emf(line: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let top = v.as_object().ok_or("not a JSON object")?;
    let aws = top
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    let ts = aws
        .get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("_aws.Timestamp is not a whole number of milliseconds")?;
    if ts < 1_000_000_000_000 {
        return Err(format!("_aws.Timestamp {ts} is not in milliseconds"));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or("_aws.CloudWatchMetrics is not a non-empty array")?;
    for d in directives {
        let ns = d["Namespace"]
            .as_str()
            .ok_or("a directive has no Namespace")?;
        if ns.is_empty() {
            return Err("empty Namespace".into());
        }
        let sets = d["Dimensions"]
            .as_array()
            .ok_or("Dimensions is not an array")?;
        let mut dimension_names = BTreeSet::new();
        for set in sets {
            let set = set.as_array().ok_or("a dimension set is not an array")?;
            if set.is_empty() || set.len() > 30 {
                return Err(format!("a dimension set has {} names", set.len()));
            }
            for name in set {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                match top.get(name) {
                    Some(Value::String(_)) => {}
                    other => {
                        return Err(format!(
                            "dimension {name} is not a string at the top level: {other:?}"
                        ));
                    }
                }
                dimension_names.insert(name.to_owned());
            }
        }
        let metrics = d["Metrics"]
            .as_array()
            .filter(|m| !m.is_empty() && m.len() <= 100)
            .ok_or("Metrics is not an array of 1 to 100 definitions")?;
        for m in metrics {
            let name = m["Name"].as_str().ok_or("a metric has no Name")?;
            if let Some(unit) = m.get("Unit") {
                let unit = unit.as_str().ok_or("a Unit is not a string")?;
                if !UNITS.contains(&unit) {
                    return Err(format!("{unit} is not a CloudWatch unit"));
                }
            }
            if dimension_names.contains(name) {
                return Err(format!("{name} is both a metric and a dimension"));
            }
            match top.get(name) {
                Some(Value::Number(_)) => {}
                Some(Value::Array(a))
                    if !a.is_empty() && a.len() <= 100 && a.iter().all(Value::is_number) => {}
                other => {
                    return Err(format!(
                        "metric {name} has no numeric value at the top level: {other:?}"
                    ));
                }
            }
        }
    }
    Ok(v)
}

fn dims(record: &Value) -> Value {
    record["_aws"]["CloudWatchMetrics"][0]["Dimensions"].clone()
}

fn metric_names(record: &Value) -> Vec<String> {
    record["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `payload` on an engine writing EMF into memory; the report and the records, each checked.
async fn run_with_metrics(
    w: &World,
    cfg: self_deployer::config::Config,
    payload: Value,
) -> (Report, Vec<Value>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(w)
        .config(cfg)
        .metrics("SelfDeployer", &lines)
        .build();
    let report = e.handle(&payload).await.report();
    let records = lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| check_emf(l).unwrap_or_else(|e| panic!("invalid EMF ({e}): {l}")))
        .collect();
    (report, records)
}

#[test]
fn the_emf_check_can_fail() {
    let good = json!({
        "_aws": {"Timestamp": 1_800_000_000_000u64, "CloudWatchMetrics": [{
            "Namespace": "N", "Dimensions": [["FunctionName"]],
            "Metrics": [{"Name": "Deployments", "Unit": "Count"}]}]},
        "FunctionName": "f", "Deployments": 1
    });
    assert!(check_emf(&good.to_string()).is_ok());
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        check_emf(&v.to_string()).unwrap_err()
    };
    assert!(broken(&|v| v["_aws"]["Timestamp"] = json!("now")).contains("Timestamp"));
    assert!(broken(&|v| v["_aws"]["Timestamp"] = json!(1_800_000_000)).contains("milliseconds"));
    assert!(
        broken(&|v| {
            v.as_object_mut().unwrap().remove("FunctionName");
        })
        .contains("dimension FunctionName")
    );
    assert!(
        broken(&|v| {
            v.as_object_mut().unwrap().remove("Deployments");
        })
        .contains("metric Deployments")
    );
    assert!(broken(&|v| v["Deployments"] = json!("1")).contains("metric Deployments"));
    assert!(
        broken(&|v| v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Counts"))
            .contains("not a CloudWatch unit")
    );
    assert!(
        broken(&|v| {
            v["_aws"]["CloudWatchMetrics"][0]
                .as_object_mut()
                .unwrap()
                .remove("Namespace");
        })
        .contains("Namespace")
    );
    assert!(broken(&|v| v["_aws"]["CloudWatchMetrics"] = json!([])).contains("CloudWatchMetrics"));
}

#[tokio::test]
async fn a_deploy_writes_valid_emf_that_agrees_with_its_report() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let (r, records) = run_with_metrics(
        &w,
        config(json!([{"repository": "api", "functions": ["api-dev"]}])),
        push("api", 'b', Some("v2")),
    )
    .await;
    assert_eq!(r.outcome, Outcome::Deployed);
    let d = &r.deployments[0];

    let main: Vec<&Value> = records
        .iter()
        .filter(|r| metric_names(r).contains(&"Deployments".to_owned()))
        .collect();
    assert_eq!(
        main.len(),
        1,
        "one deployment record per function: {records:#?}"
    );
    let m = main[0];
    assert_eq!(
        m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "SelfDeployer"
    );
    assert_eq!(
        dims(m),
        json!([["FunctionName"], ["FunctionName", "Outcome"], ["Outcome"]])
    );
    assert_eq!(
        metric_names(m),
        [
            "Deployments",
            "DeploymentDuration",
            "Rollbacks",
            "SmokeTestFailures"
        ]
    );
    assert_eq!(
        m["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        json!([
            {"Name": "Deployments", "Unit": "Count"},
            {"Name": "DeploymentDuration", "Unit": "Milliseconds"},
            {"Name": "Rollbacks", "Unit": "Count"},
            {"Name": "SmokeTestFailures", "Unit": "Count"},
        ])
    );
    assert_eq!(
        (&m["FunctionName"], &m["Outcome"], &m["Deployments"]),
        (&json!("api-dev"), &json!("deployed"), &json!(1))
    );
    let total: u64 = d.steps.iter().map(|s| s.ms).sum();
    assert!(total > 0, "the world's update takes virtual seconds");
    assert_eq!(m["DeploymentDuration"], json!(total));
    assert_eq!(
        (&m["Rollbacks"], &m["SmokeTestFailures"]),
        (&json!(0), &json!(0))
    );
    // Digest, version and tag are properties: present, never dimensions.
    assert_eq!(m["ImageDigest"], json!(digest('b')));
    assert_eq!(m["ImageTag"], "v2");
    assert_eq!(m["Version"], "2");
    assert_eq!(m["PreviousVersion"], "1");
    assert_eq!(m["ImageUri"], json!(image_uri("api", 'b')));
    assert!(m["RunId"].as_str().is_some_and(|s| !s.is_empty()));
    let all_dims: BTreeSet<String> = records
        .iter()
        .flat_map(|r| dims(r).as_array().unwrap().clone())
        .flat_map(|set| set.as_array().unwrap().clone())
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        all_dims,
        BTreeSet::from(["FunctionName".into(), "Outcome".into(), "Step".into()]),
        "no high-cardinality dimension"
    );

    // One StepDuration record per step of the report, with the report's timings.
    let step_records: Vec<&Value> = records
        .iter()
        .filter(|r| metric_names(r) == ["StepDuration"])
        .collect();
    let mut expected: Vec<(String, Vec<u64>)> = Vec::new();
    for s in &d.steps {
        match expected.iter_mut().find(|(n, _)| *n == step_name(s.step)) {
            Some((_, ms)) => ms.push(s.ms),
            None => expected.push((step_name(s.step), vec![s.ms])),
        }
    }
    let got: Vec<(String, Vec<u64>)> = step_records
        .iter()
        .map(|r| {
            assert_eq!(dims(r), json!([["FunctionName", "Step"], ["Step"]]));
            assert_eq!(
                r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
                "Milliseconds"
            );
            let ms = match &r["StepDuration"] {
                Value::Array(a) => a.iter().map(|v| v.as_u64().unwrap()).collect(),
                v => vec![v.as_u64().unwrap()],
            };
            (r["Step"].as_str().unwrap().to_owned(), ms)
        })
        .collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(s, _)| s == "smoke_test"));
    // DORA: one record in [FunctionName] with the lead time (from the push: no image config is read
    // without a GitHub target) and no change failure.
    let dora: Vec<&Value> = records
        .iter()
        .filter(|r| metric_names(r).contains(&"ChangeFailure".to_owned()))
        .collect();
    assert_eq!(dora.len(), 1);
    assert_eq!(dims(dora[0]), json!([["FunctionName"]]));
    assert_eq!(metric_names(dora[0]), ["LeadTimeSeconds", "ChangeFailure"]);
    assert_eq!(dora[0]["ChangeFailure"], json!(0));
    assert!(dora[0]["LeadTimeSeconds"].is_u64());
    assert_eq!(records.len(), 2 + expected.len());
    // Every record of the run carries the same timestamp and run id.
    for rec in &records {
        assert_eq!(rec["RunId"], m["RunId"]);
        assert_eq!(rec["_aws"]["Timestamp"], m["_aws"]["Timestamp"]);
    }
}

#[tokio::test]
async fn a_failed_smoke_test_and_a_rollback_are_counted() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer('b', Answer::status(500));
    let (r, records) = run_with_metrics(
        &w,
        config(json!([{"repository": "api", "functions": ["api-dev"]}])),
        push("api", 'b', Some("v2")),
    )
    .await;
    assert_eq!(r.outcome, Outcome::Failed);
    let m = &records[0];
    assert_eq!(
        (&m["Outcome"], &m["SmokeTestFailures"]),
        (&json!("failed"), &json!(1))
    );
    assert_eq!(m["FailedStep"], "smoke_test");
    assert_eq!(m["Rollbacks"], 0);

    // Two real deployments, then a rollback.
    w.answer('b', Answer::status(200));
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        w.ecr_image("api", c, Some(tag));
        let (r, _) = run_with_metrics(
            &w,
            config(json!([{"repository": "api", "functions": ["api-dev"]}])),
            push("api", c, Some(tag)),
        )
        .await;
        assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    }
    let (r, records) = run_with_metrics(
        &w,
        config(json!([{"repository": "api", "functions": ["api-dev"]}])),
        json!({"action": "rollback", "function": "api-dev"}),
    )
    .await;
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    let m = &records[0];
    assert_eq!(
        (&m["Outcome"], &m["Rollbacks"], &m["Action"]),
        (&json!("rolled_back"), &json!(1), &json!("rollback"))
    );
    assert_eq!(
        (&m["Version"], &m["PreviousVersion"]),
        (&json!("2"), &json!("3"))
    );
}

#[tokio::test]
async fn a_run_for_no_function_writes_one_record_by_outcome_and_the_namespace_is_configurable() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let lines = Arc::new(Mutex::new(Vec::new()));
    let cfg = config_with(
        json!([{"repository": "api", "functions": ["api-dev"]}]),
        &[("DEPLOYER_METRICS_NAMESPACE", "Team/Deploys")],
    );
    let e = TestEngine::new(&w)
        .metrics(&cfg.signals.metrics_namespace, &lines)
        .config(cfg)
        .build();
    let r = e.handle(&push("web", 'b', Some("v1"))).await.report();
    assert_eq!(r.outcome, Outcome::Skipped);
    let lines = lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let m = check_emf(&lines[0]).unwrap();
    assert_eq!(
        m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Team/Deploys"
    );
    assert_eq!(dims(&m), json!([["Outcome"]]));
    assert_eq!(
        (&m["Outcome"], &m["Deployments"]),
        (&json!("skipped"), &json!(1))
    );
    assert!(m.get("FunctionName").is_none());
}

#[tokio::test]
async fn status_and_history_write_no_metrics_and_an_engine_without_signals_writes_none() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).metrics("SelfDeployer", &lines).build();
    e.handle(&json!({"action": "status"})).await.unwrap();
    e.handle(&json!({"action": "history", "function": "api-dev"}))
        .await
        .unwrap();
    assert!(lines.lock().unwrap().is_empty());
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert!(!lines.lock().unwrap().is_empty(), "a deploy does write");
}

// --- deployment events -------------------------------------------------------------------------

/// PutEvents that takes every entry and records the request.
fn put_events(seen: &Arc<Mutex<Vec<PutEventsInput>>>) -> Rule {
    let seen = seen.clone();
    mock!(aws_sdk_eventbridge::Client::put_events).then_compute_output(move |req| {
        seen.lock().unwrap().push(req.clone());
        let entries = (0..req.entries().len())
            .map(|i| {
                PutEventsResultEntry::builder()
                    .event_id(format!("ev-{i}"))
                    .build()
            })
            .collect();
        PutEventsOutput::builder()
            .failed_entry_count(0)
            .set_entries(Some(entries))
            .build()
    })
}

/// Every event put, as (bus, source, detail-type, detail).
fn events(seen: &Arc<Mutex<Vec<PutEventsInput>>>) -> Vec<(String, String, String, Value)> {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|req| req.entries().to_vec())
        .map(|e| {
            (
                e.event_bus_name().unwrap_or_default().to_owned(),
                e.source().unwrap_or_default().to_owned(),
                e.detail_type().unwrap_or_default().to_owned(),
                serde_json::from_str(e.detail().unwrap_or_default()).expect("detail is JSON"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_deploy_puts_one_versioned_event_with_what_happened() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).events(&put_events(&seen)).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed);
    assert!(r.deployments[0].warnings.is_empty());
    let got = events(&seen);
    assert_eq!(got.len(), 1);
    let (bus, source, detail_type, detail) = &got[0];
    assert_eq!(
        (bus.as_str(), source.as_str(), detail_type.as_str()),
        (BUS, "self-deployer", "Deployment State Change")
    );
    let total: u64 = r.deployments[0].steps.iter().map(|s| s.ms).sum();
    let run_id = detail["run_id"].as_str().unwrap().to_owned();
    assert!(!run_id.is_empty());
    assert_eq!(
        detail,
        &json!({
            "schema": 1,
            "function": "api-dev",
            "alias": "live",
            "action": "deploy",
            "outcome": "deployed",
            "version": "2",
            "previous_version": "1",
            "image": {"repository": "api", "uri": image_uri("api", 'b'), "digest": digest('b'), "tag": "v2"},
            "failed_step": null,
            "reason": r.deployments[0].reason,
            "request_reason": null,
            "rollout": null,
            "duration_ms": total,
            "run_id": run_id,
        })
    );
    // The run id names the same run in the alias's description.
    let alias_description = w.with_func("api-dev", |f| f.aliases["live"].description.clone());
    assert!(
        alias_description.contains(&format!("run={run_id}")),
        "{alias_description}"
    );
}

#[tokio::test]
async fn a_failure_is_an_event_and_skips_duplicates_and_dry_runs_are_not() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer('b', Answer::status(503));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).events(&put_events(&seen)).build();

    let failed = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(failed.outcome, Outcome::Failed);
    let got = events(&seen);
    assert_eq!(got.len(), 1);
    let detail = &got[0].3;
    assert_eq!(
        (
            &detail["outcome"],
            &detail["failed_step"],
            &detail["version"]
        ),
        (&json!("failed"), &json!("smoke_test"), &json!("1"))
    );
    assert_eq!(detail["reason"], "statusCode 503 is not one of [200]");

    // Nothing that changed or tried to change anything: no call at all.
    let before = seen.lock().unwrap().len();
    let skipped = e.handle(&push("web", 'c', Some("v1"))).await.report();
    assert_eq!(skipped.outcome, Outcome::Skipped);
    let live = e.handle(&push("api", 'a', Some("v1"))).await.report();
    assert_eq!(live.outcome, Outcome::AlreadyLive);
    let dry = e
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": image_uri("api", 'c'), "dry_run": true}))
        .await
        .report();
    assert_eq!(dry.outcome, Outcome::WouldDeploy, "{dry:#?}");
    assert_eq!(seen.lock().unwrap().len(), before);
}

#[tokio::test]
async fn a_rollback_is_an_event_with_the_reason_a_person_gave() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).events(&put_events(&seen)).build();
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "reason": "5xx after v2"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    let got = events(&seen);
    assert_eq!(got.len(), 2);
    let detail = &got[1].3;
    assert_eq!(
        (
            &detail["action"],
            &detail["outcome"],
            &detail["version"],
            &detail["previous_version"],
            &detail["request_reason"]
        ),
        (
            &json!("rollback"),
            &json!("rolled_back"),
            &json!("1"),
            &json!("2"),
            &json!("5xx after v2")
        )
    );
}

#[tokio::test]
async fn one_event_per_function_in_one_call() {
    let w = World::new();
    for f in ["api-a", "api-b", "api-c"] {
        w.live_function(f, "api", 'a');
    }
    w.answer('b', Answer::status(200));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w)
        .config(config(
            json!([{"repository": "api", "functions": ["api-a", "api-b", "api-c"]}]),
        ))
        .events(&put_events(&seen))
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed);
    assert_eq!(seen.lock().unwrap().len(), 1, "one PutEvents call");
    let functions: Vec<Value> = events(&seen)
        .into_iter()
        .map(|e| e.3["function"].clone())
        .collect();
    assert_eq!(functions, [json!("api-a"), json!("api-b"), json!("api-c")]);
}

#[tokio::test]
async fn an_eventbridge_that_refuses_is_a_warning_never_a_changed_outcome() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let denied = mock!(aws_sdk_eventbridge::Client::put_events).then_error(|| {
        PutEventsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: events:PutEvents")
                .build(),
        )
    });
    let e = TestEngine::new(&w).events(&denied).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(denied.num_calls(), 1);
    assert_eq!(
        r.deployments[0].warnings,
        [format!(
            "deployment event not sent to event bus {BUS}: PutEvents failed: AccessDeniedException: not authorized to perform: events:PutEvents"
        )]
    );

    // EventBridge takes the call but not the entry.
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let partial = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .error_message("try again")
                    .build(),
            )
            .build()
    });
    let e = TestEngine::new(&w).events(&partial).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed);
    assert_eq!(
        r.deployments[0].warnings,
        [format!(
            "deployment event not sent to event bus {BUS}: PutEvents did not take the event: InternalFailure: try again"
        )]
    );
}
