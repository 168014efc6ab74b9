//! History on the modelled Lambda world: read from the version and alias descriptions only,
//! newest first, with versions someone else published shown as theirs, the alias's last move, and
//! the versions the alias went back past.

use crate::support;

use aws_smithy_async::time::TimeSource;
use self_deployer::actions::history::HistoryReport;
use self_deployer::cli::render::history_table as render_table;
use self_deployer::engine::{Engine, Response};
use self_deployer::report::Outcome;
use serde_json::{Value, json};
use support::world::{Code, Fault, World, digest};
use support::{IntoReport, TestEngine, push, push_at};

async fn history(e: &Engine, payload: Value) -> HistoryReport {
    match e.handle(&payload).await.expect("a valid payload") {
        Response::History(h) => h,
        other => panic!("not a history: {other:?}"),
    }
}

fn now_rfc3339(w: &World) -> String {
    let t: chrono::DateTime<chrono::Utc> = w.time.now().into();
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One version: (number, published_by, tag, previous, aliases, rolled_back).
type Row<'a> = (
    u64,
    &'a str,
    Option<&'a str>,
    Option<u64>,
    Vec<&'a str>,
    bool,
);

/// The versions, newest first.
fn rows(h: &HistoryReport) -> Vec<Row<'_>> {
    h.versions
        .iter()
        .map(|v| {
            (
                v.version.get(),
                v.published_by,
                v.tag.as_deref(),
                v.previous.map(|p| p.get()),
                v.aliases.iter().map(String::as_str).collect(),
                v.rolled_back,
            )
        })
        .collect()
}

#[tokio::test]
async fn history_reads_the_descriptions_newest_first_and_shows_others_rollbacks_and_moves() {
    let w = World::new();
    // Version 1 was published by someone else ("initial"), live → 1.
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', "v2"), ('c', "v3"), ('e', "v5")] {
        w.ecr_image("api", c, Some(tag));
    }
    let e = TestEngine::new(&w).build();
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        assert_eq!(
            e.handle(&push("api", c, Some(tag))).await.report().outcome,
            Outcome::Deployed
        );
    }
    // Someone publishes version 4 by hand, from other code, and points nothing at it.
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'd'));
    assert_eq!(w.publish("api-dev", "jenkins build 77"), 4);
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'c'));

    let rb = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "reason": "v3 is slow"}))
        .await
        .report();
    assert_eq!(rb.outcome, Outcome::RolledBack, "{rb:#?}");
    let run_of_rollback = w.with_func("api-dev", |f| f.aliases["live"].description.clone());

    let h = history(&e, json!({"action": "history", "function": "api-dev"})).await;
    assert!(!h.is_failure());
    assert_eq!(h.total_versions, 4);
    assert_eq!(
        rows(&h),
        [
            (4, "other", None, None, vec![], false),
            (3, "self-deployer", Some("v3"), Some(2), vec![], true),
            (2, "self-deployer", Some("v2"), Some(1), vec!["live"], false),
            (1, "other", None, None, vec![], false),
        ]
    );
    let four = &h.versions[0];
    assert_eq!(four.description.as_deref(), Some("jenkins build 77"));
    assert_eq!(four.digest, Some(digest('d')), "from Lambda's CodeSha256");
    let three = &h.versions[1];
    assert_eq!(three.digest, Some(digest('c')));
    assert_eq!(
        three.pushed.map(|t| t.to_rfc3339()),
        Some("2026-11-26T07:00:00+00:00".into())
    );
    assert_eq!(three.description, None);
    // The alias's last move: the rollback, with the run that made it.
    assert_eq!(h.aliases.len(), 1);
    let live = &h.aliases[0];
    assert_eq!(
        (live.name.as_str(), live.target.as_deref()),
        ("live", Some("2"))
    );
    let m = live.last_move.as_ref().expect("recorded by the deployer");
    assert_eq!(
        (m.kind, m.from.map(|v| v.get()), m.to.get()),
        ("rollback", Some(3), 2)
    );
    assert!(run_of_rollback.contains(&format!("run={}", m.run)));

    // A new deployment after the rollback records previous=2: version 3 stays rolled back though
    // the alias's description now tells of the deploy.
    let r = e
        .handle(&push_at("api", 'e', "v5", &now_rfc3339(&w)))
        .await
        .report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let h = history(&e, json!({"action": "history", "function": "api-dev"})).await;
    assert_eq!(
        rows(&h),
        [
            (5, "self-deployer", Some("v5"), Some(2), vec!["live"], false),
            (4, "other", None, None, vec![], false),
            (3, "self-deployer", Some("v3"), Some(2), vec![], true),
            (2, "self-deployer", Some("v2"), Some(1), vec![], false),
            (1, "other", None, None, vec![], false),
        ]
    );
    let m = h.aliases[0].last_move.as_ref().unwrap();
    assert_eq!(
        (m.kind, m.from.map(|v| v.get()), m.to.get()),
        ("deploy", Some(2), 5)
    );

    a_limit_and_the_table_read_well(&e, &h).await;
}

/// The history of five versions (`h`, from `e`) cut by a limit, and as the CLI's table.
async fn a_limit_and_the_table_read_well(e: &Engine, h: &HistoryReport) {
    // A limit shows the newest N and says how many there are.
    let h2 = history(
        e,
        json!({"action": "history", "function": "api-dev", "limit": 2}),
    )
    .await;
    assert_eq!(
        h2.versions
            .iter()
            .map(|v| v.version.get())
            .collect::<Vec<_>>(),
        [5, 4]
    );
    assert_eq!(h2.total_versions, 5);
    let table = render_table(&h2);
    assert!(
        table.contains("(2 of 5 versions shown: --limit N for more)"),
        "{table}"
    );

    let table = render_table(h);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "VERSION", "BY", "PUSHED", "TAG", "IMAGE", "PREVIOUS", "ALIASES", "NOTE"
        ]
    );
    assert!(
        lines[1].starts_with("5 ") && lines[1].contains(" live"),
        "{table}"
    );
    assert!(
        lines[2].contains("other") && lines[2].contains("\"jenkins build 77\""),
        "{table}"
    );
    assert!(
        lines[3].starts_with("3 ") && lines[3].ends_with("rolled back"),
        "{table}"
    );
    assert!(
        table.contains("alias live -> 5: deploy from 2 at "),
        "{table}"
    );
}

#[tokio::test]
async fn a_split_is_shown_on_its_version_and_an_alias_set_by_others_says_so() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.with_func("api-dev", |f| f.latest = Code::of("api", 'b'));
    w.publish("api-dev", "");
    w.with_func("api-dev", |f| {
        f.aliases
            .get_mut("live")
            .unwrap()
            .routing
            .insert("2".into(), 0.1);
    });
    let e = TestEngine::new(&w).build();
    let h = history(&e, json!({"action": "history", "function": "api-dev"})).await;
    assert_eq!(
        rows(&h),
        [
            (2, "other", None, None, vec!["live (10%)"], false),
            (1, "other", None, None, vec!["live"], false),
        ]
    );
    assert_eq!(h.aliases[0].last_move, None);
    assert_eq!(
        h.versions[0].description, None,
        "an empty description is none"
    );
    assert_eq!(h.versions[1].description.as_deref(), Some("initial"));
    assert_eq!(h.aliases[0].split.len(), 1);
    assert!(render_table(&h).contains("alias live -> 1 + 10% 2: last set by someone else"));
}

#[tokio::test]
async fn history_refuses_functions_it_does_not_manage_and_reports_what_it_could_not_read() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.live_function("payments", "api", 'a');
    let e = TestEngine::new(&w).build();
    let err = e
        .handle(&json!({"action": "history", "function": "payments"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("payload.function: \"payments\" is not a function this deployer manages"),
        "{err}"
    );
    assert_eq!(
        w.count("ListVersionsByFunction"),
        0,
        "refused before any call"
    );

    w.fault("ListVersionsByFunction", 1, Fault::AccessDenied);
    let h = history(&e, json!({"action": "history", "function": "api-dev"})).await;
    assert!(h.is_failure());
    let err = h.error.as_deref().unwrap();
    assert!(
        err.starts_with("ListVersionsByFunction failed: AccessDenied"),
        "{err}"
    );
    assert!(h.versions.is_empty());
    // History never changes anything.
    assert!(w.mutating_calls().is_empty());
}

#[tokio::test]
async fn dora_figures_come_from_the_same_records() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    for (c, tag) in [('a', "v1"), ('b', "v2"), ('c', "v3")] {
        w.ecr_image("api", c, Some(tag));
    }
    let e = TestEngine::new(&w).build();
    for (c, tag) in [('b', "v2"), ('c', "v3")] {
        let payload = push_at("api", c, tag, &now_rfc3339(&w));
        assert_eq!(e.handle(&payload).await.report().outcome, Outcome::Deployed);
    }
    let rb = e
        .handle(&json!({"action": "rollback", "function": "api-dev"}))
        .await
        .report();
    assert_eq!(rb.outcome, Outcome::RolledBack);
    let h = history(
        &e,
        json!({"action": "history", "function": "api-dev", "dora_days": 30}),
    )
    .await;
    let d = h.dora.as_ref().expect("asked for");
    assert_eq!(
        (d.days, d.deployments),
        (30, 2),
        "v2 and v3, not the initial v1"
    );
    assert_eq!((d.failed_changes, d.change_failure_rate), (1, Some(0.5)));
    assert_eq!(d.restores, 1, "v3 restored by the recorded rollback");
    assert!(d.time_to_restore_seconds.is_some_and(|s| s >= 0));
    assert!(render_table(&h).contains("change failure rate   50% (1 of 2)"));
    let plain = history(&e, json!({"action": "history", "function": "api-dev"})).await;
    assert_eq!(plain.dora, None);
}
