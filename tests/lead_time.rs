//! Lead time for every target (issue 27): the image's `org.opencontainers.image.created` label is
//! read once per run per image, for every deployment that changes code, with or without a `github`
//! block; LeadTimeSeconds counts from it (LeadTimeFrom `image_created`) and the version record keeps
//! `created=`. A config that cannot be read counts from the push, quietly. The config blob is served
//! by the fake GitHub's `/blobs/config` (a local HTTP server standing in for ECR's layer storage).

use crate::support;

use self_deployer::report::{Outcome, Report};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::github::FakeGitHub;
use support::world::{Fault, World};
use support::{IntoReport, TestEngine, config, push};

const FUNCTIONS: [&str; 3] = ["api-a", "api-b", "api-c"];
/// The push event's time (`support::push`).
const PUSHED: &str = "2026-11-26T07:00:00Z";
const CREATED: &str = "2026-11-26T06:00:00Z";

/// Three functions of one repository, no `github` anywhere; image 'b' pushed, its config blob
/// `blob` (`None`: the world has no blobs, as moto).
async fn world(blob: Option<Value>) -> (World, FakeGitHub) {
    let w = World::new();
    for f in FUNCTIONS {
        w.live_function(f, "api", 'a');
    }
    w.ecr_image("api", 'b', Some("v2"));
    let blobs = FakeGitHub::start().await;
    if let Some(blob) = blob {
        w.config_blob(&format!("{}/blobs/config", blobs.url));
        blobs.set_blob(blob);
    }
    (w, blobs)
}

/// The push to all three, with metrics: the report and each function's DORA record.
async fn deploy(w: &World) -> (Report, Vec<Value>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(w)
        .config(config(
            json!([{"repository": "api", "functions": FUNCTIONS}]),
        ))
        .metrics("SelfDeployer", &lines)
        .build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    (r, TestEngine::lead_time_records(&lines))
}

fn seconds_since(record: &Value, t: &str) -> Value {
    let at = record["_aws"]["Timestamp"].as_u64().unwrap();
    let from = chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis() as u64;
    json!((at - from) / 1000)
}

fn labels(created: Value) -> Value {
    json!({"config": {"Labels": {"org.opencontainers.image.created": created}}})
}

#[tokio::test]
async fn a_target_without_github_counts_lead_time_from_the_images_created_label() {
    let (w, blobs) = world(Some(labels(json!(CREATED)))).await;
    let (r, dora) = deploy(&w).await;
    assert_eq!(dora.len(), 3, "{dora:?}");
    for record in &dora {
        assert_eq!(record["LeadTimeFrom"], "image_created", "{record}");
        assert_eq!(record["LeadTimeSeconds"], seconds_since(record, CREATED));
    }
    for f in FUNCTIONS {
        let description = w.version_description(f, 2);
        assert!(
            description.contains(&format!(" created={CREATED}")),
            "{description}"
        );
    }
    assert!(
        r.deployments.iter().all(|d| d.warnings.is_empty()),
        "{r:#?}"
    );
    // Three functions of one push, one read of the image's config.
    assert_eq!(w.count("BatchGetImage"), 1);
    assert_eq!(w.count("GetDownloadUrlForLayer"), 1);
    assert_eq!(blobs.blob_gets(), 1);
}

#[tokio::test]
async fn an_unreadable_config_or_no_usable_label_counts_from_the_push_without_a_warning() {
    // (case, the image's config blob, whether BatchGetImage is refused)
    let cases = [
        ("no blobs", None, false),
        ("no permission", Some(labels(json!(CREATED))), true),
        ("no label", Some(json!({"config": {"Labels": {}}})), false),
        ("no time", Some(labels(json!("last tuesday"))), false),
        // Reproducible builds stamp the Unix epoch; a build clock ahead of the push is wrong.
        (
            "epoch stamp",
            Some(labels(json!("1970-01-01T00:00:01Z"))),
            false,
        ),
        (
            "after the push",
            Some(labels(json!("2099-01-01T00:00:00Z"))),
            false,
        ),
    ];
    for (case, blob, refused) in cases {
        let (w, _blobs) = world(blob).await;
        if refused {
            w.fault("BatchGetImage", 1, Fault::AccessDenied);
        }
        let (r, dora) = deploy(&w).await;
        assert_eq!(dora.len(), 3, "{case}: {dora:?}");
        for record in &dora {
            assert_eq!(record["LeadTimeFrom"], "pushed", "{case}: {record}");
            assert_eq!(
                record["LeadTimeSeconds"],
                seconds_since(record, PUSHED),
                "{case}"
            );
        }
        assert!(
            r.deployments.iter().all(|d| d.warnings.is_empty()),
            "{case}: {r:#?}"
        );
        assert!(r.warnings.is_empty(), "{case}: {:?}", r.warnings);
        assert!(!w.version_description("api-a", 2).contains("created="));
        // A failed read is remembered for the run: not tried again for every function.
        assert_eq!(w.count("BatchGetImage"), 1, "{case}");
    }
}

#[tokio::test]
async fn duplicates_and_dry_runs_read_nothing() {
    let (w, blobs) = world(Some(labels(json!(CREATED)))).await;
    deploy(&w).await;
    let again = TestEngine::new(&w)
        .config(config(
            json!([{"repository": "api", "functions": FUNCTIONS}]),
        ))
        .build()
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(again.outcome, Outcome::AlreadyLive, "{again:#?}");
    assert_eq!(blobs.blob_gets(), 1, "the duplicate read nothing");
    assert_eq!(w.count("BatchGetImage"), 1);
    w.ecr_image("api", 'c', Some("v3"));
    let uri = support::world::image_uri("api", 'c');
    let dry = TestEngine::new(&w)
        .config(config(
            json!([{"repository": "api", "functions": FUNCTIONS}]),
        ))
        .build()
        .handle(
            &json!({"action": "deploy", "function": "api-a", "image_uri": uri, "dry_run": true}),
        )
        .await
        .report();
    assert_eq!(dry.outcome, Outcome::WouldDeploy, "{dry:#?}");
    assert_eq!(blobs.blob_gets(), 1, "the dry run read nothing");
    assert_eq!(w.count("GetDownloadUrlForLayer"), 1);
}

#[tokio::test]
async fn a_fleets_batch_reads_the_config_once_for_its_functions() {
    // A push to more functions than PER_FUNCTION_MAX goes out in batches, each its own run: each
    // batch reads the image's config once for all of its functions.
    let (w, blobs) = world(Some(labels(json!(CREATED)))).await;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let e = TestEngine::new(&w)
        .config(config(
            json!([{"repository": "api", "functions": FUNCTIONS}]),
        ))
        .metrics("SelfDeployer", &lines)
        .build();
    let batch = json!({
        "action": "deploy_batch", "functions": FUNCTIONS,
        "image_uri": support::world::image_uri("api", 'b'), "runs": 1
    });
    let r = e.handle(&batch).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(r.deployments.len(), 3);
    assert_eq!(blobs.blob_gets(), 1);
    assert_eq!(w.count("GetDownloadUrlForLayer"), 1);
    for f in FUNCTIONS {
        let description = w.version_description(f, 2);
        assert!(
            description.contains(&format!(" created={CREATED}")),
            "{description}"
        );
    }
}
