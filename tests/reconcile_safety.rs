//! A sweep never fights a person and never leaves a rollout unwatched (issue 23, cases 4 and 7): a
//! hand rollback with its own description is drift, not a push to redo; a split whose check is
//! gone is called stalled by `status` and `status --check`, and a sweep schedules its check again.

use crate::support;

use self_deployer::cli::render::{check_table, status_table};
use self_deployer::engine::{Invocation, Response};
use self_deployer::input::{ReconcileRequest, Request};
use self_deployer::report::{Outcome, Report};
use serde_json::json;
use std::time::Duration;
use support::canary::Canary;
use support::world::World;
use support::{IntoReport, TestEngine};

fn check() -> Request {
    Request::Reconcile(ReconcileRequest {
        dry_run: false,
        check: true,
    })
}

/// api-dev on image a (v1), then image b (v2) pushed a minute later and deployed: where both
/// cases start, with both images in ECR so that a sweep could bring either back.
async fn deployed_b() -> (World, self_deployer::engine::Engine) {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'a', Some("v1"));
    w.advance_to(aws_smithy_async::time::TimeSource::now(&w.time) + Duration::from_secs(60));
    w.ecr_image("api", 'b', Some("v2"));
    let e = TestEngine::new(&w).build();
    let r = e
        .handle(&support::push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    (w, e)
}

async fn run(e: &self_deployer::engine::Engine, r: Request) -> Report {
    e.run(r, Invocation::default())
        .await
        .unwrap()
        .into_report()
        .unwrap()
}

/// Case 4: `aws lambda update-alias --function-version 1 --description "emergency rollback INC-42"`
/// after the deployer put version 2 live: drift, reported, never undone by a sweep.
#[tokio::test]
async fn a_hand_rollback_with_its_own_description_is_drift() {
    let (w, e) = deployed_b().await;
    w.with_func("api-dev", |f| {
        let a = f.aliases.get_mut("live").unwrap();
        a.version = "1".into();
        a.revision = "rev-by-hand".into();
        a.description = "emergency rollback INC-42".into();
    });
    let r = run(&e, check()).await;
    let line = check_table(&r);
    assert!(line.starts_with("api-dev: drift: "), "{line}");
    assert!(line.contains("emergency rollback INC-42"), "{line}");
    let before = w.mutating_calls().len();
    let r = e.handle(&json!({"action": "reconcile"})).await.report();
    assert_eq!(r.deployments[0].outcome, Outcome::Drift, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    let mutations: Vec<_> = w.mutating_calls()[before..]
        .iter()
        .map(|c| c.op)
        .filter(|op| *op != "TagResource")
        .collect();
    assert!(
        mutations.is_empty(),
        "a sweep never fights a person: {mutations:?}"
    );
}

/// Case 7: a rollout whose pending check was deleted (by hand, or lost) is stalled; `status` and
/// `status --check` say so, and a sweep schedules that step's check again, told once.
#[tokio::test]
async fn a_split_without_a_pending_check_is_stalled_and_a_sweep_schedules_it_again() {
    let c = Canary::new();
    c.push('b', "v2").await;
    c.subjects();
    let s = c.w.only_schedule();
    c.w.lock().schedules.clear();

    let Response::Status(st) = c.e.handle(&json!({"action": "status"})).await.unwrap() else {
        panic!("a status")
    };
    let json = serde_json::to_value(&st.functions[0]).unwrap();
    assert_eq!(json["stalled"], json!(true), "{json:#}");
    let table = status_table(&st);
    assert!(
        table.contains("api-dev: rolling out version 2 (10%), stalled: no check is pending"),
        "{table}"
    );
    let r = run(&c.e, check()).await;
    let line = check_table(&r);
    assert!(
        line.starts_with("api-dev: rolling_out: stalled: "),
        "{line}"
    );
    assert!(c.w.schedules().is_empty(), "a check only looks");

    let r = c.e.handle(&json!({"action": "reconcile"})).await.report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::RollingOut, "{r:#?}");
    assert!(
        d.reason.as_deref().unwrap().contains("scheduled again"),
        "{d:#?}"
    );
    let again = c.w.only_schedule();
    assert_eq!(again.payload()["step"], s.payload()["step"]);
    assert_eq!(again.payload()["started"], s.payload()["started"]);
    assert_eq!(c.subjects().len(), 1, "told once");
    // The next sweep finds the check pending: left alone, not told again.
    let r = c.e.handle(&json!({"action": "reconcile"})).await.report();
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("left alone")
    );
    assert!(c.subjects().is_empty());
    // And the check carries the rollout on.
    let r = c.fire().await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
}

/// `status --check` of a function whose alias was deleted (after its image was rolled back by hand)
/// says there is no alias, not that the image is rejected; and a sweep never creates the alias.
#[tokio::test]
async fn a_function_whose_alias_was_deleted_has_no_alias() {
    let (w, e) = deployed_b().await;
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    w.with_func("api-dev", |f| f.aliases.clear());
    let line = check_table(&run(&e, check()).await);
    assert!(
        line.starts_with("api-dev: skipped: no alias live"),
        "{line}"
    );
    let before = w.mutating_calls().len();
    let r = e.handle(&json!({"action": "reconcile"})).await.report();
    assert_eq!(r.deployments[0].outcome, Outcome::Skipped, "{r:#?}");
    assert_eq!(w.mutating_calls().len(), before);
}
