//! Rollback targets whose image is gone (issue 24 §4): lifecycle rules delete old images, and
//! Lambda cannot start a version whose image was deleted (StateReasonCode `ImageDeleted`). Status
//! and history say whether each rollback target's image still exists; a rollback to one whose
//! image is gone is refused before the alias moves, whether ECR or Lambda says so.

use crate::support;

use self_deployer::engine::{Engine, Response};
use self_deployer::report::{FailureKind, Outcome, Step};
use serde_json::json;
use support::world::{World, digest};
use support::{IntoReport, config, engine, one_target, push};

/// api-dev: versions 1 (image a), 2 (b), 3 (c), alias live → 3; ECR holds a, b, c.
async fn three(w: &World) -> Engine {
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', "v2"), ('c', "v3")] {
        w.ecr_image("api", c, Some(tag));
    }
    let e = engine(w, config(one_target()));
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        assert_eq!(
            e.handle(&push("api", c, Some(tag))).await.report().outcome,
            Outcome::Deployed
        );
    }
    e
}

async fn status(e: &Engine) -> self_deployer::actions::status::StatusReport {
    match e.handle(&json!({"action": "status"})).await {
        Ok(Response::Status(s)) => s,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn status_says_whether_the_rollback_targets_image_still_exists() {
    let w = World::new();
    let e = three(&w).await;
    let s = status(&e).await;
    assert_eq!(s.functions[0].previous_version.map(|v| v.get()), Some(2));
    assert_eq!(s.functions[0].previous_image_exists, Some(true));
    let muts = w.mutating_calls().len();
    w.delete_ecr_image("api", 'b');
    let s = status(&e).await;
    assert_eq!(s.functions[0].previous_image_exists, Some(false));
    let table = self_deployer::cli::render::status_table(&s);
    assert!(table.contains("2 (image gone)"), "{table}");
    assert_eq!(w.mutating_calls().len(), muts, "status mutates nothing");
}

#[tokio::test]
async fn history_says_whether_each_versions_image_still_exists_with_one_ecr_call() {
    let w = World::new();
    let e = three(&w).await;
    w.delete_ecr_image("api", 'a');
    let before = w.count("BatchGetImage");
    let Ok(Response::History(h)) = e
        .handle(&json!({"action": "history", "function": "api-dev"}))
        .await
    else {
        panic!("a history")
    };
    assert_eq!(
        w.count("BatchGetImage") - before,
        1,
        "one call for every digest shown"
    );
    let exists: Vec<(u64, Option<bool>)> = h
        .versions
        .iter()
        .map(|v| (v.version.get(), v.image_exists))
        .collect();
    assert_eq!(exists, [(3, Some(true)), (2, Some(true)), (1, Some(false))]);
    assert_eq!(h.versions[2].digest.as_deref(), Some(digest('a').as_str()));
}

#[tokio::test]
async fn a_rollback_to_a_version_lambda_reports_image_deleted_is_refused_before_the_alias_moves() {
    let w = World::new();
    let e = three(&w).await;
    // ECR still lists the digest (pushed again, or another registry answers), but Lambda says the
    // version cannot start: its own state decides.
    w.with_func("api-dev", |f| {
        f.images_deleted.insert(2);
    });
    let before = w.mutating_calls().len();
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(d.failed_step, Some(Step::CheckImage));
    assert_eq!(d.failure_kind, Some(FailureKind::ImageRejected));
    let reason = d.reason.clone().unwrap();
    assert!(reason.contains("StateReasonCode ImageDeleted"), "{reason}");
    assert!(
        reason.ends_with("pass force to roll back anyway"),
        "{reason}"
    );
    assert_eq!(w.mutating_calls().len(), before, "the alias never moved");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("3"));
    let s = status(&e).await;
    assert_eq!(s.functions[0].previous_image_exists, Some(false));
}
