//! Image checks on the modelled world: only clean, signed images go further. ECR's scan states,
//! counts and findings and its managed-signing statuses, in virtual time (a scan that completes
//! after 40 s is waited for; one that never does blocks at `scan_wait_secs`); every block leaves
//! everything as it was (no UpdateFunctionCode, no version, alias and `$LATEST` untouched).

use crate::support;

use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_async::time::TimeSource;
use aws_smithy_mocks::mock;
use self_deployer::config::Config;
use self_deployer::notify::render::{RenderSettings, messages};
use self_deployer::report::{ImageVerdict, Outcome, Report, Step, step_name};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::world::{ACCOUNT, Fault, Scan, Signing, World, digest, image_uri};
use support::{IntoReport, TestEngine, config, config_with, engine, push, push_at, push_b_by};

const PROFILE: &str = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod";

/// One target, api → api-dev, with these image checks.
fn gated(checks: Value) -> Config {
    config(json!([{"repository": "api", "functions": ["api-dev"], "image_checks": checks}]))
}

fn strict() -> Value {
    json!({"max_findings": {"CRITICAL": 0, "HIGH": 3}, "require_scan": true})
}

/// api-dev runs image a (version 1, alias live → 1).
fn world() -> World {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w
}

async fn push_b_with(w: &World, cfg: Config) -> Report {
    engine(w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report()
}

/// The run failed at image_checks with exactly `reason`, and nothing was touched.
fn assert_blocked(w: &World, r: &Report, reason: &str) {
    let d = &r.deployments[0];
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert!(r.is_failure());
    assert_eq!(d.failed_step, Some(Step::ImageChecks), "{d:#?}");
    assert_eq!(d.reason.as_deref(), Some(reason), "{d:#?}");
    assert_nothing_mutated(w);
    assert!(d.latest_restore.is_none(), "nothing to restore: {d:#?}");
    assert_eq!(d.version.map(|v| v.to_string()).as_deref(), Some("1"));
    assert_eq!(
        d.image_checks.as_ref().map(|c| c.verdict),
        Some(ImageVerdict::Blocked)
    );
    assert_eq!(
        r.reason.as_deref(),
        Some("1 of 1 failed: api-dev at image_checks")
    );
}

fn assert_nothing_mutated(w: &World) {
    assert_eq!(w.mutating_calls(), vec![], "nothing may be changed");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'a'));
    assert_eq!(w.versions("api-dev"), vec![1]);
}

fn steps(r: &Report) -> Vec<Step> {
    r.deployments[0].steps.iter().map(|s| s.step).collect()
}

#[tokio::test]
async fn counts_above_their_limits_block_before_anything_changes() {
    let w = world();
    w.scan(
        "api",
        'b',
        Scan::complete(&[("LOW", 30), ("HIGH", 5), ("CRITICAL", 2)]),
    );
    let r = push_b_with(&w, gated(strict())).await;
    assert_blocked(&w, &r, "CRITICAL 2 > 0, HIGH 5 > 3");
    // Then the blocked image is marked rejected (a tag), so that a reconcile sweep never retries it.
    assert_eq!(
        w.ops(),
        [
            "GetAlias",
            "GetFunction",
            "DescribeImageScanFindings",
            "GetFunction",
            "ListTags",
            "TagResource"
        ]
    );
    assert_eq!(w.tags("api-dev")["self-deployer:rejected"], "b".repeat(16));
    // Asked about exactly the pushed image, in the registry it came from.
    let call = w
        .calls()
        .into_iter()
        .find(|c| c.op == "DescribeImageScanFindings")
        .unwrap();
    assert_eq!(call.function, "api");
    assert_eq!(call.qualifier, Some(digest('b')));
    assert_eq!(call.registry_id.as_deref(), Some(ACCOUNT));
    let c = r.deployments[0].image_checks.as_ref().unwrap();
    assert_eq!(c.scan_status, "COMPLETE");
    assert_eq!(c.counts.summary(), "CRITICAL 2, HIGH 5, LOW 30");
    // The most severe first, bounded.
    assert_eq!(c.findings.len(), 10);
    let sev: Vec<&str> = c.findings.iter().map(|f| f.severity.as_str()).collect();
    assert_eq!(&sev[..3], ["CRITICAL", "CRITICAL", "HIGH"]);
    assert_eq!(c.findings[0].name, "CVE-2026-0036");
    assert_eq!(c.findings[0].package.as_deref(), Some("pkg-36 1.0.36"));
    assert_eq!(steps(&r), [Step::Resolve, Step::ImageChecks]);
    let v = serde_json::to_value(&r).unwrap();
    let j = &v["deployments"][0]["image_checks"];
    assert_eq!(j["verdict"], "blocked");
    assert_eq!(j["counts"], json!({"CRITICAL": 2, "HIGH": 5, "LOW": 30}));
    assert_eq!(
        j["counts"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["CRITICAL", "HIGH", "LOW"],
        "most severe first"
    );
    assert_eq!(j["signature"], Value::Null);
    assert_eq!(v["deployments"][0]["failed_step"], "image_checks");
}

#[tokio::test]
async fn a_blocked_image_is_notified_with_its_counts_and_top_findings() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 30), ("HIGH", 1)]));
    let subjects = Arc::new(Mutex::new(Vec::new()));
    let seen = subjects.clone();
    let rule = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
        seen.lock()
            .unwrap()
            .push(req.subject().unwrap_or_default().to_owned());
        PublishOutput::builder().message_id("m").build()
    });
    let r = TestEngine::new(&w)
        .config(gated(strict()))
        .sns(&rule)
        .build()
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_blocked(&w, &r, "CRITICAL 30 > 0");
    assert_eq!(
        subjects.lock().unwrap().as_slice(),
        ["FAILED api-dev at image_checks (v2)"]
    );
    let text = &messages(&r, &RenderSettings::default())[0].text;
    assert!(text.contains("Failed step:  image_checks\n"), "{text}");
    assert!(text.contains("Reason:       CRITICAL 30 > 0\n"), "{text}");
    assert!(
        text.contains("Image checks: BLOCKED (scan COMPLETE: CRITICAL 30, HIGH 1)\n"),
        "{text}"
    );
    assert!(text.contains("Top findings (10 of 31):\n"), "{text}");
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  CRITICAL "))
        .collect();
    assert_eq!(listed.len(), 10, "bounded: {text}");
    assert_eq!(
        listed[0],
        "  CRITICAL       CVE-2026-0001        pkg-1 1.0.1"
    );
    let chatbot = messages(&r, &RenderSettings::default())[0]
        .chatbot
        .to_string();
    assert!(chatbot.contains("*Image checks:* BLOCKED (scan COMPLETE: CRITICAL 30, HIGH 1)"));
}

#[tokio::test]
async fn under_the_limits_the_image_deploys_and_the_report_carries_the_counts() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("HIGH", 3), ("MEDIUM", 8)]));
    let r = push_b_with(&w, gated(strict())).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        steps(&r)[..3],
        [Step::Resolve, Step::ImageChecks, Step::WaitReady]
    );
    let d = &r.deployments[0];
    assert!(d.warnings.is_empty(), "{d:#?}");
    let j = serde_json::to_value(d).unwrap();
    assert_eq!(j["image_checks"]["verdict"], "passed");
    assert_eq!(j["image_checks"]["scan_status"], "COMPLETE");
    assert_eq!(j["image_checks"]["counts"], json!({"HIGH": 3, "MEDIUM": 8}));
    // The checks ran before the first change.
    let ops = w.ops();
    let checked = ops
        .iter()
        .position(|o| *o == "DescribeImageScanFindings")
        .unwrap();
    let changed = ops.iter().position(|o| *o == "UpdateFunctionCode").unwrap();
    assert!(checked < changed, "{ops:?}");
    let text = &messages(&r, &RenderSettings::default())[0].text;
    assert!(
        text.contains("Image checks: passed (scan COMPLETE: HIGH 3, MEDIUM 8)\n"),
        "{text}"
    );
}

#[tokio::test]
async fn without_image_checks_ecr_is_not_asked() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 9)]));
    let r = push_b_with(
        &w,
        config(json!([{"repository": "api", "functions": ["api-dev"]}])),
    )
    .await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.count("DescribeImageScanFindings"), 0);
    assert!(r.deployments[0].image_checks.is_none());
    let j = serde_json::to_value(&r.deployments[0]).unwrap();
    assert!(j.get("image_checks").is_none(), "{j}");
}

#[tokio::test]
async fn a_scan_that_completes_after_40_s_is_waited_for() {
    let w = world();
    w.scan(
        "api",
        'b',
        Scan::complete(&[("HIGH", 1)]).after(Duration::from_secs(40)),
    );
    let start = w.time.now();
    let r = push_b_with(&w, gated(strict())).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    // Asked at 0, 5, …, 40 s of virtual time: nine reads, the last one finds it done.
    assert_eq!(w.count("DescribeImageScanFindings"), 9);
    let at: Vec<u64> = w
        .calls()
        .iter()
        .filter(|c| c.op == "DescribeImageScanFindings")
        .map(|c| c.at.unwrap().duration_since(start).unwrap().as_secs())
        .collect();
    assert_eq!(at, [0, 5, 10, 15, 20, 25, 30, 35, 40]);
    let ms = r.deployments[0].steps[1].ms;
    assert_eq!(r.deployments[0].steps[1].step, Step::ImageChecks);
    assert!((40_000..41_000).contains(&ms), "{ms} ms");
    assert_eq!(
        r.deployments[0].image_checks.as_ref().unwrap().scan_status,
        "COMPLETE"
    );
}

#[tokio::test]
async fn a_scan_that_never_completes_blocks_at_scan_wait_secs() {
    for running in [Scan::complete(&[]), Scan::complete(&[]).pending()] {
        let status = running.running_status;
        let w = world();
        w.scan("api", 'b', running.never_completes());
        let start = w.time.now();
        let r = push_b_with(
            &w,
            gated(json!({"max_findings": {"CRITICAL": 0}, "scan_wait_secs": 60})),
        )
        .await;
        assert_blocked(
            &w,
            &r,
            &format!("scan did not complete within 60 s (still {status})"),
        );
        assert_eq!(w.count("DescribeImageScanFindings"), 13, "0, 5, …, 60 s");
        assert_eq!(r.deployments[0].steps[1].ms, 60_000);
        assert!(w.time.now().duration_since(start).unwrap() < Duration::from_secs(61));
        assert_eq!(
            r.deployments[0].image_checks.as_ref().unwrap().scan_status,
            status
        );
    }
    // scan_wait_secs 0: asked once, never waited for.
    let w = world();
    w.scan("api", 'b', Scan::complete(&[]).never_completes());
    let r = push_b_with(
        &w,
        gated(json!({"require_scan": true, "scan_wait_secs": 0})),
    )
    .await;
    assert_blocked(
        &w,
        &r,
        "scan did not complete within 0 s (still IN_PROGRESS)",
    );
    assert_eq!(w.count("DescribeImageScanFindings"), 1);
}

#[tokio::test]
async fn the_invocations_deadline_cuts_the_wait_short() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[]).never_completes());
    let e = engine(&w, gated(strict()));
    let deadline = w.time.now() + Duration::from_secs(100);
    let r = push_b_by(&e, deadline).await;
    assert_blocked(
        &w,
        &r,
        "scan still IN_PROGRESS after 70 s, and this invocation's deadline is near",
    );
    assert!(w.time.now() < deadline, "answered before the deadline");
}

#[tokio::test]
async fn without_a_usable_scan_require_scan_decides() {
    let cases: Vec<(Option<Scan>, &str)> = vec![
        (
            None,
            "no scan: ECR has no scan of this image (is scan on push on for repository api?), and require_scan is set",
        ),
        (
            Some(Scan::ended(
                "FAILED",
                "UnsupportedImageError: the image is not supported",
            )),
            "no usable scan: ECR reports FAILED (UnsupportedImageError: the image is not supported), and require_scan is set",
        ),
        (
            Some(Scan::ended(
                "UNSUPPORTED_IMAGE",
                "The operating system is not supported",
            )),
            "no usable scan: ECR reports UNSUPPORTED_IMAGE (The operating system is not supported), and require_scan is set",
        ),
        (
            Some(Scan::ended("SCAN_ELIGIBILITY_EXPIRED", "expired")),
            "no usable scan: ECR reports SCAN_ELIGIBILITY_EXPIRED (expired), and require_scan is set",
        ),
        (
            Some(Scan::ended("FINDINGS_UNAVAILABLE", "unavailable")),
            "no usable scan: ECR reports FINDINGS_UNAVAILABLE (unavailable), and require_scan is set",
        ),
    ];
    for (scan, reason) in cases {
        // require_scan: blocked, nothing touched.
        let w = world();
        match &scan {
            Some(s) => w.scan("api", 'b', s.clone()),
            None => w.ecr_image("api", 'b', None),
        }
        let r = push_b_with(&w, gated(strict())).await;
        assert_blocked(&w, &r, reason);
        let expected = scan.as_ref().map(|s| s.status.as_str()).unwrap_or("NONE");
        assert_eq!(
            r.deployments[0].image_checks.as_ref().unwrap().scan_status,
            expected
        );

        // Without it: deployed, with a warning saying why the image was not checked.
        let w = world();
        match &scan {
            Some(s) => w.scan("api", 'b', s.clone()),
            None => w.ecr_image("api", 'b', None),
        }
        let r = push_b_with(&w, gated(json!({"max_findings": {"CRITICAL": 0}}))).await;
        assert_eq!(r.outcome, Outcome::Deployed, "{reason}: {r:#?}");
        let d = &r.deployments[0];
        assert_eq!(d.warnings.len(), 1, "{d:#?}");
        assert!(
            d.warnings[0].starts_with("image not checked for vulnerabilities: "),
            "{d:#?}"
        );
        assert_eq!(
            d.image_checks.as_ref().unwrap().verdict,
            ImageVerdict::Passed
        );
        let text = &messages(&r, &RenderSettings::default())[0].text;
        assert!(text.contains("Warning:      image not checked"), "{text}");
    }
}

#[tokio::test]
async fn report_only_checks_never_block() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 4)]));
    let r = push_b_with(&w, gated(json!({}))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let c = r.deployments[0].image_checks.as_ref().unwrap();
    assert_eq!(c.counts.summary(), "CRITICAL 4");
    assert_eq!(c.verdict, ImageVerdict::Passed);
}

#[tokio::test]
async fn an_enhanced_scan_is_read_like_a_basic_one() {
    let w = world();
    w.scan(
        "api",
        'b',
        Scan::complete(&[("UNTRIAGED", 2), ("HIGH", 1)]).enhanced(),
    );
    let r = push_b_with(
        &w,
        gated(json!({"max_findings": {"HIGH": 1}, "require_scan": true})),
    )
    .await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let c = r.deployments[0].image_checks.as_ref().unwrap();
    assert_eq!(c.scan_status, "ACTIVE");
    assert_eq!(c.counts.summary(), "HIGH 1, UNTRIAGED 2");
    assert_eq!(c.findings[0].name, "CVE-2026-0003");
    assert_eq!(c.findings[0].severity, "HIGH");
    assert_eq!(c.findings[0].package.as_deref(), Some("pkg-3 1.0.3"));

    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 1)]).enhanced());
    let r = push_b_with(&w, gated(strict())).await;
    assert_blocked(&w, &r, "CRITICAL 1 > 0");
}

fn signed_config(extra: Value) -> Config {
    let mut checks = json!({"require_signature": {"signing_profile_arn": PROFILE}});
    if let (Some(c), Some(e)) = (checks.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    gated(checks)
}

#[tokio::test]
async fn a_signature_by_the_required_profile_lets_the_image_through() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[]));
    w.signed("api", 'b', vec![Signing::complete(PROFILE)]);
    let r = push_b_with(&w, signed_config(json!({}))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let s = r.deployments[0]
        .image_checks
        .as_ref()
        .unwrap()
        .signature
        .clone()
        .unwrap();
    assert_eq!(
        (s.status.as_str(), s.signing_profile_arn.as_str()),
        ("COMPLETE", PROFILE)
    );
    let call = w
        .calls()
        .into_iter()
        .find(|c| c.op == "DescribeImageSigningStatus")
        .unwrap();
    assert_eq!(
        (
            call.function.as_str(),
            call.qualifier,
            call.registry_id.as_deref()
        ),
        ("api", Some(digest('b')), Some(ACCOUNT))
    );
}

#[tokio::test]
async fn an_image_not_signed_by_the_profile_is_blocked_with_ecrs_reason() {
    let other = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/dev";
    let cases: Vec<(Vec<Signing>, String)> = vec![
        (
            vec![],
            format!("not signed by {PROFILE}: ECR has no signing status for this image"),
        ),
        (
            vec![Signing::complete(other)],
            format!("not signed by {PROFILE}: it is signed only by {other}"),
        ),
        (
            vec![Signing::failed(
                PROFILE,
                "SIGNING_PROFILE_REVOKED",
                "The signing profile was revoked",
            )],
            format!(
                "not signed by {PROFILE}: ECR reports FAILED: SIGNING_PROFILE_REVOKED: The signing profile was revoked"
            ),
        ),
        (
            vec![Signing::complete(PROFILE).after(Duration::from_secs(3600))],
            format!("signing by {PROFILE} did not complete within 30 s (still IN_PROGRESS)"),
        ),
    ];
    for (signings, reason) in cases {
        let w = world();
        w.scan("api", 'b', Scan::complete(&[]));
        w.signed("api", 'b', signings);
        let r = push_b_with(&w, signed_config(json!({"scan_wait_secs": 30}))).await;
        assert_blocked(&w, &r, &reason);
    }
    // Both a scan and a signature fail: both are named.
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 1)]));
    let r = push_b_with(&w, signed_config(json!({"max_findings": {"CRITICAL": 0}}))).await;
    assert_blocked(
        &w,
        &r,
        &format!(
            "CRITICAL 1 > 0; not signed by {PROFILE}: ECR has no signing status for this image"
        ),
    );
}

#[tokio::test]
async fn signing_in_progress_is_waited_for_like_a_scan() {
    let w = world();
    w.scan(
        "api",
        'b',
        Scan::complete(&[]).after(Duration::from_secs(10)),
    );
    w.signed(
        "api",
        'b',
        vec![Signing::complete(PROFILE).after(Duration::from_secs(20))],
    );
    let r = push_b_with(&w, signed_config(json!({}))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    // The scan is read until it is done (0, 5, 10 s), the signature until it is (… 20 s).
    assert_eq!(w.count("DescribeImageScanFindings"), 3);
    assert_eq!(w.count("DescribeImageSigningStatus"), 5);
}

#[tokio::test]
async fn an_image_already_live_or_a_stale_event_is_not_checked() {
    // The same image again: already live, ECR not asked.
    let w = world();
    w.scan("api", 'a', Scan::complete(&[("CRITICAL", 5)]));
    let r = engine(&w, gated(strict()))
        .handle(&push("api", 'a', Some("v1")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::AlreadyLive, "{r:#?}");
    assert_eq!(w.count("DescribeImageScanFindings"), 0);

    // An event older than what is live: skipped before any check.
    let w = World::new();
    w.add_function("api-dev", support::world::Code::of("api", 'a'));
    let v = w.publish(
        "api-dev",
        &format!(
            "self-deployer digest={} previous=none pushed=2026-11-27T00:00:00Z",
            digest('a')
        ),
    );
    w.set_alias("api-dev", "live", &v.to_string());
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 5)]));
    let r = engine(&w, gated(strict()))
        .handle(&push_at("api", 'b', "v2", "2026-11-26T07:00:00Z"))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    assert_eq!(w.count("DescribeImageScanFindings"), 0);
}

#[tokio::test]
async fn dry_runs_run_the_checks_and_report_their_verdict() {
    // Blocked: the dry run fails where the real run would, and changes nothing.
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 1)]));
    let cfg = config_with(
        json!([{"repository": "api", "functions": ["api-dev"], "image_checks": strict()}]),
        &[("DEPLOYER_DRY_RUN", "true")],
    );
    let r = push_b_with(&w, cfg.clone()).await;
    assert!(r.dry_run);
    assert_blocked(&w, &r, "CRITICAL 1 > 0");

    // Clean: would deploy, with the verdict in the report.
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("HIGH", 1)]));
    let r = push_b_with(&w, cfg).await;
    assert_eq!(r.outcome, Outcome::WouldDeploy, "{r:#?}");
    assert_nothing_mutated(&w);
    let c = r.deployments[0].image_checks.as_ref().unwrap();
    assert_eq!(
        (c.verdict, c.counts.summary()),
        (ImageVerdict::Passed, "HIGH 1".into())
    );
}

#[tokio::test]
async fn a_deploy_by_hand_is_gated_too() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 1)]));
    let e = engine(&w, gated(strict()));
    let r = e
        .handle(
            &json!({"action": "deploy", "function": "api-dev", "image_uri": image_uri("api", 'b')}),
        )
        .await
        .report();
    assert_blocked(&w, &r, "CRITICAL 1 > 0");
    let r = e
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": image_uri("api", 'b'), "dry_run": true}))
        .await
        .report();
    assert_blocked(&w, &r, "CRITICAL 1 > 0");
}

#[tokio::test]
async fn deployer_image_checks_is_the_default_for_targets_without_their_own() {
    let w = world();
    w.live_function("api-prod", "api", 'a');
    w.scan("api", 'b', Scan::complete(&[("CRITICAL", 1)]));
    let cfg = config_with(
        json!([
            {"repository": "api", "functions": ["api-prod"]},
            {"repository": "api", "functions": ["api-dev"], "image_checks": {}}
        ]),
        &[("DEPLOYER_IMAGE_CHECKS", &strict().to_string())],
    );
    let r = push_b_with(&w, cfg).await;
    let by_name = |n: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.name() == n)
            .unwrap()
            .clone()
    };
    let prod = by_name("api-prod");
    assert_eq!(prod.outcome, Outcome::Failed);
    assert_eq!(prod.failed_step, Some(Step::ImageChecks));
    assert_eq!(prod.reason.as_deref(), Some("CRITICAL 1 > 0"));
    assert_eq!(w.alias_version("api-prod", "live").as_deref(), Some("1"));
    assert_eq!(w.latest_image("api-prod"), image_uri("api", 'a'));
    // `{}` only reports.
    let dev = by_name("api-dev");
    assert_eq!(dev.outcome, Outcome::Deployed);
    assert_eq!(dev.image_checks.unwrap().counts.summary(), "CRITICAL 1");
}

#[tokio::test]
async fn a_rollback_is_never_gated_but_shows_the_targets_counts() {
    let w = world();
    w.scan("api", 'b', Scan::complete(&[]));
    let e = engine(&w, gated(strict()));
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    // Since then, ECR found a critical vulnerability in version 1's image: rolling back is still
    // allowed (it must stay instant), and the report says what ECR knows now.
    w.scan("api", 'a', Scan::complete(&[("CRITICAL", 3)]));
    let before = w.calls().len();
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    let d = &r.deployments[0];
    let c = d.image_checks.as_ref().unwrap();
    assert_eq!(c.verdict, ImageVerdict::NotGated);
    assert_eq!(c.counts.summary(), "CRITICAL 3");
    assert!(!d.steps.iter().any(|s| s.step == Step::ImageChecks));
    // Read once, after the move.
    let ops: Vec<&str> = w.calls()[before..].iter().map(|c| c.op).collect();
    assert_eq!(
        ops.iter()
            .filter(|o| **o == "DescribeImageScanFindings")
            .count(),
        1
    );
    let moved = ops.iter().position(|o| *o == "UpdateAlias").unwrap();
    let read = ops
        .iter()
        .position(|o| *o == "DescribeImageScanFindings")
        .unwrap();
    assert!(moved < read, "{ops:?}");
    let text = &messages(&r, &RenderSettings::default())[0].text;
    assert!(
        text.contains(
            "Image checks: scan COMPLETE: CRITICAL 3 (for information: rollbacks are not gated)"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_rollback_never_fails_for_want_of_a_scan() {
    for fault in [None, Some(Fault::AccessDenied), Some(Fault::Timeout)] {
        let w = world();
        w.scan("api", 'b', Scan::complete(&[]));
        let e = engine(&w, gated(strict()));
        assert_eq!(
            e.handle(&push("api", 'b', Some("v2")))
                .await
                .report()
                .outcome,
            Outcome::Deployed
        );
        // Version 1's image has no scan (or ECR cannot be asked).
        w.ecr_image("api", 'a', None);
        if let Some(f) = fault {
            let n = w.count("DescribeImageScanFindings") + 1;
            w.fault("DescribeImageScanFindings", n, f);
        }
        let r = e
            .handle(&json!({"action": "rollback", "function": "api-dev"}))
            .await
            .report();
        assert_eq!(r.outcome, Outcome::RolledBack, "{fault:?}: {r:#?}");
        assert!(r.deployments[0].image_checks.is_none(), "{fault:?}");
        assert!(r.deployments[0].warnings.is_empty(), "{fault:?}");
    }
}

#[tokio::test]
async fn an_ecr_image_scan_event_is_skipped_with_its_reason() {
    let w = world();
    let event = json!({
        "version": "0", "id": "85fc3613-e913-7fc4-a80c-a3753e4aa9ae",
        "detail-type": "ECR Image Scan", "source": "aws.ecr",
        "account": ACCOUNT, "time": "2026-11-26T07:01:00Z", "region": "eu-west-1",
        "resources": [format!("arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/api")],
        "detail": {
            "scan-status": "COMPLETE", "repository-name": "api",
            "finding-severity-counts": {"CRITICAL": 10, "MEDIUM": 9},
            "image-digest": digest('b'), "image-tags": ["v2"]
        }
    });
    let r = engine(&w, gated(strict())).handle(&event).await.report();
    assert_eq!(r.outcome, Outcome::Skipped);
    assert!(!r.is_failure());
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "an \"ECR Image Scan\" event deploys nothing: the push's own \"ECR Image Action\" event deploys the image, and its image_checks wait for the scan (scan_wait_secs)"
        )
    );
    assert_eq!(r.repository.as_deref(), Some("api"));
    assert_eq!(r.image_digest, Some(digest('b')));
    assert!(w.calls().is_empty(), "no AWS call: {:?}", w.ops());
    // Still validated like every event.
    let mut bad = event.clone();
    bad["detail"]["image-digest"] = json!("latest");
    let err = engine(&w, gated(strict())).handle(&bad).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("payload.detail.image-digest: \"latest\" is not a digest"),
        "{err}"
    );
}

#[tokio::test]
async fn every_step_name_is_the_reports_vocabulary() {
    assert_eq!(step_name(Step::ImageChecks), "image_checks");
}
