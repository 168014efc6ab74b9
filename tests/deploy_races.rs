//! Others acting while we deploy: a change by hand before our update, new code after our smoke
//! test, an alias moved during the deploy, the same event delivered twice at once, and functions
//! deployed side by side up to the limit.

use crate::support;

use self_deployer::report::{Outcome, Step};
use serde_json::json;
use std::time::Duration;
use support::world::{Code, Fault, World, image_uri};
use support::{IntoReport, config, config_with, engine, one_target, push, push_b};

#[tokio::test]
async fn a_change_made_by_someone_else_before_our_update_stops_the_run() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.fault("UpdateFunctionCode", 1, Fault::Precondition);
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::UpdateCode));
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("changed after it was read")
    );
    assert_eq!(w.mutating_calls().len(), 1, "the refused update only");
}

#[tokio::test]
async fn code_changed_after_the_smoke_test_is_never_published() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    // Someone pushes other code to $LATEST by hand right after our smoke test.
    w.hook("Invoke", 1, |s| {
        let f = s.func("api-dev").unwrap();
        f.latest = Code::of("api", 'e');
        f.revision = "rev-by-hand".into();
    });
    let report = push_b(&w).await;
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::Publish), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("changed after the smoke test"),
        "{d:?}"
    );
    assert_eq!(w.versions("api-dev"), [1], "nothing published");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    let restore = d.latest_restore.as_ref().unwrap();
    assert!(!restore.restored);
    assert!(restore.detail.contains("someone else changed the function"));
    assert_eq!(
        w.latest_image("api-dev"),
        image_uri("api", 'e'),
        "their change stays"
    );
    assert_eq!(
        w.mutating_calls()
            .iter()
            .filter(|c| c.op == "UpdateFunctionCode")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_alias_moved_by_hand_during_the_deploy_is_left_alone() {
    let w = World::new();
    w.add_function("api-dev", Code::of("api", 'a'));
    w.publish("api-dev", "v1");
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'c'));
    w.publish("api-dev", "v2");
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'a'));
    w.set_alias("api-dev", "live", "2");
    // Someone rolls back to version 1 while we are publishing.
    w.hook("PublishVersion", 1, |s| {
        let a = s.func("api-dev").unwrap().aliases.get_mut("live").unwrap();
        a.version = "1".into();
        a.revision = "rev-rollback-by-hand".into();
    });
    let report = engine(&w, config(one_target()))
        .handle(&push("api", 'b', Some("v3")))
        .await
        .report();
    let d = &report.deployments[0];
    assert_eq!(d.failed_step, Some(Step::PromoteAlias), "{d:#?}");
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("was changed by someone else")
    );
    assert_eq!(
        w.alias_version("api-dev", "live").as_deref(),
        Some("1"),
        "their rollback stands"
    );
    assert!(!d.latest_restore.as_ref().unwrap().restored);
}

#[tokio::test]
async fn a_duplicate_delivered_while_the_first_runs_makes_one_version_and_one_alias_move() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.update_takes = Duration::from_secs(20));
    let e = engine(&w, config(one_target()));
    let event = push("api", 'b', Some("v2"));
    let (first, second) = tokio::join!(e.handle(&event), e.handle(&event));
    let (first, second) = (first.report(), second.report());
    let outcomes = [first.outcome, second.outcome];
    assert!(
        outcomes.contains(&Outcome::Deployed),
        "{first:#?}\n{second:#?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Deployed | Outcome::AlreadyLive)),
        "{outcomes:?}"
    );
    assert_eq!(w.versions("api-dev"), [1, 2], "one new version");
    let moves = w
        .calls()
        .iter()
        .filter(|c| c.op == "UpdateAlias" && c.version.as_deref() == Some("2"))
        .count();
    assert!(moves >= 1);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        w.count("UpdateFunctionCode"),
        1,
        "the code was updated once"
    );
}

#[tokio::test]
async fn functions_deploy_concurrently_up_to_the_limit() {
    let w = World::new();
    let names: Vec<String> = (0..6).map(|i| format!("fn-{i}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    let targets = json!([{"repository": "api", "functions": names}]);
    let cfg = config_with(targets, &[("DEPLOYER_MAX_PARALLEL", "3")]);
    let report = engine(&w, cfg)
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    // Count how many functions were between their first and last call at each call.
    let calls = w.calls();
    let span = |f: &str| {
        let idx: Vec<usize> = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.function == f)
            .map(|(i, _)| i)
            .collect();
        (idx[0], *idx.last().unwrap())
    };
    let spans: Vec<(usize, usize)> = names.iter().map(|f| span(f)).collect();
    let most = (0..calls.len())
        .map(|i| spans.iter().filter(|(a, b)| *a <= i && i <= *b).count())
        .max()
        .unwrap();
    assert_eq!(
        most, 3,
        "exactly DEPLOYER_MAX_PARALLEL functions in flight at the busiest moment"
    );
}

/// The newest push wins over an older push that moved the alias while it was tested, and over
/// nothing else: a rollback, a newer push, a deploy without a push time (by hand), or a person's
/// `update-alias` that left our old description in place stand.
#[tokio::test]
async fn only_an_older_pushs_deploy_is_replaced_when_the_alias_moved_during_ours() {
    const OLDER: &str = "2026-11-26T06:30:00Z";
    const NEWER: &str = "2026-11-26T07:30:00Z";
    // (the move's kind, version 2's push time, where the move's record says it went, replaced?)
    let cases = [
        ("deploy", Some(OLDER), 2, true),
        ("rollback", Some(OLDER), 2, false),
        ("deploy", Some(NEWER), 2, false),
        ("deploy", None, 2, false),
        // The record says version 1: the alias was moved to 2 by hand, keeping the description.
        ("deploy", Some(OLDER), 1, false),
    ];
    for (kind, pushed, to, replaced) in cases {
        let case = format!("a {kind} recorded to {to}, on a version pushed {pushed:?}");
        let w = World::new();
        w.add_function("api-dev", Code::of("api", 'a'));
        w.publish("api-dev", "v1");
        w.with_func("api-dev", |f| f.latest = Code::of("api", 'c'));
        let record = match pushed {
            Some(p) => format!(
                "self-deployer digest={} previous=1 pushed={p}",
                support::world::digest('c')
            ),
            None => format!(
                "self-deployer digest={} previous=1",
                support::world::digest('c')
            ),
        };
        w.publish("api-dev", &record);
        w.with_func("api-dev", |f| f.latest = Code::of("api", 'a'));
        w.set_alias("api-dev", "live", "1");
        // Another run moves the alias to version 2 while we publish.
        let description = format!(
            "self-deployer moved=2026-11-26T07:00:30Z kind={kind} to={to} from=1 run=other"
        );
        w.hook("PublishVersion", 1, move |s| {
            let a = s.func("api-dev").unwrap().aliases.get_mut("live").unwrap();
            a.version = "2".into();
            a.revision = "rev-other-run".into();
            a.description = description.clone();
        });
        let report = engine(&w, config(one_target()))
            .handle(&support::push_at("api", 'b', "v3", "2026-11-26T07:00:00Z"))
            .await
            .report();
        let d = &report.deployments[0];
        if replaced {
            assert_eq!(d.outcome, Outcome::Deployed, "{case}: {d:#?}");
            assert_eq!(
                w.alias_version("api-dev", "live").as_deref(),
                Some("3"),
                "{case}"
            );
            assert!(
                d.warnings
                    .iter()
                    .any(|w| w.contains("this newer push replaced it")),
                "{case}: {d:#?}"
            );
        } else {
            assert_eq!(d.failed_step, Some(Step::PromoteAlias), "{case}: {d:#?}");
            assert!(
                d.reason
                    .as_deref()
                    .unwrap()
                    .contains("was changed by someone else"),
                "{case}: {d:#?}"
            );
            assert_eq!(
                w.alias_version("api-dev", "live").as_deref(),
                Some("2"),
                "{case}: it stands"
            );
        }
    }
}
