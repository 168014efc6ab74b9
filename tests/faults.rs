//! The fault matrix: every AWS call of a deployment, at every step, answered with throttling, a
//! 5xx, a proxy error, a timeout, a conflict, a tripped guard, a malformed response or a denial.
//! After each case: the alias is on the old version or on a version of exactly the smoke-tested
//! code; nothing untested was published; `$LATEST` is restored wherever the engine changed it (or the
//! report says why not); the report and the notification name the failed step; and running the
//! same event again converges to the new version.

use crate::support;

use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::mock;
use self_deployer::engine::Engine;
use self_deployer::report::{Deployment, Outcome, Step, step_name};
use std::sync::{Arc, Mutex};
use support::world::{Answer, Fault, World, image_uri, sha};
use support::{IntoReport, TestEngine, push};

/// Where a fault lands: the n-th call of an operation in a deployment of image b over live a, and
/// the step a failed run must name.
const CALLS: &[(&str, usize, &str, Step)] = &[
    ("GetAlias", 1, "resolve: read the alias", Step::Resolve),
    (
        "GetFunction",
        1,
        "resolve: what the live version runs",
        Step::Resolve,
    ),
    ("GetFunction", 2, "wait_ready", Step::WaitReady),
    ("UpdateFunctionCode", 1, "update_code", Step::UpdateCode),
    (
        "GetFunction",
        3,
        "first poll after the update",
        Step::WaitUpdated,
    ),
    ("GetFunction", 5, "a later poll", Step::WaitUpdated),
    ("Invoke", 1, "smoke_test", Step::SmokeTest),
    ("PublishVersion", 1, "publish", Step::Publish),
    ("UpdateAlias", 1, "promote_alias", Step::PromoteAlias),
];

/// An engine on the world (one target) whose notifications' subjects land in `subjects`.
fn engine_with_sns(w: &World) -> (Engine, Arc<Mutex<Vec<String>>>) {
    let (rule, subjects) = support::sns_subjects();
    (TestEngine::new(w).sns(&rule).build(), subjects)
}

/// Whether a smoke test with the default settings (`expect_status: [200]`) passes this answer.
fn passes(answer: &Answer) -> bool {
    let payload: serde_json::Value = serde_json::from_str(&answer.payload).unwrap_or_default();
    answer.function_error.is_none() && payload["statusCode"] == 200
}

/// Every PublishVersion came after a passing smoke test of exactly the code it published: the
/// last Invoke of the function before it ran `$LATEST`, and the code that ran there (and passed)
/// has the CodeSha256 the PublishVersion carried.
fn assert_every_publish_follows_a_passing_smoke_test_of_its_code(w: &World, case: &str) {
    let calls = w.calls();
    for (i, publish) in calls.iter().enumerate() {
        if publish.op != "PublishVersion" {
            continue;
        }
        let published = publish
            .code_sha256
            .as_deref()
            .unwrap_or_else(|| panic!("{case}: PublishVersion without a CodeSha256"));
        let smoke = calls[..i]
            .iter()
            .rfind(|c| c.op == "Invoke" && c.function == publish.function)
            .unwrap_or_else(|| panic!("{case}: PublishVersion without a smoke test before it"));
        assert_eq!(smoke.qualifier.as_deref(), Some("$LATEST"), "{case}");
        let Some((ran, answer)) = &smoke.ran else {
            panic!("{case}: published after a smoke test that got no answer from the code")
        };
        assert!(
            passes(answer),
            "{case}: published after a failing smoke test: {answer:?}"
        );
        assert_eq!(
            ran, published,
            "{case}: published other code than the smoke test ran"
        );
    }
}

#[tokio::test]
async fn every_fault_at_every_call_leaves_production_safe_and_a_rerun_converges() {
    for &(op, nth, what, step_of_call) in CALLS {
        for fault in Fault::ALL {
            let case = format!("{fault:?} at {op} #{nth} ({what})");
            let w = World::new();
            w.live_function("api-dev", "api", 'a');
            w.fault(op, nth, fault);
            let (e, subjects) = engine_with_sns(&w);
            let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
            let d = &r.deployments[0];
            // Every injected fault fails its run, except a conflict on the update, which the
            // engine waits out and retries, and a lost answer: the SDK sends the call again, and
            // where the first one went through and the repeat trips our own guard, the engine
            // looks ($LATEST runs the image; the alias records this run's move) and goes on.
            let retried =
                (fault == Fault::Conflict && op == "UpdateFunctionCode") || fault == Fault::Lost;
            let expected = if retried {
                Outcome::Deployed
            } else {
                Outcome::Failed
            };
            assert_eq!(r.outcome, expected, "{case}: {r:#?}");

            let alias = production_is_safe(&w, &case);
            // The report tells the truth about where the alias is.
            assert_eq!(
                d.version.map(|v| v.to_string()).as_deref(),
                Some(alias.as_str()),
                "{case}: the report's version is not the alias's"
            );
            match r.outcome {
                Outcome::Deployed => {
                    assert_eq!(alias, d.version.unwrap().to_string(), "{case}");
                    assert_eq!(
                        subjects.lock().unwrap().as_slice(),
                        ["DEPLOYED api-dev v2 (v2)"],
                        "{case}"
                    );
                }
                Outcome::Failed => {
                    assert_eq!(alias, "1", "{case}: a failed run never moves the alias");
                    let step = d
                        .failed_step
                        .unwrap_or_else(|| panic!("{case}: no failed step"));
                    assert_eq!(step, step_of_call, "{case}: the step of the faulted call");
                    assert!(
                        d.reason.as_deref().is_some_and(|r| !r.is_empty()),
                        "{case}: no reason"
                    );
                    let subject = format!("FAILED api-dev at {} (v2)", step_name(step));
                    assert_eq!(subjects.lock().unwrap().as_slice(), [subject], "{case}");
                    latest_is_back_or_said(&w, d, &case);
                }
                other => panic!("{case}: unexpected outcome {other:?}"),
            }

            // The event again, with AWS healthy: the new code goes live.
            let again = e.handle(&push("api", 'b', Some("v2"))).await.report();
            assert!(
                matches!(again.outcome, Outcome::Deployed | Outcome::AlreadyLive),
                "{case}: rerun {again:#?}"
            );
            let alias = w.alias_version("api-dev", "live").unwrap();
            assert_eq!(
                w.with_func("api-dev", |f| f.versions[&alias.parse().unwrap()]
                    .code
                    .sha
                    .clone()),
                sha('b'),
                "{case}"
            );
            assert_eq!(w.latest_image("api-dev"), image_uri("api", 'b'), "{case}");
            assert_every_publish_follows_a_passing_smoke_test_of_its_code(
                &w,
                &format!("{case}, rerun"),
            );
        }
    }
}

/// The alias is on the old version or on a version of exactly the new code, and nothing untested
/// was published. Returns the alias's version.
fn production_is_safe(w: &World, case: &str) -> String {
    // The alias: old version, or a version of exactly the new code.
    let alias = w.alias_version("api-dev", "live").unwrap();
    let alias_code = w.with_func("api-dev", |f| {
        f.versions[&alias.parse().unwrap()].code.sha.clone()
    });
    assert!(
        alias == "1" || alias_code == sha('b'),
        "{case}: alias on {alias}"
    );
    // Nothing untested was published: every new version runs b, and every PublishVersion
    // came after a passing smoke test of exactly the code it published.
    for v in w.versions("api-dev").into_iter().filter(|v| *v > 1) {
        assert_eq!(
            w.with_func("api-dev", |f| f.versions[&v].code.sha.clone()),
            sha('b'),
            "{case}"
        );
    }
    assert_every_publish_follows_a_passing_smoke_test_of_its_code(w, case);
    alias
}

/// After a failure `$LATEST` is back on the live image, or the report says why not.
fn latest_is_back_or_said(w: &World, d: &Deployment, case: &str) {
    let latest = w.latest_image("api-dev");
    match &d.latest_restore {
        None => assert_eq!(
            latest,
            image_uri("api", 'a'),
            "{case}: changed but no restore reported"
        ),
        Some(rs) if rs.restored => {
            assert_eq!(latest, image_uri("api", 'a'), "{case}")
        }
        Some(rs) => {
            assert!(rs.detail.starts_with("not restored: "), "{case}: {rs:?}")
        }
    }
}

#[tokio::test]
async fn transport_faults_are_reported_in_plain_words() {
    let cases = [
        (
            Fault::Throttled,
            "GetAlias failed: TooManyRequestsException: Rate exceeded",
        ),
        (Fault::BadGateway, "GetAlias failed: unexpected response"),
        (Fault::Malformed, "GetAlias failed: unexpected response: "),
        (Fault::Timeout, "GetAlias failed: timed out"),
    ];
    for (fault, expected) in cases {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        w.fault("GetAlias", 1, fault);
        let r = TestEngine::new(&w)
            .build()
            .handle(&push("api", 'b', Some("v2")))
            .await
            .report();
        let reason = r.deployments[0].reason.clone().unwrap();
        assert!(reason.starts_with(expected), "{fault:?}: {reason}");
        assert!(
            reason.len() < 400,
            "{fault:?}: one readable line, got {} chars",
            reason.len()
        );
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_the_deployment_goes_on() {
    use aws_sdk_lambda::config::retry::RetryConfig;
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let throttled = w.get_alias_throttled("api-dev", 2, None);
    // As in production: standard retries with 5 attempts (Engine::from_aws_env).
    let lambda = w.client_with(
        vec![throttled.clone()],
        RetryConfig::standard().with_max_attempts(5),
    );
    let e = TestEngine::new(&w).lambda(lambda).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(throttled.num_calls(), 3, "two 429s, then the answer");
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

/// The image checks' ECR calls: the first scan read, a later one while the scan runs, and the
/// signing status. A fault there (after the SDK's own retries) blocks the image with nothing
/// changed, except a lost answer, which the SDK's repeat of the read makes harmless; the event
/// again, with ECR healthy, deploys.
const ECR_CALLS: &[(&str, usize, &str)] = &[
    ("DescribeImageScanFindings", 1, "the first scan read"),
    (
        "DescribeImageScanFindings",
        2,
        "a read while the scan is running",
    ),
    ("DescribeImageSigningStatus", 1, "the signing status"),
];

#[tokio::test]
async fn every_fault_on_the_image_checks_blocks_with_nothing_mutated_and_a_rerun_converges() {
    use support::config;
    use support::world::{Scan, Signing};
    let profile = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod";
    let checks = serde_json::json!({
        "max_findings": {"CRITICAL": 0}, "require_scan": true,
        "require_signature": {"signing_profile_arn": profile}
    });
    let cfg = config(serde_json::json!([
        {"repository": "api", "functions": ["api-dev"], "image_checks": checks}
    ]));
    for &(op, nth, what) in ECR_CALLS {
        for fault in Fault::ALL {
            let case = format!("{fault:?} at {op} #{nth} ({what})");
            let w = World::new();
            w.live_function("api-dev", "api", 'a');
            w.scan(
                "api",
                'b',
                Scan::complete(&[("HIGH", 2)]).after(std::time::Duration::from_secs(8)),
            );
            w.signed("api", 'b', vec![Signing::complete(profile)]);
            w.fault(op, nth, fault);
            let subjects = Arc::new(Mutex::new(Vec::new()));
            let sink = subjects.clone();
            let rule = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
                sink.lock()
                    .unwrap()
                    .push(req.subject().unwrap_or_default().to_owned());
                PublishOutput::builder().message_id("m").build()
            });
            let e = TestEngine::new(&w).config(cfg.clone()).sns(&rule).build();
            let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
            let d = &r.deployments[0];
            if fault == Fault::Lost {
                assert_eq!(r.outcome, Outcome::Deployed, "{case}: {r:#?}");
                continue;
            }
            assert_eq!(r.outcome, Outcome::Failed, "{case}: {r:#?}");
            assert_eq!(d.failed_step, Some(Step::ImageChecks), "{case}");
            let reason = d.reason.as_deref().unwrap_or_default();
            let expected = if op == "DescribeImageScanFindings" {
                "could not read the scan findings: DescribeImageScanFindings failed: "
            } else {
                "could not read the signing status: DescribeImageSigningStatus failed: "
            };
            assert!(reason.starts_with(expected), "{case}: {reason}");
            assert!(reason.len() < 400, "{case}: one readable line: {reason}");
            assert_eq!(w.mutating_calls(), vec![], "{case}: nothing changed");
            assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
            assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'), "{case}");
            assert_eq!(
                subjects.lock().unwrap().as_slice(),
                ["FAILED api-dev at image_checks (v2)"],
                "{case}"
            );

            let again = e.handle(&push("api", 'b', Some("v2"))).await.report();
            assert_eq!(again.outcome, Outcome::Deployed, "{case}: rerun {again:#?}");
            assert_eq!(
                w.alias_version("api-dev", "live").as_deref(),
                Some("2"),
                "{case}"
            );
            assert_every_publish_follows_a_passing_smoke_test_of_its_code(&w, &case);
        }
    }
}
