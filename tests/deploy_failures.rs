//! A failure at any step leaves production as it was and says why: a failed smoke test or update,
//! a publish error, functions that cannot be deployed, an alias move that errored, and one failing
//! function among several.

use crate::support;

use aws_sdk_lambda::types::LastUpdateStatus;
use self_deployer::report::{Outcome, Step};
use serde_json::json;
use support::world::{Answer, Fault, World, image_uri};
use support::{IntoReport, config, config_with, engine, push, push_b};

#[tokio::test]
async fn a_failed_smoke_test_leaves_production_and_restores_latest() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let mut bad = Answer::status(500);
    bad.log = "START\nTraceback: KeyError 'DATABASE_URL'\nEND\n".into();
    w.answer('b', bad);
    let report = push_b(&w).await;

    assert_eq!(report.outcome, Outcome::Failed);
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest));
    assert_eq!(
        d.reason.as_deref(),
        Some("statusCode 500 is not one of [200]")
    );
    assert_eq!(
        d.version.map(|v| v.get()),
        Some(1),
        "the alias stays where it was"
    );
    let smoke = d.smoke_test.as_ref().unwrap();
    assert_eq!(smoke.status_code, Some(500));
    assert!(
        smoke
            .payload_excerpt
            .as_ref()
            .unwrap()
            .contains("status 500")
    );
    assert!(
        smoke
            .log_tail
            .as_ref()
            .unwrap()
            .contains("KeyError 'DATABASE_URL'")
    );
    // Production untouched, nothing published, $LATEST back on the live image.
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.versions("api-dev"), [1]);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    let restore = d.latest_restore.as_ref().unwrap();
    assert!(restore.restored, "{restore:?}");
    assert_eq!(
        restore.image_uri.as_deref(),
        Some(image_uri("api", 'a').as_str())
    );
    let muts: Vec<_> = w
        .mutating_calls()
        .into_iter()
        .map(|c| (c.op, c.image_uri))
        .collect();
    assert_eq!(
        muts,
        [
            ("UpdateFunctionCode", Some(image_uri("api", 'b'))),
            ("UpdateFunctionCode", Some(image_uri("api", 'a')))
        ]
    );
    assert_eq!(d.steps.last().unwrap().step, Step::RestoreLatest);
}

#[tokio::test]
async fn a_function_error_fails_the_smoke_test_even_when_no_status_is_expected() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer(
        'b',
        Answer {
            payload: r#"{"errorMessage":"boom"}"#.into(),
            function_error: Some("Unhandled".into()),
            log: "boom".into(),
        },
    );
    let targets = json!([{"repository": "api", "functions": ["api-dev"], "smoke": {"expect_status": null, "payload": {"ping": true}}}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::SmokeTest));
    assert_eq!(
        d.reason.as_deref(),
        Some("the function returned an error (Unhandled)")
    );
    assert_eq!(
        w.calls()
            .iter()
            .find(|c| c.op == "Invoke")
            .unwrap()
            .payload
            .as_deref(),
        Some(r#"{"ping":true}"#)
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_failed_update_reports_lambdas_reason_and_restores_latest() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.pending_outcome = LastUpdateStatus::Failed);
    // Only our update fails; the restore (the second UpdateFunctionCode) succeeds.
    w.hook("UpdateFunctionCode", 2, |s| {
        s.func("api-dev").unwrap().pending_outcome = LastUpdateStatus::Successful;
    });
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::WaitUpdated));
    assert_eq!(
        d.reason.as_deref(),
        Some("LastUpdateStatus is Failed: ImageAccessDenied: Lambda could not pull the image")
    );
    assert!(!w.ops().contains(&"Invoke") && !w.ops().contains(&"PublishVersion"));
    assert!(d.latest_restore.as_ref().unwrap().restored, "{d:#?}");
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_publish_error_restores_latest_and_leaves_the_alias() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("PublishVersion", 1, Fault::ServiceError);
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::Publish));
    assert_eq!(
        d.reason.as_deref(),
        Some("PublishVersion failed: ServiceException: internal failure (injected)")
    );
    assert!(d.latest_restore.as_ref().unwrap().restored);
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn zip_functions_and_missing_functions_fail_without_mutation() {
    let w = World::new();
    w.live_function("zip-fn", "api", 'a');
    w.with_func("zip-fn", |f| {
        f.package_type = aws_sdk_lambda::types::PackageType::Zip
    });
    let targets = json!([{"repository": "api", "functions": ["zip-fn", "ghost"]}]);
    let report = engine(&w, config(targets))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let zip = &report.deployments[0];
    assert_eq!(zip.failed_step, Some(Step::WaitReady));
    assert_eq!(
        zip.reason.as_deref(),
        Some("the function is packaged as Zip: self-deployer deploys container images only")
    );
    let ghost = &report.deployments[1];
    assert_eq!(ghost.failed_step, Some(Step::Resolve));
    assert!(
        ghost
            .reason
            .as_deref()
            .unwrap()
            .starts_with("GetAlias failed: ResourceNotFoundException: Function not found")
    );
    assert!(w.mutating_calls().is_empty());
}

#[tokio::test]
async fn an_alias_move_that_errors_but_went_through_is_a_deployment() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // The move happens, then the answer is lost on the way back.
    w.fault("UpdateAlias", 1, Fault::Lost);
    let r = push_b(&w).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        w.latest_image("api-dev"),
        image_uri("api", 'b'),
        "$LATEST not restored under a live version"
    );

    // And one that really failed is a failure, with $LATEST restored.
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateAlias", 1, Fault::ServiceError);
    let r = push_b(&w).await;
    assert_eq!(r.deployments[0].failed_step, Some(Step::PromoteAlias));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
}

#[tokio::test]
async fn one_repository_fans_out_and_one_failure_does_not_stop_the_others() {
    let w = World::new();
    for f in ["api-a", "api-b", "api-c"] {
        w.live_function(f, "api", 'a');
    }
    // api-b's smoke test fails: its own code answers 503. Give it a different image to fail on:
    // all three run the same pushed image, so fail api-b through an injected Invoke error instead.
    w.fault("Invoke", 2, Fault::AccessDenied);
    let targets = json!([{"repository": "api", "functions": ["api-a", "api-b", "api-c"]}]);
    let cfg = config_with(targets, &[("DEPLOYER_MAX_PARALLEL", "1")]);
    let report = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let outcomes: Vec<_> = report
        .deployments
        .iter()
        .map(|d| (d.function.name().to_owned(), d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("api-a".into(), Outcome::Deployed),
            ("api-b".into(), Outcome::Failed),
            ("api-c".into(), Outcome::Deployed)
        ]
    );
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(
        report.reason.as_deref(),
        Some("1 of 3 failed: api-b at smoke_test")
    );
    let b = &report.deployments[1];
    assert_eq!(
        b.reason.as_deref(),
        Some(
            "the smoke test could not invoke $LATEST: AccessDeniedException: User is not authorized to perform this action (injected)"
        )
    );
    assert_eq!(w.alias_version("api-a", "live").as_deref(), Some("2"));
    assert_eq!(w.alias_version("api-b", "live").as_deref(), Some("1"));
    assert_eq!(w.alias_version("api-c", "live").as_deref(), Some("2"));
    assert_eq!(
        w.latest_image("api-b"),
        image_uri("api", 'a'),
        "api-b restored"
    );
}
