//! GitHub deployments (issue 27) on the modelled world and a fake GitHub API on 127.0.0.1: a push
//! creates one deployment of its commit with `in_progress` then `success`; a failed smoke test ends
//! in `failure`; a rollout reports its steps; a manual rollback creates a `success` deployment of
//! the older commit; GitHub refusing, rate-limiting, failing or hanging changes no outcome; the App
//! flow signs a JWT the public key verifies; the token appears in no output.

use crate::support;

use aws_smithy_mocks::{RuleMode, mock, mock_client};
use self_deployer::engine::Engine;
use self_deployer::notify::github::GitHubSink;
use self_deployer::report::{Outcome, Report};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::github::{FakeGitHub, Mode};
use support::world::{Answer, World};
use support::{IntoReport, TestEngine, config_with, push};

const SECRET_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf";
const TOKEN: &str = "ghp_s3cr3tT0k3nNeverShown";
const SHA_B: &str = "1111111111111111111111111111111111111111";
const SHA_C: &str = "2222222222222222222222222222222222222222";

fn targets(extra: Value) -> Value {
    let mut t = json!({"repository": "api", "functions": ["api-dev"],
                       "github": {"repository": "acme/api", "environment": "production"}});
    if let (Some(t), Some(extra)) = (t.as_object_mut(), extra.as_object()) {
        t.extend(extra.clone());
    }
    json!([t])
}

fn secrets(value: String) -> aws_sdk_secretsmanager::Client {
    let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(move || {
        aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput::builder()
            .secret_string(value.clone())
            .build()
    });
    mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule])
}

struct Setup {
    w: World,
    gh: FakeGitHub,
    e: Engine,
    sns: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn setup_with(secret: String, extra_target: Value, vars: &[(&str, &str)]) -> Setup {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', SHA_B), ('c', SHA_C)] {
        w.ecr_image("api", c, Some(tag));
    }
    let gh = FakeGitHub::start().await;
    // Every image's config is readable, without labels: the commit is the tag unless a test
    // gives the image a revision label.
    w.config_blob(&format!("{}/blobs/config", gh.url));
    gh.set_blob(json!({"config": {"Labels": {}}}));
    let mut all = vec![
        ("DEPLOYER_GITHUB_TOKEN_SECRET_ARN", SECRET_ARN),
        ("DEPLOYER_GITHUB_API_URL", gh.url.as_str()),
        ("DEPLOYER_API_TIMEOUT_SECS", "1"),
    ];
    all.extend_from_slice(vars);
    let config = config_with(targets(extra_target), &all);
    let sink = GitHubSink::new(
        config.github.as_ref().expect("github settings"),
        &config.targets,
        secrets(secret),
        config.api_timeout,
    )
    .with_log_url(Some("https://logs.example/run".into()));
    // Every SNS message body, to grep for the token.
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let b = bodies.clone();
    let publish = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
        b.lock().unwrap().push(format!("{:?}", req));
        aws_sdk_sns::operation::publish::PublishOutput::builder()
            .message_id("m")
            .build()
    });
    let e = TestEngine::new(&w)
        .config(config)
        .sns(&publish)
        .rollouts()
        .build()
        .with_github(sink);
    Setup {
        w,
        gh,
        e,
        sns: bodies,
    }
}

async fn setup() -> Setup {
    setup_with(TOKEN.into(), json!({}), &[]).await
}

fn statuses(d: &Value) -> Vec<(String, String)> {
    d["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_str().unwrap().into(), s[1].as_str().unwrap().into()))
        .collect()
}

async fn run(s: &Setup, payload: &Value) -> Report {
    s.e.handle(payload).await.report()
}

#[tokio::test]
async fn a_push_creates_one_deployment_of_its_commit_in_progress_then_success() {
    let s = setup().await;
    // What GitHub hears of, and when: how many times the function's code had been updated.
    let w = s.w.clone();
    s.gh.observe(move || json!(w.count("UpdateFunctionCode")));
    let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert!(
        r.deployments[0].warnings.is_empty(),
        "{:?}",
        r.deployments[0].warnings
    );
    let seen = s.gh.seen();
    let create = &seen[0];
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/repos/acme/api/deployments")
    );
    assert_eq!(create.authorization, format!("Bearer {TOKEN}"));
    assert_eq!(create.body["ref"], SHA_B);
    assert_eq!(create.body["environment"], "production");
    assert_eq!(create.body["auto_merge"], false);
    assert_eq!(create.body["required_contexts"], json!([]));
    let deployments = s.gh.deployments();
    assert_eq!(deployments.len(), 1);
    // `in_progress` before UpdateFunctionCode, `success` on the same deployment after it.
    let observed: Vec<&Value> = deployments[0]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s[2])
        .collect();
    assert_eq!(observed, [&json!(0), &json!(1)]);
    assert_eq!(
        create.body["payload"],
        json!({"function": "api-dev", "version": null, "digest": support::world::digest('b')}),
        "created when the deployment starts, before its version exists"
    );
    assert_eq!(
        statuses(&deployments[0]),
        vec![
            ("in_progress".into(), "deploying to api-dev".into()),
            ("success".into(), "v2 live on live".into())
        ]
    );
    assert_eq!(seen[1].body["log_url"], "https://logs.example/run");
    // A duplicate of the same push is nothing new for GitHub.
    let again = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(again.outcome, Outcome::AlreadyLive);
    assert_eq!(s.gh.deployments().len(), 1);
}

#[tokio::test]
async fn a_failed_smoke_test_ends_in_failure_with_the_reason() {
    let s = setup().await;
    let w = s.w.clone();
    s.gh.observe(move || json!(w.count("UpdateFunctionCode")));
    s.w.answer('b', Answer::status(500));
    let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(r.outcome, Outcome::Failed);
    let all = s.gh.deployments();
    assert_eq!(
        all.len(),
        1,
        "the failure ends the deployment the start created"
    );
    let d = &all[0];
    assert_eq!(d["sha"], SHA_B);
    assert_eq!(
        statuses(d),
        vec![
            ("in_progress".into(), "deploying to api-dev".into()),
            (
                "failure".into(),
                "failed at smoke_test: statusCode 500 is not one of [200]".into()
            )
        ]
    );
    assert_eq!(
        d["statuses"][0][2],
        json!(0),
        "in_progress before the update"
    );
}

#[tokio::test]
async fn a_manual_rollback_creates_a_success_deployment_of_the_older_commit() {
    let s = setup().await;
    run(&s, &push("api", 'b', Some(SHA_B))).await;
    run(&s, &push("api", 'c', Some(SHA_C))).await;
    let r = run(
        &s,
        &json!({"action": "rollback", "function": "api-dev", "reason": "c is slow"}),
    )
    .await;
    assert_eq!(r.outcome, Outcome::RolledBack);
    assert!(
        r.deployments[0].warnings.is_empty(),
        "{:?}",
        r.deployments[0].warnings
    );
    let all = s.gh.deployments();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["sha"], SHA_B, "the commit v2 was deployed from");
    assert_eq!(all[2]["payload"]["version"], "2");
    assert_eq!(
        statuses(&all[2]),
        vec![("success".into(), "rolled back to v2: c is slow".into())]
    );
}

#[tokio::test]
async fn a_rollout_reports_its_steps_on_one_deployment() {
    let rollout = json!({"rollout": {"steps": [10, 50], "interval_secs": 300, "check_secs": 60}});
    let s = setup_with(
        TOKEN.into(),
        rollout,
        &[
            ("DEPLOYER_SCHEDULER_ROLE_ARN", support::SCHEDULER_ROLE),
            ("DEPLOYER_FUNCTION_ARN", support::DEPLOYER_ARN),
        ],
    )
    .await;
    let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    // Every check until the rollout ends (most only confirm the weight: nothing for GitHub).
    for _ in 0..20 {
        if s.w.lock().schedules.is_empty() {
            break;
        }
        let sched = s.w.only_schedule();
        s.w.advance_to(sched.at());
        s.w.lock().schedules.remove(&sched.name);
        let r = s.e.handle(&sched.payload()).await.report();
        assert!(
            r.deployments[0].warnings.is_empty(),
            "{:?}",
            r.deployments[0].warnings
        );
    }
    let all = s.gh.deployments();
    assert_eq!(all.len(), 1, "every step on the push's deployment");
    assert_eq!(
        statuses(&all[0]),
        vec![
            ("in_progress".into(), "deploying to api-dev".into()),
            ("in_progress".into(), "10% on v2".into()),
            ("in_progress".into(), "50% on v2".into()),
            ("success".into(), "v2 live on live".into()),
        ]
    );
}

#[tokio::test]
async fn github_refusing_rate_limiting_failing_or_hanging_changes_no_outcome() {
    let cases = [
        (
            Mode::Unauthorized,
            "GitHub refused the token (401): Bad credentials",
        ),
        (
            Mode::RateLimited,
            "rate limited by GitHub (403), the limit resets at 2027-01-15T08:00:00Z",
        ),
        (Mode::ServerError, "GitHub failed (500)"),
        (Mode::Hang, "no answer from 127.0.0.1"),
    ];
    for (mode, want) in cases {
        let s = setup().await;
        s.gh.set_mode(mode);
        let started = Instant::now();
        let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mode:?} bounded by the timeout"
        );
        assert_eq!(r.outcome, Outcome::Deployed, "{mode:?}");
        assert_eq!(s.w.alias_version("api-dev", "live").as_deref(), Some("2"));
        // The start's warning, then the end's: it tried again to create the deployment.
        let w = &r.deployments[0].warnings;
        assert_eq!(w.len(), 2, "{mode:?}: {w:?}");
        for w in w {
            assert!(
                w.starts_with("GitHub deployment for api-dev: POST /repos/acme/api/deployments: "),
                "{w:?}"
            );
            assert!(w.contains(want), "{mode:?}: {w:?}");
        }
        assert_eq!(r.notification.as_ref().map(|n| n.sent), Some(true));
    }
}

#[tokio::test]
async fn github_failing_at_the_start_gets_the_deployment_created_at_the_end() {
    let s = setup().await;
    let w = s.w.clone();
    s.gh.observe(move || json!(w.count("UpdateFunctionCode")));
    // A brief outage: the start's create answers 500, the end's goes through.
    s.gh.fail_creates(1);
    let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let all = s.gh.deployments();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["sha"], SHA_B);
    assert_eq!(
        statuses(&all[0]),
        vec![
            ("in_progress".into(), "deploying to api-dev".into()),
            ("success".into(), "v2 live on live".into())
        ]
    );
    assert_eq!(all[0]["payload"]["version"], "2", "created at the end");
    let creates =
        s.gh.seen()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/repos/acme/api/deployments")
            .count();
    assert_eq!(creates, 2, "tried at the start, then at the end");
    // The start's warning stays in the report.
    let w = &r.deployments[0].warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("GitHub deployment for api-dev: POST /repos/acme/api/deployments: ")
            && w[0].contains("GitHub failed (500)"),
        "{w:?}"
    );
}

#[tokio::test]
async fn a_tag_that_is_not_a_commit_is_a_warning_and_nothing_is_sent() {
    let s = setup().await;
    let r = run(&s, &push("api", 'b', Some("v2"))).await;
    assert_eq!(r.outcome, Outcome::Deployed);
    assert_eq!(
        r.deployments[0].warnings,
        vec![
            "GitHub deployment for api-dev: no commit: the image has no org.opencontainers.image.revision label and the tag \"v2\" is not a 40-hex commit SHA, no deployment created"
        ]
    );
    assert!(s.gh.seen().is_empty());
}

#[tokio::test]
async fn the_commit_is_the_images_revision_label_read_through_ecr() {
    let s = setup().await;
    s.gh.set_blob(json!({"config": {"Labels": {"org.opencontainers.image.revision": SHA_C}}}));
    // A tag that is no commit: the label says which.
    let r = run(&s, &push("api", 'b', Some("release-7"))).await;
    assert!(
        r.deployments[0].warnings.is_empty(),
        "{:?}",
        r.deployments[0].warnings
    );
    assert_eq!(s.gh.deployments()[0]["sha"], SHA_C);
    assert_eq!(
        s.gh.blob_gets(),
        1,
        "one read serves the start and the record"
    );
    // No config to read (a registry without blobs, as moto): the tag, when it is a commit, with
    // a warning that says why.
    let s2 = setup().await;
    s2.w.lock().config_blob_url = None;
    let r = run(&s2, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(s2.gh.deployments()[0]["sha"], SHA_B);
    assert_eq!(r.deployments[0].warnings.len(), 1);
    assert!(
        r.deployments[0].warnings[0].starts_with(
            "GitHub deployment for api-dev: the image's config could not be read (GetDownloadUrlForLayer failed: "
        ),
        "{:?}",
        r.deployments[0].warnings
    );
}

#[tokio::test]
async fn the_app_flow_exchanges_a_signed_jwt_for_an_installation_token() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{
        KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey,
    };
    let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        aws_smithy_types::base64::encode(der.as_ref())
    );
    let secret = json!({"app_id": 4242, "installation_id": 99, "private_key": pem}).to_string();
    let s = setup_with(secret.clone(), json!({}), &[]).await;
    run(&s, &push("api", 'b', Some(SHA_B))).await;
    run(&s, &push("api", 'c', Some(SHA_C))).await;
    let seen = s.gh.seen();
    let exchanges: Vec<_> = seen
        .iter()
        .filter(|r| r.path.starts_with("/app/"))
        .collect();
    assert_eq!(exchanges.len(), 1, "the installation token is cached");
    assert_eq!(exchanges[0].path, "/app/installations/99/access_tokens");
    let jwt = exchanges[0].authorization.strip_prefix("Bearer ").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |s: &str| {
        let mut s = s.replace('-', "+").replace('_', "/");
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        aws_smithy_types::base64::decode(s).unwrap()
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref())
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &decode(parts[2]),
        )
        .expect("signed with the App's key");
    let claims: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(claims["iss"], "4242");
    let rest: Vec<_> = seen
        .iter()
        .filter(|r| r.path.starts_with("/repos/"))
        .collect();
    assert!(
        rest.iter()
            .all(|r| r.authorization == "Bearer ghs_installation_token")
    );
    assert_eq!(s.gh.deployments().len(), 2);
}

#[tokio::test]
async fn the_token_appears_in_no_report_warning_or_notification() {
    for mode in [Mode::Normal, Mode::Unauthorized, Mode::ServerError] {
        let s = setup().await;
        s.gh.set_mode(mode);
        let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
        let rb = run(&s, &json!({"action": "rollback", "function": "api-dev"})).await;
        let everything = format!(
            "{}{}{:?}{:?}{}",
            serde_json::to_string(&r).unwrap(),
            serde_json::to_string(&rb).unwrap(),
            r,
            s.e,
            s.sns.lock().unwrap().join("\n")
        );
        assert!(!s.sns.lock().unwrap().is_empty());
        assert!(!everything.contains(TOKEN), "{mode:?}: the token leaked");
        assert!(!everything.contains("s3cr3t"), "{mode:?}");
    }
}

/// A push of 'b' with the image config `blob` read through ECR, and metrics on: the report, the
/// DORA record, and v2's description.
async fn deploy_with_config(blob: Value) -> (Report, Value, String) {
    let mut s = setup().await;
    s.gh.set_blob(blob);
    let config = config_with(
        targets(json!({})),
        &[
            ("DEPLOYER_GITHUB_TOKEN_SECRET_ARN", SECRET_ARN),
            ("DEPLOYER_GITHUB_API_URL", s.gh.url.as_str()),
        ],
    );
    let sink = GitHubSink::new(
        config.github.as_ref().unwrap(),
        &config.targets,
        secrets(TOKEN.into()),
        config.api_timeout,
    );
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    s.e = TestEngine::new(&s.w)
        .config(config)
        .metrics("SelfDeployer", &lines)
        .build()
        .with_github(sink);
    let r = run(&s, &push("api", 'b', Some(SHA_B))).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let dora = TestEngine::lead_time_records(&lines)
        .into_iter()
        .next()
        .expect("a DORA record with a lead time");
    (r, dora, s.w.version_description("api-dev", 2))
}

fn ms(t: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis() as u64
}

#[tokio::test]
async fn lead_time_counts_from_the_images_created_label_else_from_the_push() {
    let labels = |created: Value| {
        json!({"config": {"Labels": {"org.opencontainers.image.revision": SHA_B,
                                     "org.opencontainers.image.created": created}}})
    };
    // Built an hour before the push (the push event says 07:00:00).
    let (_, dora, description) = deploy_with_config(labels(json!("2026-11-26T06:00:00Z"))).await;
    let at = dora["_aws"]["Timestamp"].as_u64().unwrap();
    assert_eq!(dora["LeadTimeFrom"], "image_created");
    assert_eq!(
        dora["LeadTimeSeconds"],
        json!((at - ms("2026-11-26T06:00:00Z")) / 1000)
    );
    // Recorded on the version, for `history --dora`.
    assert!(
        description.contains(" created=2026-11-26T06:00:00Z"),
        "{description}"
    );
    // No label, or one that is no time: from the push, and the record says so.
    for blob in [
        json!({"config": {"Labels": {"org.opencontainers.image.revision": SHA_B}}}),
        labels(json!("last tuesday")),
        labels(json!(1764136800)),
    ] {
        let (r, dora, description) = deploy_with_config(blob.clone()).await;
        let at = dora["_aws"]["Timestamp"].as_u64().unwrap();
        assert_eq!(dora["LeadTimeFrom"], "pushed", "{blob}");
        assert_eq!(
            dora["LeadTimeSeconds"],
            json!((at - ms("2026-11-26T07:00:00Z")) / 1000),
            "{blob}"
        );
        assert!(!description.contains("created="), "{description}");
        assert!(r.deployments[0].warnings.is_empty(), "{r:#?}");
    }
}
