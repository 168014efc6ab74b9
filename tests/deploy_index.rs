//! Image indexes (issue 24): what `docker buildx` pushes by default (one image per platform plus
//! attestations, untagged, then the index with the tag). Lambda refuses an index, so the deployer
//! resolves it to the image for each function's architecture: one index feeds an x86_64 and an
//! arm64 function at once. The world refuses an index in UpdateFunctionCode as AWS does, so every
//! test here fails if an index ever reaches Lambda.

use crate::support;

use self_deployer::report::{FailureKind, Outcome, Step};
use serde_json::{Value, json};
use support::world::{Scan, World, digest, image_uri};
use support::{IntoReport, config, push};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An "ECR Image Action" event as ECR sends it today, with the manifest's media type.
fn push_of(c: char, tag: Option<&str>, media_type: &str) -> Value {
    let mut e = push("api", c, tag);
    e["detail"]["manifest-media-type"] = json!(media_type);
    e
}

/// api-x86 (x86_64) and api-arm (arm64), both live on image a; index f (tag v2) holds image 1
/// for linux/amd64, image 2 for linux/arm64/v8, and an attestation for each (3, 4).
fn world() -> World {
    let w = World::new();
    w.live_function("api-x86", "api", 'a');
    w.live_function("api-arm", "api", 'a');
    w.set_architecture("api-arm", "arm64");
    w.ecr_index(
        "api",
        'f',
        Some("v2"),
        &[('1', "linux/amd64"), ('2', "linux/arm64/v8")],
        &['3', '4'],
    );
    w
}

fn both() -> Value {
    json!([{"repository": "api", "functions": ["api-x86", "api-arm"]}])
}

fn engine(w: &World, targets: Value) -> self_deployer::engine::Engine {
    support::engine(w, config(targets))
}

#[tokio::test]
async fn one_index_goes_live_on_an_x86_64_and_an_arm64_function_each_with_its_own_image() {
    let w = world();
    let r = engine(&w, both())
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    for (f, child, platform) in [
        ("api-x86", '1', "linux/amd64"),
        ("api-arm", '2', "linux/arm64/v8"),
    ] {
        assert_eq!(w.latest_image(f), image_uri("api", child), "{f}");
        assert_eq!(w.alias_version(f, "live").as_deref(), Some("2"), "{f}");
        let d = r
            .deployments
            .iter()
            .find(|d| d.function.as_str() == f)
            .unwrap();
        let ix = d.index.as_ref().expect("chosen from the index");
        assert_eq!(ix.index_digest, digest('f'));
        assert_eq!(ix.image_digest, digest(child));
        assert_eq!(ix.platform, platform);
        // The version record names both: the image that runs and the index it came from.
        let desc = w.with_func(f, |x| x.versions[&2].description.clone());
        assert!(
            desc.contains(&format!("digest={}", digest(child))),
            "{desc}"
        );
        assert!(
            desc.contains(&format!("index={} tag=v2", digest('f'))),
            "{desc}"
        );
    }
    let updates: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.op == "UpdateFunctionCode")
        .map(|c| c.image_uri.unwrap_or_default())
        .collect();
    assert!(
        !updates.contains(&image_uri("api", 'f')),
        "the index never reaches Lambda: {updates:?}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["deployments"][0]["index_digest"], json!(digest('f')));
    assert!(json["deployments"][0]["platform"].is_string());
}

#[tokio::test]
async fn the_same_index_pushed_again_is_already_live() {
    let w = world();
    let e = engine(&w, both());
    e.handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    let muts = w.mutating_calls().len();
    let again = e
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    assert_eq!(again.outcome, Outcome::AlreadyLive, "{again:#?}");
    assert_eq!(w.mutating_calls().len(), muts, "nothing touched");
}

#[tokio::test]
async fn the_untagged_image_and_attestation_events_of_an_index_push_are_skipped_quietly() {
    let w = world();
    // Even where untagged pushes deploy: these are parts of the index, not images of their own.
    let e = engine(
        &w,
        json!([{"repository": "api", "functions": ["api-x86", "api-arm"], "allow_untagged": true}]),
    );
    for c in ['1', '2', '3', '4'] {
        let r = e.handle(&push_of(c, None, OCI_MANIFEST)).await.report();
        assert_eq!(r.outcome, Outcome::Skipped, "{c}: {r:#?}");
        assert!(r.deployments.is_empty());
        let why = r.reason.unwrap();
        assert!(
            why.contains(&format!("manifest of index {}", digest('f')))
                && why.contains("(tagged v2)"),
            "{why}"
        );
    }
    assert!(
        w.ops()
            .iter()
            .all(|op| ["DescribeImages", "BatchGetImage"].contains(op)),
        "no Lambda call: {:?}",
        w.ops()
    );
}

#[tokio::test]
async fn a_plain_image_pushed_by_digest_still_deploys() {
    let w = world();
    w.ecr_image("api", 'b', None);
    let r = engine(
        &w,
        json!([{"repository": "api", "functions": ["api-x86"], "allow_untagged": true}]),
    )
    .handle(&push_of('b', None, OCI_MANIFEST))
    .await
    .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.latest_image("api-x86"), image_uri("api", 'b'));
    assert_eq!(r.deployments[0].index, None);
}

#[tokio::test]
async fn an_index_without_the_functions_platform_fails_at_resolve_naming_what_it_has() {
    let w = World::new();
    w.live_function("api-arm", "api", 'a');
    w.set_architecture("api-arm", "arm64");
    w.ecr_index("api", 'f', Some("v2"), &[('1', "linux/amd64")], &['3']);
    let r = engine(&w, json!([{"repository": "api", "functions": ["api-arm"]}]))
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(d.failed_step, Some(Step::Resolve));
    assert_eq!(d.failure_kind, Some(FailureKind::ImageRejected));
    assert_eq!(
        d.reason.as_deref(),
        Some(
            format!(
                "no linux/arm64 image in index {}: it has linux/amd64",
                digest('f')
            )
            .as_str()
        )
    );
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
    assert_eq!(w.alias_version("api-arm", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_manual_deploy_of_an_index_by_digest_or_by_tag_deploys_the_functions_image() {
    let w = world();
    let e = engine(&w, both());
    let uri = image_uri("api", 'f');
    let r = e
        .handle(&json!({"action": "deploy", "function": "api-arm", "image_uri": uri}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.latest_image("api-arm"), image_uri("api", '2'));
    let r = e
        .handle(&json!({"action": "deploy", "repository": "api", "tag": "v2"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.latest_image("api-x86"), image_uri("api", '1'));
    let arm = r
        .deployments
        .iter()
        .find(|d| d.function.as_str() == "api-arm")
        .unwrap();
    assert_eq!(arm.outcome, Outcome::AlreadyLive, "{r:#?}");
}

#[tokio::test]
async fn a_sweep_deploys_an_index_whose_event_was_lost_and_then_is_in_sync() {
    let w = world();
    let e = engine(&w, both());
    let r = e.handle(&json!({"action": "reconcile"})).await.report();
    assert_eq!(w.latest_image("api-x86"), image_uri("api", '1'), "{r:#?}");
    assert_eq!(w.latest_image("api-arm"), image_uri("api", '2'), "{r:#?}");
    let again = e.handle(&json!({"action": "reconcile"})).await.report();
    assert!(
        again
            .deployments
            .iter()
            .all(|d| d.outcome == Outcome::InSync),
        "{again:#?}"
    );
}

#[tokio::test]
async fn image_checks_judge_the_image_that_will_run_not_the_index() {
    let w = world();
    w.scan("api", '1', Scan::complete(&[]));
    w.scan("api", '2', Scan::complete(&[("CRITICAL", 1)]));
    let targets = json!([{"repository": "api", "functions": ["api-x86", "api-arm"],
        "image_checks": {"max_findings": {"CRITICAL": 0}}}]);
    let r = engine(&w, targets)
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    let by = |f: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.as_str() == f)
            .unwrap()
    };
    assert_eq!(by("api-x86").outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(by("api-arm").outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(by("api-arm").failed_step, Some(Step::ImageChecks));
    let scanned: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.op == "DescribeImageScanFindings")
        .filter_map(|c| c.qualifier)
        .collect();
    assert!(!scanned.contains(&digest('f')), "{scanned:?}");
}

#[tokio::test]
async fn status_and_history_show_the_index_and_the_image_that_runs() {
    use self_deployer::engine::Response;
    let w = world();
    let e = engine(&w, both());
    e.handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    let Ok(Response::Status(s)) = e.handle(&json!({"action": "status"})).await else {
        panic!("a status")
    };
    let arm = s
        .functions
        .iter()
        .find(|f| f.function.name() == "api-arm")
        .unwrap();
    assert_eq!(arm.image_digest.as_deref(), Some(digest('2').as_str()));
    assert_eq!(arm.index_digest.as_deref(), Some(digest('f').as_str()));
    let table = self_deployer::cli::render::status_table(&s);
    assert!(
        table.contains("v2 (sha256:222222222222) of index sha256:ffffffffffff"),
        "{table}"
    );
    let Ok(Response::History(h)) = e
        .handle(&json!({"action": "history", "function": "api-x86"}))
        .await
    else {
        panic!("a history")
    };
    let v2 = h.versions.iter().find(|v| v.version.get() == 2).unwrap();
    assert_eq!(v2.digest.as_deref(), Some(digest('1').as_str()));
    assert_eq!(v2.index_digest.as_deref(), Some(digest('f').as_str()));
}

#[tokio::test]
async fn an_index_rolled_back_is_not_deployed_again_by_a_sweep() {
    let w = world();
    let e = engine(&w, json!([{"repository": "api", "functions": ["api-arm"]}]));
    e.handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    assert_eq!(w.latest_image("api-arm"), image_uri("api", '2'));
    let rb = e
        .handle(&json!({"action": "rollback", "function": "api-arm", "force": true}))
        .await
        .report();
    assert_eq!(rb.outcome, Outcome::RolledBack, "{rb:#?}");
    let sweep = e.handle(&json!({"action": "reconcile"})).await.report();
    assert_eq!(
        sweep.deployments[0].outcome,
        Outcome::Rejected,
        "{sweep:#?}"
    );
    assert_eq!(w.alias_version("api-arm", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn ecr_failing_while_telling_an_index_apart_deploys_nothing_and_says_why() {
    use support::world::Fault;
    let w = world();
    // Untagged image 1's event: the repository's indexes cannot be read.
    w.fault("BatchGetImage", 1, Fault::AccessDenied);
    let e = engine(
        &w,
        json!([{"repository": "api", "functions": ["api-x86"], "allow_untagged": true}]),
    );
    let r = e.handle(&push_of('1', None, OCI_MANIFEST)).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert!(
        r.reason.as_deref().unwrap().starts_with(
            "could not tell whether untagged image sha256:111111111111 belongs to an image index"
        ),
        "{:?}",
        r.reason
    );
    assert!(w.mutating_calls().is_empty());
    // An index whose manifest cannot be read fails at resolve, nothing changed.
    w.fault("BatchGetImage", 2, Fault::ServiceError);
    let r = e
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    assert_eq!(r.deployments[0].failed_step, Some(Step::Resolve), "{r:#?}");
    assert!(w.mutating_calls().is_empty());
}

#[tokio::test]
async fn the_mail_says_which_image_of_the_index_each_function_runs() {
    use self_deployer::notify::render::{self, RenderSettings};
    let w = world();
    let r = engine(&w, both())
        .handle(&push_of('f', Some("v2"), OCI_INDEX))
        .await
        .report();
    let arm = r
        .deployments
        .iter()
        .find(|d| d.function.as_str() == "api-arm");
    let text = render::text(
        &r,
        arm,
        &RenderSettings {
            deployer_function: None,
        },
    );
    assert!(
        text.contains("sha256:222222222222 (linux/arm64/v8) from index sha256:ffffffffffff"),
        "{text}"
    );
}

#[tokio::test]
async fn an_untagged_image_handled_before_its_index_arrives_is_looked_at_again() {
    use aws_smithy_async::time::TimeSource;
    let w = world();
    // The index is not in ECR yet when the first image's event is handled; it lands right after.
    let held = {
        let mut s = w.lock();
        s.ecr_page = 100; // one DescribeImages per listing
        let images = s.images.get_mut("api").unwrap();
        let at = images.iter().position(|(d, _)| *d == digest('f')).unwrap();
        images.remove(at)
    };
    w.hook("DescribeImages", 2, move |s| {
        s.images.get_mut("api").unwrap().push(held.clone());
    });
    let now: chrono::DateTime<chrono::Utc> = w.time.now().into();
    let mut ev = push_of('1', None, OCI_MANIFEST);
    ev["time"] = json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let e = engine(
        &w,
        json!([{"repository": "api", "functions": ["api-x86"], "allow_untagged": true}]),
    );
    let r = e.handle(&ev).await.report();
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    assert!(r.reason.unwrap().contains("manifest of index"));
    assert!(w.mutating_calls().is_empty());
    assert_eq!(w.count("DescribeImages"), 2, "looked again once");
}

#[tokio::test]
async fn an_older_push_after_an_index_went_live_is_stale() {
    let w = world();
    w.ecr_image("api", 'b', Some("v1b"));
    let e = engine(&w, both());
    let mut ev = push_of('f', Some("v2"), OCI_INDEX);
    ev["time"] = json!("2026-11-26T08:00:00Z");
    assert_eq!(e.handle(&ev).await.report().outcome, Outcome::Deployed);
    // An event from before the index's push, delivered late.
    let late = support::push_at("api", 'b', "v1b", "2026-11-26T07:30:00Z");
    let r = e.handle(&late).await.report();
    assert!(
        r.deployments.iter().all(|d| d.outcome == Outcome::Skipped
            && d.reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("stale_event")),
        "{r:#?}"
    );
    assert_eq!(w.latest_image("api-arm"), image_uri("api", '2'));
}
