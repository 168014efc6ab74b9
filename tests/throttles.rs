//! The rate budget and throttles: Lambda's 429 (with `Retry-After`) is waited out and the call
//! tried again while the invocation has time, counted in the report and the metrics; a run's calls
//! keep to its share of DEPLOYER_CONTROL_PLANE_RPS; near the deadline a throttle fails the call.

use crate::support;

use self_deployer::report::{FailureKind, Outcome};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::world::{RateLimits, World, image_uri};
use support::{IntoReport, TestEngine, config_with, push, push_b_by};

/// api-dev live on image a, with `per_second` control-plane calls a second left for this run
/// (GetFunction's own quota out of the way).
fn limited(per_second: f64) -> World {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.rate_limit(RateLimits {
        control_plane: per_second,
        get_function: 100.0,
    });
    w
}

fn targets(names: &[&str]) -> Value {
    json!([{"repository": "api", "functions": names}])
}

#[tokio::test]
async fn throttles_are_waited_out_counted_in_the_report_and_the_metrics() {
    // Someone else is using the account's rate: one call a second is left for us.
    let w = limited(1.0);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).metrics("Team/Deploys", &lines).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'b'));
    let (seen, _) = w.throttled();
    assert!(seen > 0, "the world answered 429");
    assert_eq!(r.throttles as usize, seen, "each 429 is counted once");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["throttles"], seen);
    // Every throttled call was tried again after what Lambda asked, never sooner.
    w.assert_throttles_retried_after(Duration::from_secs(1));
    let records: Vec<Value> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let throttles: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("Throttles").is_some())
        .collect();
    assert_eq!(throttles.len(), 1, "one record per run");
    assert_eq!(throttles[0]["Throttles"], seen);
    assert_eq!(throttles[0]["Action"], "deploy");
}

#[tokio::test]
async fn a_run_without_throttles_has_no_throttle_field_or_record() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).metrics("Team/Deploys", &lines).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    // A run that did its calls (an early failure would also have no throttles) and wrote its
    // records: otherwise "no line mentions Throttles" holds of nothing.
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert!(!lines.lock().unwrap().is_empty());
    assert_eq!(r.throttles, 0);
    assert!(serde_json::to_value(&r).unwrap().get("throttles").is_none());
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .all(|l| !l.contains("Throttles"))
    );
}

#[tokio::test]
async fn near_the_deadline_a_throttle_fails_the_call_and_says_so() {
    // The account is saturated for minutes: Lambda asks to come back in 100 s.
    let w = limited(0.01);
    let e = TestEngine::new(&w).build();
    // The bucket's one token goes to someone else first.
    w.lock().rate_limited("GetAlias");
    let deadline = w.now() + Duration::from_secs(90);
    let r = push_b_by(&e, deadline).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(d.failure_kind, Some(FailureKind::Throttled), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("TooManyRequestsException"),
        "{:?}",
        d.reason
    );
    assert!(w.mutating_calls().is_empty(), "nothing was changed");
    assert!(w.now() < deadline, "the run did not wait past its deadline");
}

#[tokio::test]
async fn a_batch_keeps_to_its_share_of_the_budget() {
    let w = World::new();
    let names = ["w-1", "w-2", "w-3", "w-4"];
    for n in names {
        w.live_function(n, "api", 'a');
    }
    let e = TestEngine::new(&w)
        .config(config_with(
            targets(&names),
            &[("DEPLOYER_CONTROL_PLANE_RPS", "10")],
        ))
        .build();
    // One of 4 runs sharing 10 calls a second: 2.5 a second for this one.
    let batch = json!({
        "action": "deploy_batch", "functions": names, "image_uri": image_uri("api", 'b'),
        "runs": 4
    });
    let r = e.handle(&batch).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(r.deployments.len(), 4);
    let times: Vec<_> = w
        .calls()
        .into_iter()
        // Lambda's control plane: what the budget paces (GetFunction has its own quota).
        .filter(|c| {
            ![
                "GetFunction",
                "Invoke",
                "BatchGetImage",
                "GetDownloadUrlForLayer",
                "DescribeImages",
            ]
            .contains(&c.op)
        })
        .map(|c| c.at.unwrap())
        .collect();
    // GetAlias, UpdateFunctionCode, PublishVersion, GetProvisionedConcurrencyConfig, UpdateAlias.
    assert_eq!(times.len(), 20, "5 calls a function");
    // A burst of one second's share (2.5 calls), then one call every 0.4 s.
    let span = times[19].duration_since(times[0]).unwrap();
    assert!(
        span >= Duration::from_secs_f64((20.0 - 2.5) / 2.5 - 0.01),
        "20 calls in {span:?}"
    );
    // The batch's run never dispatches, whatever DEPLOYER_INLINE_MAX says.
    assert!(w.dispatched().is_empty());
}

/// With the SDK's retries on, as in production: a 429 with `Retry-After` is not sent again by the
/// SDK at once (unpaced) but by the budget when Lambda said; a throttle without it is still the
/// SDK's to retry.
#[tokio::test]
async fn lambdas_rate_limit_is_left_to_the_budget_not_the_sdks_retries() {
    use aws_sdk_lambda::config::retry::RetryConfig;
    use self_deployer::ThrottlesToTheBudget;
    let w = limited(1.0);
    let conf = w
        .client_with(Vec::new(), RetryConfig::standard().with_max_attempts(5))
        .config()
        .to_builder()
        .retry_classifier(ThrottlesToTheBudget)
        .build();
    let e = TestEngine::new(&w)
        .lambda(aws_sdk_lambda::Client::from_conf(conf))
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let (seen, _) = w.throttled();
    assert!(seen > 0);
    assert_eq!(
        r.throttles as usize, seen,
        "every 429 reached the budget: none was retried by the SDK behind its back"
    );
    w.assert_throttles_retried_after(Duration::from_secs(1));

    // The same answer from a rule in front of the world: without the classifier the SDK would
    // have sent it again itself (and the budget seen nothing).
    for (classifier, throttles) in [(true, 1), (false, 0)] {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        let limited = w.get_alias_throttled("api-dev", 1, Some("2"));
        let client = w.client_with(
            vec![limited.clone()],
            RetryConfig::standard().with_max_attempts(5),
        );
        let client = if classifier {
            let conf = client
                .config()
                .to_builder()
                .retry_classifier(ThrottlesToTheBudget)
                .build();
            aws_sdk_lambda::Client::from_conf(conf)
        } else {
            client
        };
        let r = TestEngine::new(&w)
            .lambda(client)
            .build()
            .handle(&push("api", 'b', Some("v2")))
            .await
            .report();
        assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
        assert_eq!(limited.num_calls(), 2, "the 429, then the answer");
        assert_eq!(r.throttles, throttles, "classifier {classifier}");
    }
}
