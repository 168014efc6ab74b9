//! Image indexes at the edges (issue 24): a rolled-back index and sweeps, ECR failing while an
//! untagged push is told apart, an untagged image handled before its index arrives, the stale-event
//! rule after an index went live, and what the mail says. The main cases are in `deploy_index`.

use crate::deploy_index::{OCI_INDEX, OCI_MANIFEST, both, engine, push_of, world};
use crate::support;

use self_deployer::report::{Outcome, Step};
use serde_json::json;
use support::IntoReport;
use support::world::{digest, image_uri};

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
