//! `status --repository`: how far a fleet is on one image (by default the repository's newest),
//! read from the functions: live, failed (what its run left, or a rejected image), in progress
//! (`$LATEST` on the image, the alias not yet), not started.

use crate::support;

use aws_sdk_lambda::types::LastUpdateStatus;
use self_deployer::actions::fleet_status::{FleetStatus, Progress};
use self_deployer::engine::{Engine, Response};
use serde_json::json;
use std::time::Duration;
use support::world::{Code, World, digest};
use support::{DEPLOYER_ARN, IntoReport, SCHEDULER_ROLE, TestEngine, config_with, push};

fn names() -> Vec<String> {
    (1..=24).map(|i| format!("w-{i:02}")).collect()
}

fn setup() -> (World, Engine) {
    let w = World::new();
    for f in names() {
        w.live_function(&f, "api", 'a');
    }
    w.with_func("w-05", |f| f.pending_outcome = LastUpdateStatus::Failed);
    w.ecr_image("api", 'a', Some("v1"));
    w.time.advance(Duration::from_secs(60));
    w.ecr_image("api", 'b', Some("v2"));
    let config = config_with(
        json!([{"repository": "api", "functions": names()}]),
        &[
            ("DEPLOYER_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE),
            ("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN),
        ],
    );
    let e = TestEngine::new(&w).config(config).rollouts().build();
    (w, e)
}

async fn status(e: &Engine, digest: Option<String>) -> FleetStatus {
    let mut p = json!({"action": "status", "repository": "api"});
    if let Some(d) = digest {
        p["digest"] = json!(d);
    }
    match e.handle(&p).await.expect("valid") {
        Response::FleetStatus(s) => s,
        other => panic!("not a fleet status: {other:?}"),
    }
}

#[tokio::test]
async fn progress_counts_live_failed_in_progress_and_not_started() {
    let (w, e) = setup();
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    // Half the batches have run (w-01..w-12; w-05 failed).
    for p in w.dispatched().into_iter().take(4) {
        e.handle(&p).await.report();
    }
    // w-20's update has started and is not done.
    w.with_func("w-20", |f| {
        f.latest = Code::of("api", 'b');
        f.status = LastUpdateStatus::InProgress;
    });
    let s = status(&e, None).await;
    assert_eq!(s.digest, digest('b'), "the newest image by default");
    assert_eq!(
        s.summary,
        "11 of 24 on sha256:bbbbbbbbbbbb, 1 failed, 1 in progress, 11 not started"
    );
    assert!(!s.all_live());
    assert!(!s.is_failure());
    let failed = s.exceptions.iter().find(|x| x.function == "w-05").unwrap();
    assert_eq!(failed.progress, Progress::Failed);
    assert_eq!(failed.runs.as_deref(), Some("sha256:aaaaaaaaaaaa"));
    assert!(
        failed
            .reason
            .as_deref()
            .unwrap()
            .contains("ImageAccessDenied"),
        "{failed:?}"
    );
    let moving = s.exceptions.iter().find(|x| x.function == "w-20").unwrap();
    assert_eq!(moving.progress, Progress::InProgress);
    assert_eq!(
        s.exceptions.len(),
        13,
        "every function not live, none that is"
    );
    assert!(
        w.mutating_calls().iter().all(|c| c.function != "w-20"),
        "status changes nothing"
    );

    // The old image: 12 still on it.
    let old = status(&e, Some(digest('a'))).await;
    assert_eq!(old.live, 13, "w-05 stayed on a, and the 12 not deployed");
}

#[tokio::test]
async fn every_function_live_is_all_live() {
    let (w, e) = setup();
    w.with_func("w-05", |f| f.pending_outcome = LastUpdateStatus::Successful);
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    for p in w.dispatched() {
        e.handle(&p).await.report();
    }
    let s = status(&e, Some(digest('b'))).await;
    assert!(s.all_live(), "{s:#?}");
    assert_eq!(
        s.summary,
        "24 of 24 on sha256:bbbbbbbbbbbb, 0 failed, 0 in progress"
    );
    assert!(s.exceptions.is_empty());
}

#[tokio::test]
async fn an_unknown_repository_is_refused_before_any_call() {
    let (w, e) = setup();
    let err = e
        .handle(&json!({"action": "status", "repository": "web"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "payload.repository: no target is configured for repository \"web\""
    );
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn a_fleet_rollback_by_digest_moves_only_the_functions_on_it() {
    let w = World::new();
    let few = ["f-1", "f-2", "f-3", "f-4"];
    for f in few {
        w.live_function(f, "api", 'a');
    }
    w.ecr_image("api", 'a', Some("v1"));
    let e = TestEngine::new(&w)
        .config(config_with(
            json!([{"repository": "api", "functions": few}]),
            &[],
        ))
        .build();
    // f-1 and f-2 get image b; the others stay on a.
    for f in ["f-1", "f-2"] {
        let p = json!({"action": "deploy", "function": f, "image_uri": support::world::image_uri("api", 'b')});
        e.handle(&p).await.report();
    }
    let r = e
        .handle(&json!({"action": "rollback", "repository": "api", "digest": digest('b')}))
        .await
        .report();
    let by = |n: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.name() == n)
            .unwrap()
    };
    assert_eq!(
        by("f-1").outcome,
        self_deployer::report::Outcome::RolledBack,
        "{r:#?}"
    );
    assert_eq!(
        by("f-2").outcome,
        self_deployer::report::Outcome::RolledBack
    );
    for f in ["f-3", "f-4"] {
        assert_eq!(by(f).outcome, self_deployer::report::Outcome::Skipped);
        assert_eq!(
            by(f).reason.as_deref(),
            Some("alias live runs sha256:aaaaaaaaaaaa, not sha256:bbbbbbbbbbbb: left alone")
        );
    }
    for f in few {
        assert_eq!(w.alias_version(f, "live").as_deref(), Some("1"), "{f}");
    }
    assert!(
        w.dispatched().is_empty(),
        "4 functions: rolled back in this run"
    );
}

/// A function in a rollout has its rollout stopped as a single rollback does: the split cleared,
/// its pending check deleted; the function next to it is rolled back as usual.
#[tokio::test]
async fn a_fleet_rollback_stops_a_rollout_as_a_single_rollback_does() {
    let w = World::new();
    for f in ["canary", "plain"] {
        w.live_function(f, "api", 'a');
    }
    w.ecr_image("api", 'a', Some("v1"));
    w.alarm("api-5xx", "OK");
    let config = config_with(
        json!([
            {"repository": "api", "functions": ["canary"],
             "rollout": {"steps": [10, 50], "interval_secs": 300, "alarms": ["api-5xx"]}},
            {"repository": "api", "functions": ["plain"]}
        ]),
        &[
            ("DEPLOYER_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE),
            ("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN),
        ],
    );
    let e = TestEngine::new(&w).config(config).rollouts().build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    let by = |r: &self_deployer::report::Report, n: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.name() == n)
            .unwrap()
            .outcome
    };
    assert_eq!(
        by(&r, "canary"),
        self_deployer::report::Outcome::RollingOut,
        "{r:#?}"
    );
    assert_eq!(by(&r, "plain"), self_deployer::report::Outcome::Deployed);
    assert_eq!(w.schedules().len(), 1, "the rollout's check");

    let r = e
        .handle(&json!({"action": "rollback", "repository": "api", "reason": "bad release"}))
        .await
        .report();
    assert_eq!(
        by(&r, "canary"),
        self_deployer::report::Outcome::RolledBack,
        "{r:#?}"
    );
    assert_eq!(by(&r, "plain"), self_deployer::report::Outcome::RolledBack);
    assert_eq!(
        w.alias_state("canary"),
        (1, vec![]),
        "all traffic back on version 1, the split cleared"
    );
    assert!(w.schedules().is_empty(), "the rollout's check is deleted");
    assert_eq!(w.alias_version("plain", "live").as_deref(), Some("1"));
}
