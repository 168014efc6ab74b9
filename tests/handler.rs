//! The Lambda boundary and the notifier: a failed deployment becomes an error carrying the report,
//! every report is handed to SNS, and a failed publish never changes the outcome.

use crate::support;

use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;
use self_deployer::error::DeployerError;
use self_deployer::notify::NotifySettings;
use self_deployer::report::Outcome;
use serde_json::json;
use support::world::{Answer, World};
use support::{IntoReport, TOPIC, TestEngine, config, push};

#[tokio::test]
async fn a_deployment_is_notified_with_a_readable_subject() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            let attr = |k: &str| {
                r.message_attributes()
                    .and_then(|a| a.get(k))
                    .and_then(|v| v.string_value())
                    .map(str::to_owned)
            };
            let body: serde_json::Value =
                serde_json::from_str(r.message().unwrap_or_default()).unwrap_or_default();
            let sqs: serde_json::Value =
                serde_json::from_str(body["sqs"].as_str().unwrap_or_default()).unwrap_or_default();
            let chatbot: serde_json::Value =
                serde_json::from_str(body["https"].as_str().unwrap_or_default())
                    .unwrap_or_default();
            r.topic_arn() == Some(TOPIC)
                && r.subject() == Some("DEPLOYED api-dev v2 (sha-b)")
                && r.message_structure() == Some("json")
                && attr("outcome").as_deref() == Some("deployed")
                && attr("function").as_deref() == Some("api-dev")
                && attr("repository").as_deref() == Some("api")
                && body["email"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("DEPLOYED api-dev v2 (sha-b)\n"))
                && body["default"] == body["email"]
                && sqs["outcome"] == "deployed"
                && sqs["deployments"][0]["version"] == "2"
                && chatbot["source"] == "custom"
                && body["lambda"] == body["sqs"]
        })
        .then_output(|| PublishOutput::builder().message_id("m-1").build());
    let engine = TestEngine::new(&w).sns(&publish).build();
    let report = handle(&engine, push("api", 'b', Some("sha-b")))
        .await
        .report();
    assert_eq!(publish.num_calls(), 1);
    let n = report.notification.unwrap();
    assert!(n.sent);
    assert_eq!(n.message_ids, Some(vec!["m-1".to_owned()]));
}

#[tokio::test]
async fn a_failed_publish_is_recorded_and_changes_nothing_else() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let publish = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::generic(
            ErrorMetadata::builder()
                .code("AuthorizationError")
                .message("not allowed")
                .build(),
        )
    });
    let engine = TestEngine::new(&w).sns(&publish).build();
    let report = handle(&engine, push("api", 'b', Some("sha-b")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    let n = report.notification.unwrap();
    assert!(!n.sent);
    assert_eq!(
        n.error.as_deref(),
        Some("api-dev: AuthorizationError: not allowed")
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn skips_and_duplicates_are_not_notified() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let publish =
        mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().build());
    let engine = TestEngine::new(&w).sns(&publish).build();
    let skipped = handle(&engine, push("web", 'b', Some("v1"))).await.report();
    assert_eq!(skipped.outcome, Outcome::Skipped);
    let live = handle(&engine, push("api", 'a', Some("v1"))).await.report();
    assert_eq!(live.outcome, Outcome::AlreadyLive);
    assert_eq!(publish.num_calls(), 0);
    assert!(!live.notification.unwrap().sent);
}

#[tokio::test]
async fn a_failed_deployment_is_an_error_that_carries_the_report() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.answer('b', Answer::status(502));
    let engine = TestEngine::new(&w).build();
    let err = handle(&engine, push("api", 'b', Some("sha-b")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "DeploymentFailed");
    let DeployerError::DeploymentFailed { report } = &err else {
        panic!("{err:?}")
    };
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["deployments"][0]["failed_step"], "smoke_test");
    let diag: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diag.error_type, "DeploymentFailed");
}

#[tokio::test]
async fn an_invalid_payload_is_an_invalid_payload_error() {
    let w = World::new();
    let engine = TestEngine::new(&w).build();
    let err = handle(
        &engine,
        json!({"source": "aws.ecr", "detail-type": "ECR Image Action"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "InvalidPayload");
    assert_eq!(
        err.to_string(),
        "invalid payload: payload: missing field `detail`"
    );
    assert!(w.ops().is_empty());
}

#[tokio::test]
async fn one_message_per_function_and_skips_only_on_request() {
    let w = World::new();
    for f in ["api-a", "api-b"] {
        w.live_function(f, "api", 'a');
    }
    let publish = mock!(aws_sdk_sns::Client::publish)
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let targets = json!([{"repository": "api", "functions": ["api-a", "api-b"]}]);
    let engine = TestEngine::new(&w)
        .config(config(targets.clone()))
        .sns(&publish)
        .build();
    let report = handle(&engine, push("api", 'b', Some("v2"))).await.report();
    assert_eq!(report.outcome, Outcome::Deployed);
    assert_eq!(publish.num_calls(), 2, "one message per function");
    assert_eq!(report.notification.unwrap().message_ids.unwrap().len(), 2);

    let publish = mock!(aws_sdk_sns::Client::publish)
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let settings = NotifySettings {
        notify_skipped: true,
        ..Default::default()
    };
    let engine = TestEngine::new(&w)
        .config(config(targets))
        .sns_with(&publish, settings)
        .build();
    handle(&engine, push("web", 'b', Some("v2"))).await.report();
    assert_eq!(
        publish.num_calls(),
        1,
        "DEPLOYER_NOTIFY_SKIPPED: the skip is told"
    );
}

/// The Lambda door as the runtime calls it, without a deadline.
async fn handle(
    engine: &self_deployer::engine::Engine,
    payload: serde_json::Value,
) -> Result<self_deployer::engine::Response, DeployerError> {
    self_deployer::runtime::handle(engine, payload, Default::default()).await
}
