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
