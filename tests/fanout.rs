//! Fan-out: an image for more functions than DEPLOYER_INLINE_MAX is not deployed by the run that
//! received it; each function gets its own asynchronous invocation of the deployer, whose payload
//! (a manual deploy with the push's time and tag) then deploys it exactly as the push would have.

use crate::support;

use aws_smithy_async::time::TimeSource;
use self_deployer::engine::Invocation;
use self_deployer::error::DeployerError;
use self_deployer::notify::NotifySettings;
use self_deployer::report::{Outcome, Step};
use serde_json::{Value, json};
use std::time::Duration;
use support::world::{Fault, World, digest, image_uri};
use support::{IntoReport, TestEngine, config_with, engine, push, push_at, sns_subjects};

const DEPLOYER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:self-deployer";

/// `n` live functions w-01.. on image a of repository api, all one target.
fn fleet(w: &World, n: usize) -> Vec<String> {
    let names: Vec<String> = (1..=n).map(|i| format!("w-{i:02}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    names
}

fn targets(names: &[String]) -> Value {
    json!([{"repository": "api", "functions": names}])
}

fn with_deployer(names: &[String], extra: &[(&str, &str)]) -> self_deployer::config::Config {
    let mut vars = vec![("DEPLOYER_FUNCTION_ARN", DEPLOYER)];
    vars.extend_from_slice(extra);
    config_with(targets(names), &vars)
}

/// The asynchronous Invokes that reached the world (accepted or not).
fn event_invokes(w: &World) -> usize {
    w.calls()
        .iter()
        .filter(|c| c.op == "Invoke" && c.function == DEPLOYER)
        .count()
}

#[tokio::test]
async fn a_push_for_more_than_inline_max_functions_is_dispatched_one_invoke_each() {
    let w = World::new();
    let names = fleet(&w, 12);
    let r = engine(&w, with_deployer(&names, &[]))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(
        r.reason.as_deref(),
        Some("12 of 12 dispatched: each function's own run deploys it and reports")
    );
    assert_eq!(r.deployments.len(), 12);
    assert!(
        r.deployments
            .iter()
            .all(|d| d.outcome == Outcome::Dispatched)
    );
    assert!(w.mutating_calls().is_empty(), "this run deploys nothing");
    assert_eq!(event_invokes(&w), 12, "one Invoke per function, no more");
    let mut payloads = w.dispatched();
    payloads.sort_by_key(|p| p["function"].as_str().unwrap_or_default().to_owned());
    let expected: Vec<Value> = names
        .iter()
        .map(|f| {
            json!({
                "action": "deploy", "function": f, "image_uri": image_uri("api", 'b'),
                "pushed": "2026-11-26T07:00:00Z", "tag": "v2"
            })
        })
        .collect();
    assert_eq!(payloads, expected);
    // Asynchronous: the run does not wait for the functions' runs.
    assert!(w.calls().iter().all(|c| c.qualifier.is_none()));
}

#[tokio::test]
async fn up_to_inline_max_the_run_deploys_itself_and_the_limit_is_configurable() {
    let w = World::new();
    let names = fleet(&w, 8);
    let r = engine(&w, with_deployer(&names, &[]))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(event_invokes(&w), 0);
    assert!(w.dispatched().is_empty());

    let w = World::new();
    let names = fleet(&w, 3);
    let r = engine(&w, with_deployer(&names, &[("DEPLOYER_INLINE_MAX", "2")]))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(w.dispatched().len(), 3);
}

/// The dispatched payload deploys its function with the same version record as deploying the
/// push inline: same digest, push time and tag (the stale-event check reads them back).
#[tokio::test]
async fn a_dispatched_payload_deploys_exactly_as_the_push_would_have() {
    let w = World::new();
    let names = fleet(&w, 9);
    let deployer = engine(&w, with_deployer(&names, &[]));
    let push_event = push_at("api", 'b', "v2", "2026-11-26T07:00:00Z");
    deployer.handle(&push_event).await.report();
    let payload = w
        .dispatched()
        .into_iter()
        .find(|p| p["function"] == "w-04")
        .unwrap();
    let r = deployer.handle(&payload).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(r.deployments.len(), 1, "only the function it names");
    assert_eq!(w.latest_image("w-04"), image_uri("api", 'b'));
    assert_eq!(
        w.latest_image("w-05"),
        image_uri("api", 'a'),
        "others wait for their own run"
    );
    let dispatched_record = w.version_description("w-04", 2);

    // The same push deployed inline (a limit above the fleet) writes the very same record.
    let inline = World::new();
    fleet(&inline, 9);
    let r = engine(
        &inline,
        with_deployer(&names, &[("DEPLOYER_INLINE_MAX", "9")]),
    )
    .handle(&push_event)
    .await
    .report();
    assert_eq!(r.outcome, Outcome::Deployed);
    assert_eq!(dispatched_record, inline.version_description("w-04", 2));
    assert_eq!(
        dispatched_record,
        format!(
            "self-deployer digest={} previous=1 pushed=2026-11-26T07:00:00Z tag=v2",
            digest('b')
        )
    );

    // A dispatched payload of an older push, arriving late, is stale: it must not undo v2.
    let older = push_at("api", 'c', "v1", "2026-11-26T06:00:00Z");
    deployer.handle(&older).await.report();
    let late = w
        .dispatched()
        .into_iter()
        .find(|p| p["function"] == "w-04" && p["tag"] == "v1")
        .unwrap();
    assert_eq!(late["pushed"], "2026-11-26T06:00:00Z");
    let r = deployer.handle(&late).await.report();
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    let why = r.deployments[0].reason.as_deref().unwrap();
    assert!(why.starts_with("stale_event: this image was pushed at 2026-11-26T06:00:00Z, but the live code (v2) was pushed later, at 2026-11-26T07:00:00Z"), "{why}");
    assert_eq!(w.latest_image("w-04"), image_uri("api", 'b'));
}

#[tokio::test]
async fn functions_that_cannot_be_dispatched_fail_and_the_rest_are_still_sent() {
    let w = World::new();
    let names = fleet(&w, 12);
    w.fail_dispatch_of("w-03", Fault::Throttled);
    w.fail_dispatch_of("w-07", Fault::AccessDenied);
    let deployer = engine(&w, with_deployer(&names, &[]));
    let r = deployer
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "2 of 12 could not be dispatched (w-03, w-07); 10 were dispatched and deploy in their own runs"
        )
    );
    let by_name = |n: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.name() == n)
            .unwrap()
    };
    assert_eq!(by_name("w-03").outcome, Outcome::Failed);
    let why = by_name("w-03").reason.as_deref().unwrap();
    assert!(
        why.starts_with("not dispatched: Invoke failed: TooManyRequestsException"),
        "{why}"
    );
    let why = by_name("w-07").reason.as_deref().unwrap();
    assert!(why.contains("AccessDeniedException"), "{why}");
    assert_eq!(
        r.deployments
            .iter()
            .filter(|d| d.outcome == Outcome::Dispatched)
            .count(),
        10
    );
    assert_eq!(event_invokes(&w), 12, "every function was tried");
    let mut sent: Vec<String> = w
        .dispatched()
        .iter()
        .map(|p| p["function"].as_str().unwrap().to_owned())
        .collect();
    sent.sort();
    let expected: Vec<&String> = names
        .iter()
        .filter(|n| *n != "w-03" && *n != "w-07")
        .collect();
    assert_eq!(sent.iter().collect::<Vec<_>>(), expected);

    // At the Lambda boundary the run is an error (alarms, the on-failure queue); a complete
    // dispatch is not.
    let err = self_deployer::runtime::handle(
        &deployer,
        push("api", 'b', Some("v2")),
        Invocation::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, DeployerError::DeploymentFailed { .. }),
        "{err:?}"
    );
    let ok = World::new();
    let names = fleet(&ok, 10);
    let response = self_deployer::runtime::handle(
        &engine(&ok, with_deployer(&names, &[])),
        push("api", 'b', Some("v2")),
        Invocation::default(),
    )
    .await
    .expect("a complete dispatch is a success");
    assert_eq!(response.into_report().unwrap().outcome, Outcome::Dispatched);
}

#[tokio::test]
async fn a_dry_run_reports_what_would_be_dispatched_and_sends_nothing() {
    let w = World::new();
    let names = fleet(&w, 10);
    let r = engine(&w, with_deployer(&names, &[("DEPLOYER_DRY_RUN", "true")]))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::WouldDispatch, "{r:#?}");
    assert!(r.dry_run);
    assert_eq!(
        r.reason.as_deref(),
        Some("dry run: 10 of 10 would be dispatched")
    );
    assert_eq!(
        r.deployments[0].reason.as_deref(),
        Some(format!("would be dispatched to {DEPLOYER}").as_str())
    );
    assert!(w.calls().is_empty(), "{:?}", w.ops());
}

#[tokio::test]
async fn without_a_function_arn_to_dispatch_to_the_run_fails_before_any_call() {
    let w = World::new();
    let names = fleet(&w, 9);
    let r = engine(&w, config_with(targets(&names), &[]))
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "9 functions are more than DEPLOYER_INLINE_MAX (8), so they are dispatched one invocation each, but this run does not know the deployer's function ARN: set DEPLOYER_FUNCTION_ARN (or raise DEPLOYER_INLINE_MAX to deploy them all in this run). Nothing was sent, nothing was deployed"
        )
    );
    assert!(w.calls().is_empty());

    // In Lambda the deployer knows its own ARN from the invocation: it dispatches to itself,
    // unqualified (each run takes the newest deployer code).
    let deployer = engine(&w, config_with(targets(&names), &[]));
    deployer.set_self_arn(&format!("{DEPLOYER}:live"));
    let r = deployer
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(event_invokes(&w), 9);
}

#[tokio::test]
async fn a_deploy_by_tag_is_dispatched_with_its_tag_and_reason_and_no_push_time() {
    let w = World::new();
    let names = fleet(&w, 9);
    w.ecr_image("api", 'e', Some("stable"));
    let r = engine(&w, with_deployer(&names, &[]))
        .handle(&json!({"action": "deploy", "repository": "api", "tag": "stable", "reason": "INC-7 fix"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched, "{r:#?}");
    assert_eq!(
        r.request_reason.as_ref().map(|r| r.as_str()),
        Some("INC-7 fix")
    );
    let p = w.dispatched().remove(0);
    assert_eq!(
        p,
        json!({"action": "deploy", "function": p["function"], "image_uri": image_uri("api", 'e'), "tag": "stable", "reason": "INC-7 fix"})
    );
    // Fed back, it deploys with the reason and tag.
    let r = engine(&w, with_deployer(&names, &[]))
        .handle(&p)
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(
        r.request_reason.as_ref().map(|r| r.as_str()),
        Some("INC-7 fix")
    );
    assert_eq!(r.image_tag.as_deref(), Some("stable"));
}

#[tokio::test]
async fn the_dispatching_run_notifies_only_when_something_was_not_sent() {
    let w = World::new();
    let names = fleet(&w, 9);
    let (publish, subjects) = sns_subjects();
    let deployer = TestEngine::new(&w)
        .config(with_deployer(&names, &[]))
        .sns(&publish)
        .build();
    let r = deployer
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched);
    assert!(
        subjects.lock().unwrap().is_empty(),
        "each function's run tells its own story"
    );
    let n = r.notification.as_ref().unwrap();
    assert!(!n.sent && n.reason.is_some(), "{n:?}");

    w.fail_dispatch_of("w-02", Fault::ServiceError);
    let r = deployer
        .handle(&push("api", 'c', Some("v3")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Failed);
    let subjects = subjects.lock().unwrap().clone();
    assert!(subjects.iter().any(|s| s.contains("w-02")), "{subjects:?}");
}

/// With reserved concurrency above 1, two pushes for one function can now run at once (before,
/// the second waited in the queue). The guards keep that safe, whatever the interleaving: the alias
/// serves one image at a time, each published only after its own smoke test. And the newest push
/// wins: when the older one moved the alias first, the newer run moves it again (once, guarded by
/// what it found); when the older one overwrote `$LATEST` under the newer's test, the newer run
/// fails without marking its image rejected, and the next reconcile sweep deploys it.
#[tokio::test]
async fn two_different_pushes_running_at_once_on_one_function_end_on_the_newest() {
    let live_image = |w: &World| {
        let live: u64 = w.alias_version("api-dev", "live").unwrap().parse().unwrap();
        w.with_func("api-dev", |f| f.versions[&live].code.clone())
    };
    // How often each way happened: the timings are chosen so that both do.
    let (mut replaced, mut swept) = (0, 0);
    for newer_first in [false, true] {
        for (first, second) in [(10, 20), (20, 10), (15, 15)] {
            let case = format!("newer first {newer_first}, updates {first} s then {second} s");
            let w = World::new();
            w.live_function("api-dev", "api", 'a');
            w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(first));
            w.hook("UpdateFunctionCode", 2, move |s| {
                s.func("api-dev").unwrap().update_takes = Duration::from_secs(second);
            });
            let e = engine(&w, support::config(support::one_target()));
            let older = push_at("api", 'b', "v2", "2026-11-26T07:00:00Z");
            let newer = push_at("api", 'c', "v3", "2026-11-26T07:01:00Z");
            let (o, n) = if newer_first {
                let (n, o) = tokio::join!(e.handle(&newer), e.handle(&older));
                (o.report(), n.report())
            } else {
                let (o, n) = tokio::join!(e.handle(&older), e.handle(&newer));
                (o.report(), n.report())
            };
            // Every version beyond the first ran its smoke test on exactly its code.
            let smoked: Vec<String> = w
                .calls()
                .iter()
                .filter_map(|c| c.ran.as_ref().map(|(sha, _)| sha.clone()))
                .collect();
            for v in w.versions("api-dev").into_iter().skip(1) {
                let sha = w.with_func("api-dev", |f| f.versions[&v].code.sha.clone());
                assert!(
                    smoked.contains(&sha),
                    "{case}: version {v} was never smoke-tested"
                );
            }
            let nd = &n.deployments[0];
            if n.outcome == Outcome::Deployed {
                assert_eq!(live_image(&w).image_uri, image_uri("api", 'c'), "{case}");
                assert_eq!(
                    nd.version.map(|v| v.to_string()),
                    w.alias_version("api-dev", "live"),
                    "{case}"
                );
                if o.outcome == Outcome::Deployed {
                    replaced += 1;
                    // The older went live first; the newer replaced it and says so.
                    assert!(
                        nd.warnings
                            .iter()
                            .any(|w| w.contains("this newer push replaced it")),
                        "{case}: {nd:#?}"
                    );
                }
            } else {
                // The older overwrote $LATEST under the newer's test: the newer says why.
                assert_eq!(o.outcome, Outcome::Deployed, "{case}:\n{o:#?}\n{n:#?}");
                swept += 1;
                // Never at the alias: a refused move to an older push is made again.
                assert_eq!(nd.failed_step, Some(Step::WaitUpdated), "{case}: {nd:#?}");
                assert!(nd.reason.is_some(), "{case}: {nd:#?}");
            }
            // Whichever way it went, a sweep leaves the newest push live and nothing else changes.
            w.ecr_image("api", 'b', Some("v2"));
            w.ecr_image("api", 'c', Some("v3"));
            for (c, at) in [('b', "2026-11-26T07:00:00Z"), ('c', "2026-11-26T07:01:00Z")] {
                let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
                w.lock().pushed.insert(("api".into(), digest(c)), at.into());
            }
            let sweep = e.handle(&json!({"action": "reconcile"})).await.report();
            let expected = if n.outcome == Outcome::Deployed {
                Outcome::InSync
            } else {
                Outcome::Deployed
            };
            assert_eq!(sweep.deployments[0].outcome, expected, "{case}: {sweep:#?}");
            assert_eq!(
                live_image(&w).image_uri,
                image_uri("api", 'c'),
                "{case}: {sweep:#?}"
            );
        }
    }
    assert!(
        replaced > 0 && swept > 0,
        "replaced {replaced}, left to the sweep {swept}"
    );
}

#[tokio::test]
async fn dispatches_are_never_notified_even_when_skips_are() {
    let w = World::new();
    let names = fleet(&w, 9);
    let (publish, subjects) = sns_subjects();
    let settings = NotifySettings {
        notify_skipped: true,
        ..Default::default()
    };
    let r = TestEngine::new(&w)
        .config(with_deployer(&names, &[]))
        .sns_with(&publish, settings)
        .build()
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Dispatched);
    assert!(
        subjects.lock().unwrap().is_empty(),
        "9 runs will notify; the dispatch must not"
    );
}

#[tokio::test]
async fn near_the_invocations_deadline_nothing_more_is_sent_and_the_report_says_so() {
    let w = World::new();
    let names = fleet(&w, 9);
    let deployer = engine(&w, with_deployer(&names, &[]));
    let request = deployer.parse(&push("api", 'b', Some("v2"))).unwrap();
    let inv = Invocation {
        deadline: Some(w.time.now() + Duration::from_secs(10)),
        ..Default::default()
    };
    let r = deployer.run(request, inv).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert!(w.dispatched().is_empty());
    let why = r.deployments[0].reason.as_deref().unwrap();
    assert!(
        why.starts_with("not dispatched: stopped: only 10 s of this invocation were left"),
        "{why}"
    );
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "9 of 9 could not be dispatched (w-01, w-02, w-03, w-04, w-05, w-06, w-07, w-08, w-09); 0 were dispatched and deploy in their own runs"
        )
    );
}

#[tokio::test]
async fn each_function_of_a_fan_out_is_counted_once_in_the_metrics_by_its_own_run() {
    let w = World::new();
    let names = fleet(&w, 9);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let e = TestEngine::new(&w)
        .config(with_deployer(&names, &[]))
        .metrics("SelfDeployer", &lines)
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Dispatched);
    // The runs the dispatch started, as Lambda would start them.
    for payload in w.dispatched() {
        assert_eq!(e.handle(&payload).await.report().outcome, Outcome::Deployed);
    }
    let counted: Vec<(String, String)> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("Deployments").is_some())
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("FunctionName"), s("Outcome"))
        })
        .collect();
    let mut expected: Vec<(String, String)> = names
        .iter()
        .map(|f| (f.clone(), "deployed".into()))
        .collect();
    let mut counted_sorted = counted.clone();
    counted_sorted.sort();
    expected.sort();
    assert_eq!(counted_sorted, expected, "{counted:?}");
}
