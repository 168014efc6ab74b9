//! Lambda's own transition weights after an alias move (issue 24 §2): for a while the alias shows
//! the new version with the old one at weight 1 (hashicorp/terraform-provider-aws#48116). The
//! deployer recognises it from its own alias record, never calls it a split or drift, waits for it
//! (bounded) before saying `deployed`, and says `traffic_moving` when it has not cleared.

use crate::support;

use self_deployer::engine::Response;
use self_deployer::report::Outcome;
use serde_json::json;
use std::time::Duration;
use support::world::World;
use support::{IntoReport, config, engine, one_target, push, push_b};

fn world(transition: Duration) -> World {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.lambda_transitions("api-dev", transition);
    w
}

#[tokio::test]
async fn a_deploy_waits_for_lambdas_transition_before_saying_deployed() {
    let w = world(Duration::from_secs(20));
    let r = push_b(&w).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "{r:#?}");
    assert!(
        !d.after_move.traffic_moving && d.warnings.is_empty(),
        "{d:#?}"
    );
    assert!(
        w.count("GetAlias") > 2,
        "the alias was read until the transition cleared"
    );
    assert!(
        w.since_last_move().as_secs() >= 20,
        "{:?}",
        w.since_last_move()
    );
    assert_eq!(w.alias_state("api-dev"), (2, vec![]));
}

#[tokio::test]
async fn a_transition_that_does_not_clear_is_reported_as_traffic_moving_after_a_bounded_wait() {
    let w = world(Duration::from_secs(3600));
    let r = push_b(&w).await;
    let d = &r.deployments[0];
    assert_eq!(d.outcome, Outcome::Deployed, "the alias did move: {r:#?}");
    assert!(d.after_move.traffic_moving, "{d:#?}");
    assert!(
        d.warnings[0].starts_with(
            "Lambda was still moving traffic from version 1 to 2 on alias live after 120 s"
        ),
        "{:?}",
        d.warnings
    );
    let waited = w.since_last_move().as_secs();
    assert!((120..=125).contains(&waited), "bounded: {waited}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["deployments"][0]["traffic_moving"], json!(true));
}

#[tokio::test]
async fn during_the_transition_a_new_push_deploys_a_sweep_is_in_sync_and_status_shows_no_split() {
    let w = world(Duration::from_secs(3600));
    let e = engine(&w, config(one_target()));
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(
        w.alias_state("api-dev"),
        (2, vec![(1, 1.0)]),
        "Lambda shows {{1: 1}}"
    );

    w.ecr_image("api", 'b', Some("v2"));
    let sweep = e.handle(&json!({"action": "reconcile"})).await.report();
    assert_eq!(sweep.deployments[0].outcome, Outcome::InSync, "{sweep:#?}");

    let Ok(Response::Status(s)) = e.handle(&json!({"action": "status"})).await else {
        panic!("a status")
    };
    let f = &s.functions[0];
    assert_eq!(f.split, None);
    assert_eq!(f.traffic_moving_from.map(|v| v.get()), Some(1));
    let table = self_deployer::cli::render::status_table(&s);
    assert!(
        table.contains("api-dev: Lambda is still moving traffic from version 1 to 2"),
        "{table}"
    );
    assert!(!table.contains("100%"), "{table}");

    let r = e.handle(&push("api", 'c', Some("v3"))).await.report();
    assert_eq!(
        r.outcome,
        Outcome::Deployed,
        "not refused as a split: {r:#?}"
    );
    assert_eq!(w.alias_state("api-dev").0, 3);
}

#[tokio::test]
async fn a_persons_split_is_still_a_split() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let e = engine(&w, config(one_target()));
    e.handle(&push("api", 'b', Some("v2"))).await.report();
    // Someone sends all the traffic back to version 1 by hand, keeping our description.
    w.hand_split("api-dev", 1, 0.5);
    let Ok(Response::Status(s)) = e.handle(&json!({"action": "status"})).await else {
        panic!("a status")
    };
    let f = &s.functions[0];
    assert_eq!(
        f.split.as_ref().map(|s| (s.version.get(), s.weight)),
        Some((1, 0.5))
    );
    assert_eq!(f.traffic_moving_from, None);
}
