//! Manual control on the modelled Lambda world: rollback (previous from the description, the
//! fallback, an explicit version), refusals (not configured, missing version, deleted image,
//! stale RevisionId), deploy by hand, status, and dry runs that make no mutating call.

use crate::support;

use self_deployer::engine::Response;
use self_deployer::report::{Outcome, Step};
use serde_json::json;
use support::IntoReport;
use support::world::{Code, Fault, MUTATING, World, digest, image_uri};
use support::{config, config_with, engine, one_target, push};

/// Three deployments by the deployer itself: versions 1 (initial), 2 (image b), 3 (image c).
async fn three_deployments(w: &World) {
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', "v2"), ('c', "v3")] {
        w.ecr_image("api", c, Some(tag));
    }
    let e = engine(w, config(one_target()));
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        let r = e.handle(&push("api", c, Some(tag))).await.report();
        assert_eq!(r.outcome, Outcome::Deployed);
    }
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("3"));
}

#[tokio::test]
async fn rollback_goes_to_the_recorded_previous_version_and_twice_goes_back_two() {
    let w = World::new();
    three_deployments(&w).await;
    let e = engine(&w, config(one_target()));
    let before = w.calls().len();
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "reason": "v3 returns 500s"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(
        (
            d.previous_version.map(|v| v.get()),
            d.version.map(|v| v.get())
        ),
        (Some(3), Some(2))
    );
    assert_eq!(
        d.reason.as_deref(),
        Some("alias live moved from version 3 to version 2 (version 3 recorded previous=2)")
    );
    assert_eq!(r.request_reason.as_deref(), Some("v3 returns 500s"));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    // Instant: no rebuild, no code update; one guarded alias move.
    let muts: Vec<_> = w.calls()[before..]
        .iter()
        .filter(|c| MUTATING.contains(&c.op))
        .cloned()
        .collect();
    assert_eq!(muts.len(), 1);
    assert_eq!(muts[0].op, "UpdateAlias");
    assert_eq!(muts[0].version.as_deref(), Some("2"));
    assert!(
        muts[0].revision_id.is_some(),
        "guarded by the alias RevisionId"
    );
    assert!(
        w.calls()[before..].iter().any(|c| c.op == "DescribeImages"),
        "the image was checked"
    );

    let again = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(again.outcome, Outcome::RolledBack);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn rollback_of_foreign_versions_falls_back_to_the_highest_below() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    for c in ['b', 'c', 'd'] {
        w.publish("api-dev", "published by jenkins");
        w.with_func("api-dev", |f| f.latest = Code::of("api", c));
    }
    w.publish("api-dev", "published by jenkins");
    w.with_func("api-dev", |f| {
        f.versions.remove(&3);
    });
    w.set_alias("api-dev", "live", "4");
    w.ecr_image("api", 'b', None);
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    assert_eq!(
        w.alias_version("api-dev", "live").as_deref(),
        Some("2"),
        "3 is gone, 2 is the highest below 4"
    );
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("highest version below 4")
    );
}

#[tokio::test]
async fn rollback_to_an_explicit_version() {
    let w = World::new();
    three_deployments(&w).await;
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "rollback", "function": "api-dev", "version": "1"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn rollback_refusals_change_nothing() {
    let w = World::new();
    three_deployments(&w).await;
    let e = engine(&w, config(one_target()));
    let before = w.mutating_calls().len();

    // Not configured: refused before any AWS call, whatever the deployer's role could do.
    let calls = w.calls().len();
    let err = e
        .handle(&json!({"action": "rollback", "function": "payments"}))
        .await
        .unwrap_err();
    assert_eq!(err.field, "payload.function");
    assert!(
        err.problem
            .contains("is not a function this deployer manages (DEPLOYER_TARGETS names: api-dev)")
    );
    let other_account = "arn:aws:lambda:eu-west-1:999999999999:function:api-dev";
    let err = e
        .handle(&json!({"action": "rollback", "function": other_account}))
        .await
        .unwrap_err();
    assert!(
        err.problem
            .contains("is not a function this deployer manages")
    );
    assert_eq!(w.calls().len(), calls);

    // A version that does not exist.
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "version": "42"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.deployments[0].failed_step, Some(Step::Resolve));
    assert_eq!(
        r.deployments[0].reason.as_deref(),
        Some("version 42 does not exist")
    );

    // A version whose image a lifecycle rule deleted: refused unless forced.
    w.delete_ecr_image("api", 'b');
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.deployments[0].failed_step, Some(Step::CheckImage));
    let reason = r.deployments[0].reason.clone().unwrap();
    assert!(
        reason.contains(&format!(
            "runs {}, which no longer exists in ECR",
            image_uri("api", 'b')
        )),
        "{reason}"
    );
    assert!(reason.ends_with("pass force to roll back anyway"));
    assert_eq!(w.mutating_calls().len(), before);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("3"));

    let forced = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "force": true}))
        .await
        .report();
    assert_eq!(forced.outcome, Outcome::RolledBack);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn a_concurrent_alias_change_makes_the_rollback_fail_loudly() {
    let w = World::new();
    three_deployments(&w).await;
    w.fault("UpdateAlias", 3, Fault::Precondition);
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.deployments[0].failed_step, Some(Step::PromoteAlias));
    assert!(
        r.deployments[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("was changed by someone else")
    );
}

#[tokio::test]
async fn a_canary_alias_is_set_fully_to_the_rollback_version() {
    let w = World::new();
    three_deployments(&w).await;
    w.with_func("api-dev", |f| {
        f.aliases
            .get_mut("live")
            .unwrap()
            .routing
            .insert("2".into(), 0.2);
    });
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack);
    assert!(w.with_func("api-dev", |f| f.aliases["live"].routing.is_empty()));
}

#[tokio::test]
async fn dry_runs_make_no_mutating_call() {
    let w = World::new();
    three_deployments(&w).await;
    let e = engine(&w, config(one_target()));
    let before = w.mutating_calls().len();

    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "dry_run": true}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::WouldRollBack);
    assert!(r.dry_run);
    assert_eq!(
        r.deployments[0].reason.as_deref(),
        Some(
            "dry run: would move alias live from version 3 to version 2 (version 3 recorded previous=2)"
        )
    );

    w.ecr_image("api", 'd', Some("v4"));
    let uri = image_uri("api", 'd');
    let r = e
        .handle(
            &json!({"action": "deploy", "function": "api-dev", "image_uri": uri, "dry_run": true}),
        )
        .await
        .report();
    assert_eq!(r.outcome, Outcome::WouldDeploy, "{r:#?}");
    assert_eq!(
        r.deployments[0].reason.as_deref(),
        Some(format!("dry run: would update $LATEST to {uri}, smoke test it, publish a version and move alias live from version 3").as_str())
    );

    let cfg = config_with(one_target(), &[("DEPLOYER_DRY_RUN", "true")]);
    let r = engine(&w, cfg)
        .handle(&push("api", 'd', Some("v4")))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::WouldDeploy);
    let r = engine(
        &w,
        config_with(one_target(), &[("DEPLOYER_DRY_RUN", "true")]),
    )
    .handle(&push("api", 'c', Some("v3")))
    .await
    .report();
    assert_eq!(r.outcome, Outcome::AlreadyLive);

    assert_eq!(
        w.mutating_calls().len(),
        before,
        "{:?}",
        &w.mutating_calls()[before..]
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("3"));
}

#[tokio::test]
async fn deploy_by_hand_with_an_image_runs_the_full_pipeline() {
    let w = World::new();
    three_deployments(&w).await;
    let uri = image_uri("api", 'b');
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": uri, "reason": "redeploy v2"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(r.request_reason.as_deref(), Some("redeploy v2"));
    assert_eq!(r.event_time, None);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("4"));
    assert!(
        w.version_description("api-dev", 4)
            .contains(&format!("digest={} previous=3", digest('b')))
    );
}

#[tokio::test]
async fn deploy_by_hand_refuses_images_of_other_repositories() {
    let w = World::new();
    three_deployments(&w).await;
    let calls = w.calls().len();
    let err = engine(&w, config(one_target()))
        .handle(&json!({"action": "deploy", "function": "api-dev", "image_uri": image_uri("payments", 'e')}))
        .await
        .unwrap_err();
    assert_eq!(err.field, "payload.image_uri");
    assert_eq!(
        err.problem,
        "repository \"payments\" is not configured for function \"api-dev\" (its repositories: api)"
    );
    assert_eq!(w.calls().len(), calls);
}

#[tokio::test]
async fn deploy_a_tag_resolves_its_current_digest() {
    let w = World::new();
    three_deployments(&w).await;
    w.ecr_image("api", 'e', Some("stable"));
    let r = engine(&w, config(one_target()))
        .handle(&json!({"action": "deploy", "repository": "api", "tag": "stable"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(r.image_digest.as_deref(), Some(digest('e').as_str()));
    assert_eq!(w.latest_image("api-dev"), image_uri("api", 'e'));

    let missing = engine(&w, config(one_target()))
        .handle(&json!({"action": "deploy", "repository": "api", "tag": "nope"}))
        .await
        .report();
    assert_eq!(missing.outcome, Outcome::Failed);
    assert_eq!(
        missing.reason.as_deref(),
        Some("no image is tagged \"nope\" in repository \"api\"")
    );
}

#[tokio::test]
async fn status_tells_where_everything_points() {
    let w = World::new();
    three_deployments(&w).await;
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'z'));
    let before = w.mutating_calls().len();
    let resp = engine(&w, config(one_target()))
        .handle(&json!({"action": "status"}))
        .await
        .unwrap();
    let Response::Status(s) = resp else {
        panic!("{resp:?}")
    };
    let f = &s.functions[0];
    assert_eq!(f.function.name(), "api-dev");
    assert_eq!(f.alias_target.as_deref(), Some("3"));
    assert_eq!(f.image_digest.as_deref(), Some(digest('c').as_str()));
    assert_eq!(f.image_tag.as_deref(), Some("v3"));
    assert_eq!(f.previous_version.map(|v| v.get()), Some(2));
    assert_eq!(f.latest_differs, Some(true));
    assert_eq!(f.versions, Some(3));
    assert_eq!(f.error, None);
    let table = self_deployer::cli::render::status_table(&s);
    assert!(
        table.starts_with("FUNCTION  ALIAS  VERSION  IMAGE"),
        "{table}"
    );
    assert!(
        table.contains("api-dev   live   3        v3 (sha256:cccccccccccc)  2         differs  3"),
        "{table}"
    );
    assert_eq!(w.mutating_calls().len(), before, "status mutates nothing");
}

#[tokio::test]
async fn status_compares_latest_only_when_there_is_an_alias() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    let resp = engine(&w, config(one_target()))
        .handle(&json!({"action": "status"}))
        .await
        .unwrap();
    let Response::Status(s) = resp else {
        panic!("{resp:?}")
    };
    let f = &s.functions[0];
    assert_eq!(f.alias_target, None);
    assert_eq!(f.latest_differs, None, "nothing to compare $LATEST with");
    assert!(self_deployer::cli::render::status_table(&s).contains("api-dev   live   -"));
}

/// DORA's time to restore: a rollback says since when the bad version served (the alias record of
/// the deploy that put it live), and its EMF record carries TimeToRestoreSeconds from that.
#[tokio::test]
async fn a_rollback_reports_since_when_the_bad_version_served() {
    let w = World::new();
    three_deployments(&w).await;
    let live_since = w.now();
    w.advance_to(live_since + std::time::Duration::from_secs(45 * 60));
    let e = engine(&w, config(one_target()));
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    let since = r.deployments[0]
        .bad_live_since
        .expect("the deploy's record");
    let since: std::time::SystemTime = since.into();
    let off = since
        .duration_since(live_since)
        .unwrap_or_else(|e| e.duration());
    assert!(
        off.as_secs() <= 1,
        "version 3 went live when it was deployed: {off:?}"
    );
    let now_ms = w
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let records = self_deployer::signals::emf::records(&r, "SelfDeployer", "run", now_ms);
    let ttr: Vec<u64> = records
        .iter()
        .filter_map(|rec| rec.get("TimeToRestoreSeconds").and_then(|v| v.as_u64()))
        .collect();
    assert_eq!(ttr.len(), 1, "{records:#?}");
    assert!((45 * 60..=45 * 60 + 1).contains(&ttr[0]), "{ttr:?}");
}
