//! One summary per fleet: above DEPLOYER_INLINE_MAX (and past one run per function), a push's
//! batches tell only their failures, at once, and a scheduled check sends one summary when every
//! function has an outcome, or after DEPLOYER_FLEET_REPORT_SECS naming the stragglers. The same for
//! a fleet rollback. DEPLOYER_NOTIFY_FLEET=each keeps one message per function.

use crate::support;

use aws_sdk_lambda::types::LastUpdateStatus;
use self_deployer::engine::Engine;
use self_deployer::report::{Outcome, Report};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::world::{World, image_uri};
use support::{
    DEPLOYER_ARN, IntoReport, SCHEDULER_ROLE, TestEngine, config_with, push, sns_subjects,
};

const N: usize = 24;

fn names() -> Vec<String> {
    (1..=N).map(|i| format!("w-{i:02}")).collect()
}

/// 24 live functions; w-05's update fails (Lambda cannot pull the image).
fn world() -> World {
    let w = World::new();
    for f in names() {
        w.live_function(&f, "api", 'a');
    }
    w.with_func("w-05", |f| f.pending_outcome = LastUpdateStatus::Failed);
    w.ecr_image("api", 'a', Some("v1"));
    w.ecr_image("api", 'b', Some("v2"));
    w
}

fn engine(w: &World, extra: &[(&str, &str)]) -> (Engine, Arc<Mutex<Vec<String>>>) {
    let mut vars = vec![
        ("DEPLOYER_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE),
        ("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN),
    ];
    vars.extend_from_slice(extra);
    let config = config_with(json!([{"repository": "api", "functions": names()}]), &vars);
    let (publish, subjects) = sns_subjects();
    let e = TestEngine::new(w)
        .config(config)
        .rollouts()
        .sns(&publish)
        .build();
    (e, subjects)
}

/// Plays every dispatched payload not played yet, one after another.
async fn run_batches(w: &World, e: &Engine, from: usize) -> Vec<Report> {
    let mut out = Vec::new();
    for p in w.dispatched().into_iter().skip(from) {
        out.push(e.handle(&p).await.report());
    }
    out
}

/// Fires the one pending schedule at its time.
async fn fire(w: &World, e: &Engine) -> Report {
    let s = w.only_schedule();
    w.advance_to(s.at());
    w.lock().schedules.remove(&s.name);
    e.handle(&s.payload()).await.report()
}

fn summary_payload(w: &World) -> Value {
    w.only_schedule().payload()
}

#[tokio::test]
async fn a_push_is_told_in_one_summary_and_each_failure_at_once() {
    let w = world();
    let (e, subjects) = engine(&w, &[]);
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "24 of 24 dispatched in 8 batches: each batch's run deploys its functions at once and reports"
        )
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(w.dispatched().len(), 8, "8 batches of 3");
    assert!(w.dispatched().iter().all(|p| p["summary"].is_string()));
    let check = summary_payload(&w);
    assert_eq!(check["action"], "fleet_report");
    assert_eq!(check["image_uri"], image_uri("api", 'b'));

    // A check that comes before the fleet is done looks again a minute later and tells nobody.
    let early = fire(&w, &e).await;
    assert_eq!(early.outcome, Outcome::Skipped, "{early:#?}");
    assert!(
        early
            .reason
            .as_deref()
            .unwrap()
            .starts_with("24 of 24 functions have no outcome yet"),
        "{:?}",
        early.reason
    );
    assert!(subjects.lock().unwrap().is_empty());

    let batches = run_batches(&w, &e, 0).await;
    assert_eq!(
        batches.iter().map(|b| b.deployments.len()).sum::<usize>(),
        N
    );
    // One message so far: the failure, at once.
    assert_eq!(
        subjects.lock().unwrap().clone(),
        ["FAILED w-05 at wait_updated (v2)"],
        "successes wait for the summary"
    );

    let s = fire(&w, &e).await;
    assert_eq!(s.outcome, Outcome::Failed, "{s:#?}");
    let reason = s.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("DEPLOYED api v2 to 23 of 24 functions; 1 failed: w-05 ("),
        "{reason}"
    );
    assert!(reason.contains("ImageAccessDenied"), "{reason}");
    assert_eq!(
        subjects.lock().unwrap().clone(),
        [
            "FAILED w-05 at wait_updated (v2)",
            "DEPLOYED api v2 to 23 of 24 functions; 1 failed"
        ],
        "the summary arrives once"
    );
    assert!(w.schedules().is_empty(), "no check is left behind");
}

#[tokio::test]
async fn after_the_report_time_the_summary_names_the_stragglers() {
    let w = world();
    let (e, subjects) = engine(&w, &[("DEPLOYER_FLEET_REPORT_SECS", "600")]);
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    // One batch (w-01..w-03) never runs: Lambda's queue lost it.
    let played = run_batches(&w, &e, 1).await;
    assert_eq!(played.len(), 7);
    let mut summary = fire(&w, &e).await;
    let mut checks = 1;
    while summary.fleet.is_none() {
        checks += 1;
        summary = fire(&w, &e).await;
    }
    assert!(checks > 1, "checked again until the report time");
    let reason = summary.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("DEPLOYED api v2 to 20 of 24 functions; 1 failed: w-05"),
        "{reason}"
    );
    assert!(
        reason.ends_with("; 3 without an outcome after 600 s: w-01, w-02, w-03"),
        "{reason}"
    );
    assert_eq!(summary.outcome, Outcome::Failed);
    let told = subjects.lock().unwrap().clone();
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(
        told[1],
        "DEPLOYED api v2 to 20 of 24 functions; 1 failed; 3 unfinished"
    );
}

#[tokio::test]
async fn with_notify_fleet_each_every_function_is_told_and_no_check_is_scheduled() {
    let w = world();
    let (e, subjects) = engine(&w, &[("DEPLOYER_NOTIFY_FLEET", "each")]);
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(
        r.warnings,
        [
            "no fleet summary (DEPLOYER_NOTIFY_FLEET is each): each function's run tells its own outcome"
        ]
    );
    assert!(w.schedules().is_empty());
    assert!(w.dispatched().iter().all(|p| p.get("summary").is_none()));
    run_batches(&w, &e, 0).await;
    assert_eq!(
        subjects.lock().unwrap().len(),
        N,
        "one message per function"
    );
}

#[tokio::test]
async fn a_fleet_rollback_is_dispatched_and_told_in_one_summary() {
    let w = world();
    w.with_func("w-05", |f| f.pending_outcome = LastUpdateStatus::Successful);
    let (e, subjects) = engine(&w, &[]);
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    run_batches(&w, &e, 0).await;
    fire(&w, &e).await;
    subjects.lock().unwrap().clear();
    let before = w.dispatched().len();

    let r = e
        .handle(&json!({"action": "rollback", "repository": "api"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "24 of 24 dispatched in 8 batches: each batch's run rolls back its functions at once and reports"
        )
    );
    assert_eq!(w.dispatched().len() - before, 8);
    assert_eq!(w.dispatched()[before]["action"], "rollback_batch");
    let rolled = run_batches(&w, &e, before).await;
    let outcomes: Vec<Outcome> = rolled
        .iter()
        .flat_map(|r| r.deployments.iter().map(|d| d.outcome))
        .collect();
    assert_eq!(outcomes, vec![Outcome::RolledBack; N]);
    for f in names() {
        assert_eq!(w.alias_version(&f, "live").as_deref(), Some("1"), "{f}");
    }
    assert!(subjects.lock().unwrap().is_empty());
    let s = fire(&w, &e).await;
    assert_eq!(s.outcome, Outcome::RolledBack, "{s:#?}");
    assert_eq!(
        subjects.lock().unwrap().clone(),
        ["ROLLED BACK api on 24 of 24 functions"]
    );
}

/// A push goes to the functions whose tag patterns match: the summary counts those, not every
/// function of the repository.
#[tokio::test]
async fn the_summary_counts_the_functions_the_push_went_to() {
    let w = world();
    w.with_func("w-05", |f| f.pending_outcome = LastUpdateStatus::Successful);
    w.live_function("prod-1", "api", 'a');
    w.live_function("prod-2", "api", 'a');
    let config = config_with(
        json!([
            {"repository": "api", "functions": ["prod-1", "prod-2"], "tags": ["release-*"]},
            {"repository": "api", "functions": names(), "tags": ["v*"]}
        ]),
        &[
            ("DEPLOYER_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE),
            ("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN),
        ],
    );
    let (publish, subjects) = sns_subjects();
    let e = TestEngine::new(&w)
        .config(config)
        .rollouts()
        .sns(&publish)
        .build();
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(
        summary_payload(&w)["members"],
        "cfffff3",
        "the 24 after prod-1 and prod-2"
    );
    run_batches(&w, &e, 0).await;
    let s = fire(&w, &e).await;
    assert_eq!(
        s.reason.as_deref(),
        Some("DEPLOYED api v2 to 24 of 24 functions"),
        "{s:#?}"
    );
    assert_eq!(
        subjects.lock().unwrap().clone(),
        ["DEPLOYED api v2 to 24 of 24 functions"]
    );
}
