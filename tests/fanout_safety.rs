//! A fan-out Invoke whose answer hung (issue 23, case 6): Lambda may well have queued it, so the
//! function is reported as maybe dispatched, never as "not dispatched"; the run still fails (exit
//! 1: nobody knows), and the notification says a repeat is harmless.

use crate::support;

use self_deployer::report::Outcome;
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::world::World;
use support::{DEPLOYER_ARN, IntoReport, TestEngine, config_with, push};

#[tokio::test]
async fn a_hung_dispatch_may_have_been_sent_and_a_repeat_is_harmless() {
    let w = World::new();
    let names: Vec<String> = (1..=9).map(|i| format!("w-{i:02}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    w.hang_dispatch_of("w-04");
    let messages = Arc::new(Mutex::new(Vec::new()));
    let m = messages.clone();
    let publish =
        aws_smithy_mocks::mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
            m.lock()
                .unwrap()
                .push(req.message().unwrap_or_default().to_owned());
            aws_sdk_sns::operation::publish::PublishOutput::builder()
                .message_id("m")
                .build()
        });
    let e = TestEngine::new(&w)
        .config(config_with(
            json!([{"repository": "api", "functions": names}]),
            &[("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN)],
        ))
        .sns(&publish)
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "exit 1: {r:#?}");
    assert!(
        w.dispatched().iter().any(|p| p["function"] == "w-04"),
        "Lambda queued it"
    );
    let d = r
        .deployments
        .iter()
        .find(|d| d.function.name() == "w-04")
        .unwrap();
    let why = d.reason.as_deref().unwrap();
    assert!(why.starts_with("may have been dispatched: "), "{why}");
    assert!(why.contains("a repeat is harmless"), "{why}");
    let top = r.reason.as_deref().unwrap();
    assert!(top.contains("may have been dispatched"), "{top}");
    let told = messages.lock().unwrap().join("\n");
    assert!(told.contains("a repeat is harmless"), "{told}");
    assert!(!told.contains("not dispatched"), "{told}");
}

/// A batch's Invoke that hung is the same unknown as one function's: each of its functions may
/// have been dispatched, and the run's reason says so (it said "could not be dispatched").
#[tokio::test]
async fn a_hung_batch_may_have_been_sent_like_a_hung_function() {
    let w = World::new();
    let names: Vec<String> = (1..=25).map(|i| format!("w-{i:02}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    w.hang_dispatch_of("w-02");
    let e = TestEngine::new(&w)
        .config(config_with(
            json!([{"repository": "api", "functions": names}]),
            &[("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN)],
        ))
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "exit 1: {r:#?}");
    let hung = w
        .dispatched()
        .into_iter()
        .find(|p| {
            p["functions"]
                .as_array()
                .is_some_and(|f| f.contains(&json!("w-02")))
        })
        .expect("Lambda queued the batch");
    let members = hung["functions"].as_array().unwrap().len();
    let maybe: Vec<_> = r
        .deployments
        .iter()
        .filter(|d| d.outcome == Outcome::Failed)
        .collect();
    assert_eq!(maybe.len(), members, "{r:#?}");
    for d in maybe {
        let why = d.reason.as_deref().unwrap();
        assert!(why.starts_with("may have been dispatched: "), "{why}");
        assert_eq!(
            d.failure_kind,
            Some(self_deployer::report::FailureKind::TimedOut)
        );
    }
    let top = r.reason.as_deref().unwrap();
    assert!(
        top.starts_with(&format!("{members} of 25 may have been dispatched (")),
        "{top}"
    );
    assert!(!top.contains("could not be dispatched"), "{top}");
}
