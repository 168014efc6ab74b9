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

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An "ECR Image Action" event as ECR sends it today, with the manifest's media type.
pub(crate) fn push_of(c: char, tag: Option<&str>, media_type: &str) -> Value {
    let mut e = push("api", c, tag);
    e["detail"]["manifest-media-type"] = json!(media_type);
    e
}

/// api-x86 (x86_64) and api-arm (arm64), both live on image a; index f (tag v2) holds image 1
/// for linux/amd64, image 2 for linux/arm64/v8, and an attestation for each (3, 4).
pub(crate) fn world() -> World {
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

pub(crate) fn both() -> Value {
    json!([{"repository": "api", "functions": ["api-x86", "api-arm"]}])
}

pub(crate) fn engine(w: &World, targets: Value) -> self_deployer::engine::Engine {
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
