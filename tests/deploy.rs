//! A push goes live: the deploy pipeline against the modelled Lambda world (aws-smithy-mocks),
//! every step with the exact guard values sent, first deployments, an alias on `$LATEST`, canary
//! splits, pruning, and function ARNs. Failures, waiting, races and events: the `deploy_*` files.

use crate::support;

use self_deployer::report::{Deployment, Outcome, Step};
use serde_json::json;
use support::world::{ACCOUNT, Answer, Code, Fault, REGION, World, digest, image_uri, sha};
use support::{IntoReport, config, engine, one_target, push, push_b};

#[tokio::test]
async fn a_push_goes_live_through_every_guarded_step() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();

    assert_eq!(report.outcome, Outcome::Deployed, "{report:#?}");
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed);
    assert_eq!(d.version.map(|v| v.get()), Some(2));
    assert_eq!(d.previous_version.map(|v| v.get()), Some(1));
    assert_eq!(d.code_sha256.as_deref(), Some(sha('b').as_str()));
    assert_eq!(
        report.image_uri.as_deref(),
        Some(image_uri("api", 'b').as_str())
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'b'));

    calls_are_the_guarded_pipeline(&w);
    steps_are_the_pipeline(d);
}

/// The calls a push makes, in the pipeline's order, each with the guard value it must carry.
fn calls_are_the_guarded_pipeline(w: &World) {
    // The order of calls is the pipeline.
    assert_eq!(
        w.ops_collapsed(),
        [
            "GetAlias",
            "GetFunction",
            // The image's labels, for lead time (this world has no such image: nothing more).
            "BatchGetImage",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "Invoke",
            "PublishVersion",
            // Issue 24: whether the alias has provisioned concurrency to wait for after the move.
            "GetProvisionedConcurrencyConfig",
            "UpdateAlias"
        ]
    );
    let calls = w.calls();
    let find = |op| calls.iter().find(|c| c.op == op).unwrap().clone();
    // The image is deployed by digest, guarded by the RevisionId read just before.
    let update = find("UpdateFunctionCode");
    assert_eq!(
        update.image_uri.as_deref(),
        Some(image_uri("api", 'b').as_str())
    );
    let get_before = calls
        .iter()
        .position(|c| c.op == "UpdateFunctionCode")
        .unwrap();
    assert!(
        calls[..get_before]
            .iter()
            .any(|c| c.op == "GetFunction" && c.qualifier.is_none())
    );
    assert_eq!(
        update.revision_id.as_deref(),
        Some("rev-1"),
        "the function's revision when read"
    );
    // The smoke test hits $LATEST with the default health payload.
    let invoke = find("Invoke");
    assert_eq!(invoke.qualifier.as_deref(), Some("$LATEST"));
    assert_eq!(
        invoke.payload.as_deref(),
        Some(r#"{"httpMethod":"GET","path":"/api/v1/health"}"#)
    );
    // Publish carries the smoke-tested CodeSha256 and the revision after the update completed.
    let publish = find("PublishVersion");
    assert_eq!(publish.code_sha256.as_deref(), Some(sha('b').as_str()));
    let settled_revision = w.with_func("api-dev", |f| f.revision.clone());
    assert_eq!(
        publish.revision_id.as_deref(),
        Some(settled_revision.as_str())
    );
    assert_ne!(
        publish.revision_id, update.revision_id,
        "the update changed the revision"
    );
    let desc = publish.description.unwrap();
    assert_eq!(
        desc,
        format!(
            "self-deployer digest={} previous=1 pushed=2026-11-26T07:00:00Z tag=sha-b",
            digest('b')
        )
    );
    // The alias moves with the RevisionId read at the start.
    let alias = find("UpdateAlias");
    assert_eq!(alias.version.as_deref(), Some("2"));
    assert_eq!(
        alias.revision_id.as_deref(),
        Some("rev-2"),
        "alias revision from GetAlias"
    );
}

/// The report's steps, and the update waited for in virtual time.
fn steps_are_the_pipeline(d: &Deployment) {
    let steps: Vec<Step> = d.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            Step::Resolve,
            Step::WaitReady,
            Step::UpdateCode,
            Step::WaitUpdated,
            Step::SmokeTest,
            Step::Publish,
            Step::PromoteAlias
        ]
    );
    let wait = d
        .steps
        .iter()
        .find(|s| s.step == Step::WaitUpdated)
        .unwrap();
    assert!(
        (3000..=4000).contains(&wait.ms),
        "a 3 s update is waited for 3-4 s of virtual time, got {} ms",
        wait.ms
    );
}

#[tokio::test]
async fn first_deployment_creates_the_alias() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v1")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    assert_eq!(d.previous_version, None);
    assert_eq!(d.version.map(|v| v.get()), Some(1));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert!(w.ops().contains(&"CreateAlias") && !w.ops().contains(&"UpdateAlias"));
    assert!(
        w.version_description("api-dev", 1)
            .contains("previous=none")
    );
}

#[tokio::test]
async fn an_alias_on_latest_is_pinned_before_latest_changes() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    w.set_alias("api-dev", "live", "$LATEST");
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    assert_eq!(
        d.previous_version.map(|v| v.get()),
        Some(1),
        "the pinned snapshot of what was live"
    );
    assert_eq!(d.version.map(|v| v.get()), Some(2));
    assert!(
        w.version_description("api-dev", 1)
            .starts_with("self-deployer pinned digest=")
    );
    // The alias left $LATEST before $LATEST was touched.
    let ops = w.ops_collapsed();
    let pin = ops.iter().position(|o| *o == "UpdateAlias").unwrap();
    let update = ops.iter().position(|o| *o == "UpdateFunctionCode").unwrap();
    assert!(pin < update, "{ops:?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn expect_status_null_passes_any_answer_without_a_function_error() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer(
        'b',
        Answer {
            payload: "\"pong\"".into(),
            function_error: None,
            log: String::new(),
        },
    );
    let targets =
        json!([{"repository": "api", "functions": ["api-dev"], "smoke": {"expect_status": null}}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
}

#[tokio::test]
async fn a_canary_split_is_cleared_when_the_alias_moves() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| {
        f.aliases
            .get_mut("live")
            .unwrap()
            .routing
            .insert("1".into(), 0.1);
    });
    let report = push_b(&w).await;
    assert_eq!(report.outcome, Outcome::Deployed);
    assert!(w.with_func("api-dev", |f| f.aliases["live"].routing.is_empty()));
}

#[tokio::test]
async fn old_versions_are_pruned_but_never_aliased_or_previous_ones() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", '1'));
    for (i, c) in ['1', '2', '3', '4', '5'].iter().enumerate() {
        w.with_func("api-dev", |f| f.latest = Code::of("api", *c));
        assert_eq!(w.publish("api-dev", "old"), i as u64 + 1);
    }
    w.set_alias("api-dev", "live", "5");
    w.set_alias("api-dev", "pinned-by-qa", "2");
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "keep_versions": 2}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v6")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    let pruned: Vec<u64> = d.pruned_versions.iter().map(|v| v.get()).collect();
    assert_eq!(
        pruned,
        [1, 3, 4],
        "keeps 6 (new) and 5 (previous), and 2 (another alias)"
    );
    assert_eq!(w.versions("api-dev"), [2, 5, 6]);
    let deletes: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.op == "DeleteFunction")
        .map(|c| c.qualifier)
        .collect();
    assert!(
        deletes.iter().all(|q| q.is_some()),
        "never an unqualified delete"
    );
}

#[tokio::test]
async fn a_failure_to_prune_is_a_warning_not_a_failed_deployment() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("ListVersionsByFunction", 1, Fault::ServiceError);
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "keep_versions": 2}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed);
    assert_eq!(
        d.warnings,
        [
            "pruning skipped: ListVersionsByFunction failed: ServiceException: internal failure (injected)"
        ]
    );
}

#[tokio::test]
async fn function_arns_are_passed_to_lambda_as_configured() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:api-dev");
    let report = engine(
        &w,
        config(json!([{"repository": "api", "functions": [arn]}])),
    )
    .handle(&push("api", 'b', Some("v2")))
    .await
    .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    assert!(
        w.calls()
            .iter()
            .filter(|c| c.op != "BatchGetImage")
            .all(|c| c.function == arn)
    );
}

#[tokio::test]
async fn a_rerun_after_a_failure_does_not_update_latest_again_when_it_already_runs_the_image() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // A run that failed after updating $LATEST and could not restore it.
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'b'));
    let r = push_b(&w).await;
    assert_eq!(r.outcome, Outcome::Deployed);
    assert!(!w.ops().contains(&"UpdateFunctionCode"));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}
