//! The reconcile sweep on the modelled world (issue 16): a push whose event never came is deployed
//! by the next sweep, through the full pipeline; a sweep with everything in sync mutates nothing;
//! an image that failed or was rolled back is reported and never retried; a hand-moved alias is
//! drift, notified once; a rollout in progress is left alone; two sweeps at once make one version;
//! report mode and dry runs deploy nothing; a sweep short of time defers what it cannot finish.

use crate::support;

use aws_smithy_async::time::TimeSource;
use self_deployer::cli::render::{check_exit, check_table as render_check};
use self_deployer::engine::{Engine, Invocation};
use self_deployer::input::{ReconcileRequest, Request};
use self_deployer::report::{ActionKind, Outcome, Report};
use serde_json::{Value, json};
use std::time::Duration;
use support::world::{Answer, World, digest, image_uri};
use support::{IntoReport, TestEngine, config, config_with, one_target, push};

const REJECTED: &str = "self-deployer:rejected";

fn sweep_payload() -> Value {
    json!({"action": "reconcile"})
}

async fn sweep(e: &Engine) -> Report {
    e.handle(&sweep_payload()).await.report()
}

/// api-dev on version 1 running image a, which ECR holds as `api:v1`; an untagged image (never
/// deployed without allow_untagged) too, so that listings take more than one page.
fn world() -> World {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.ecr_image("api", 'e', None);
    w.ecr_image("api", 'a', Some("v1"));
    w.advance(Duration::from_secs(60));
    w
}

/// The same, with `api:v2` (image b) pushed a minute later and its event lost.
fn world_with_v2() -> World {
    let w = world();
    w.ecr_image("api", 'b', Some("v2"));
    w.advance(Duration::from_secs(60));
    w
}

impl WorldExt for World {
    fn advance(&self, d: Duration) {
        self.advance_to(self.time.now() + d);
    }
}

trait WorldExt {
    fn advance(&self, d: Duration);
}

/// UpdateFunctionCode calls that put image `c` on `$LATEST` (not the restores after a failure).
fn updates_to(w: &World, c: char) -> usize {
    w.calls()
        .iter()
        .filter(|x| x.op == "UpdateFunctionCode" && x.image_uri == Some(image_uri("api", c)))
        .count()
}

fn only(r: &Report) -> &self_deployer::report::Deployment {
    assert_eq!(r.deployments.len(), 1, "{r:#?}");
    &r.deployments[0]
}

#[tokio::test]
async fn a_push_whose_event_never_came_is_deployed_by_the_next_sweep() {
    let w = world();
    // Pushed; its event never arrives.
    w.ecr_image("api", 'b', Some("v2"));
    let pushed_at: chrono::DateTime<chrono::Utc> = w.time.now().into();
    w.advance(Duration::from_secs(600));
    let e = TestEngine::new(&w).build();

    let r = sweep(&e).await;
    assert_eq!(r.action, ActionKind::Reconcile);
    let d = only(&r);
    assert_eq!(d.outcome, Outcome::Deployed, "{d:#?}");
    assert_eq!(r.outcome, Outcome::Deployed);
    assert!(!r.is_failure());
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .starts_with("missed push of v2 (sha256:bbbbbbbbbbbb)"),
        "{d:?}"
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    // The full pipeline: updated, smoke-tested, published with the image's push time.
    assert_eq!(w.count("UpdateFunctionCode"), 1);
    assert_eq!(w.count("Invoke"), 1);
    let desc = w.version_description("api-dev", 2);
    assert!(desc.contains(&format!("digest={}", digest('b'))), "{desc}");
    assert!(
        desc.contains(&format!(
            "pushed={}",
            pushed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        "{desc}"
    );
    assert!(desc.ends_with("tag=v2"), "{desc}");
    // Three images, two to a page: the listing was paged.
    let listings = w
        .calls()
        .iter()
        .filter(|c| c.op == "DescribeImages" && c.qualifier.is_none())
        .count();
    assert_eq!(listings, 2, "{:?}", w.ops());

    // The next sweep finds it in sync and touches nothing.
    let before = w.mutating_calls().len();
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::InSync, "{r:#?}");
    assert_eq!(w.mutating_calls().len(), before);
}

#[tokio::test]
async fn a_sweep_with_everything_in_sync_mutates_nothing() {
    let w = world();
    let e = TestEngine::new(&w)
        .config(config(json!([
            {"repository": "api", "functions": ["api-dev", "api-prod"]}
        ])))
        .build();
    // api-prod runs image b, pushed after a but tagged in a way that the record tells: its
    // version says it was pushed later than anything in the repository.
    w.add_function("api-prod", support::world::Code::of("api", 'b'));
    let later: chrono::DateTime<chrono::Utc> = (w.time.now() + Duration::from_secs(3600)).into();
    let record = format!(
        "self-deployer digest={} previous=none pushed={}",
        digest('b'),
        later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    w.publish("api-prod", &record);
    w.set_alias("api-prod", "live", "1");

    let r = sweep(&e).await;
    assert_eq!(r.deployments.len(), 2);
    for d in &r.deployments {
        assert_eq!(d.outcome, Outcome::InSync, "{d:#?}");
    }
    assert_eq!(r.outcome, Outcome::InSync);
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
    assert_eq!(w.count("TagResource"), 0);
    assert!(w.count("Invoke") == 0, "no smoke test");
}

#[tokio::test]
async fn an_image_that_failed_its_smoke_test_is_reported_and_never_retried() {
    let w = world();
    w.ecr_image("api", 'b', Some("v2"));
    w.answer('b', Answer::status(500));
    w.advance(Duration::from_secs(60));
    let e = TestEngine::new(&w).build();

    // The sweep that finds the missed push runs it, and it fails: the run fails (exit 1).
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Failed, "{r:#?}");
    assert!(r.is_failure());
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
    let tag = w.tags("api-dev").get(REJECTED).cloned().unwrap_or_default();
    assert_eq!(tag, "b".repeat(16), "the image is marked rejected");

    // Every sweep after that reports it, and never retries it.
    for _ in 0..2 {
        let r = sweep(&e).await;
        let d = only(&r);
        assert_eq!(d.outcome, Outcome::Rejected, "{d:#?}");
        assert!(
            d.reason
                .as_deref()
                .unwrap()
                .contains("v2 (sha256:bbbbbbbbbbbb)")
        );
        assert!(
            !r.is_failure(),
            "a rejected image is a finding, not a failure"
        );
    }
    assert_eq!(updates_to(&w, 'b'), 1, "tried once");
    assert_eq!(w.count("Invoke"), 1);

    // A new push brings the function forward again.
    w.ecr_image("api", 'c', Some("v3"));
    w.advance(Duration::from_secs(60));
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Deployed, "{r:#?}");
}

#[tokio::test]
async fn a_smoke_failure_from_a_push_event_is_not_retried_by_a_sweep() {
    let w = world();
    w.ecr_image("api", 'b', Some("v2"));
    w.answer('b', Answer::status(500));
    let e = TestEngine::new(&w).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(only(&r).outcome, Outcome::Failed);
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Rejected, "{r:#?}");
    assert_eq!(updates_to(&w, 'b'), 1);
}

#[tokio::test]
async fn a_digest_rolled_back_by_hand_is_not_redeployed() {
    let w = world();
    w.ecr_image("api", 'b', Some("v2"));
    let e = TestEngine::new(&w).build();
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(only(&r).outcome, Outcome::Deployed);
    let r = e
        .handle(&json!({"action": "rollback", "function": "api-dev", "reason": "500s"}))
        .await
        .report();
    assert_eq!(only(&r).outcome, Outcome::RolledBack, "{r:#?}");
    assert!(w.tags("api-dev")[REJECTED].contains(&"b".repeat(16)));

    let r = sweep(&e).await;
    let d = only(&r);
    assert_eq!(d.outcome, Outcome::Rejected, "{d:#?}");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));

    // Even if the tag is lost, the alias record says what was rolled back.
    w.with_func("api-dev", |f| f.tags.clear());
    let before = w.mutating_calls().len();
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Rejected, "{r:#?}");
    assert_eq!(w.mutating_calls().len(), before, "never undone");
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_hand_moved_alias_is_reported_as_drift_and_notified_once() {
    let w = world_with_v2();
    let (rule, subjects) = support::sns_subjects();
    let e = TestEngine::new(&w).sns(&rule).build();
    assert_eq!(only(&sweep(&e).await).outcome, Outcome::Deployed);
    subjects.lock().unwrap().clear();

    // An emergency `aws lambda update-alias --function-version 1`: the description stays.
    let hand = |rev: &str| {
        let rev = rev.to_owned();
        w.with_func("api-dev", move |f| {
            let a = f.aliases.get_mut("live").unwrap();
            a.version = "1".into();
            a.revision = rev;
        })
    };
    hand("rev-by-hand-1");
    let before = w.mutating_calls().len();
    let r = sweep(&e).await;
    let d = only(&r);
    assert_eq!(d.outcome, Outcome::Drift, "{d:#?}");
    assert!(!r.is_failure(), "drift is a finding, not a failure");
    let why = d.reason.as_deref().unwrap();
    assert!(
        why.contains("alias serves 1") && why.contains("last put it on version 2"),
        "{why}"
    );
    assert!(!d.notified_before);
    assert_eq!(
        std::mem::take(&mut *subjects.lock().unwrap()),
        ["DRIFT api-dev live is v1"]
    );
    assert_eq!(
        w.mutating_calls().len(),
        before,
        "a sweep never fights a person"
    );
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));

    // The same state again: reported, not notified.
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Drift);
    assert!(only(&r).notified_before);
    assert!(
        subjects.lock().unwrap().is_empty(),
        "{:?}",
        subjects.lock().unwrap()
    );

    // Another hand move is another state: told again.
    hand("rev-by-hand-2");
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Drift);
    assert_eq!(subjects.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_rollout_in_progress_is_left_alone() {
    let w = world();
    w.alarm("api-5xx", "OK");
    let targets = json!([{"repository": "api", "functions": ["api-dev"],
        "rollout": {"steps": [10, 50], "interval_secs": 300, "check_secs": 60, "alarms": ["api-5xx"]}}]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    w.ecr_image("api", 'b', Some("v2"));
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(only(&r).outcome, Outcome::RollingOut, "{r:#?}");
    // Another push lands, its event lost, while the rollout runs.
    w.ecr_image("api", 'c', Some("v3"));
    w.advance(Duration::from_secs(10));
    let before = w.mutating_calls().len();
    let schedules = w.lock().schedules.len();

    let r = sweep(&e).await;
    let d = only(&r);
    assert_eq!(d.outcome, Outcome::RollingOut, "{d:#?}");
    assert!(d.reason.as_deref().unwrap().contains("left alone"));
    assert!(d.notified_before, "its own run told it");
    assert_ne!(r.outcome, Outcome::RollingOut, "the sweep started nothing");
    assert_eq!(w.mutating_calls().len(), before);
    assert_eq!(w.lock().schedules.len(), schedules, "its check stays");
}

#[tokio::test]
async fn two_sweeps_at_once_make_one_version() {
    let w = world_with_v2();
    let e = TestEngine::new(&w).build();
    let (first, second) = tokio::join!(sweep(&e), sweep(&e));
    let outcomes = [only(&first).outcome, only(&second).outcome];
    assert!(
        outcomes.contains(&Outcome::Deployed),
        "{first:#?}\n{second:#?}"
    );
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Outcome::Deployed | Outcome::AlreadyLive | Outcome::InSync
        )),
        "{outcomes:?}"
    );
    assert_eq!(w.versions("api-dev"), [1, 2], "one new version");
    assert_eq!(w.count("UpdateFunctionCode"), 1);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
}

#[tokio::test]
async fn report_mode_and_dry_runs_deploy_nothing() {
    let w = world_with_v2();
    let report_mode = TestEngine::new(&w)
        .config(config_with(
            one_target(),
            &[("DEPLOYER_RECONCILE", "report")],
        ))
        .build();
    let r = sweep(&report_mode).await;
    assert_eq!(only(&r).outcome, Outcome::WouldDeploy, "{r:#?}");
    assert_eq!(r.outcome, Outcome::WouldDeploy);

    // A target's own mode wins over DEPLOYER_RECONCILE.
    let own = TestEngine::new(&w)
        .config(config_with(
            json!([{"repository": "api", "functions": ["api-dev"], "reconcile_mode": "report"}]),
            &[("DEPLOYER_RECONCILE", "deploy")],
        ))
        .build();
    assert_eq!(only(&sweep(&own).await).outcome, Outcome::WouldDeploy);

    let e = TestEngine::new(&w).build();
    let r = e
        .handle(&json!({"action": "reconcile", "dry_run": true}))
        .await
        .report();
    assert!(r.dry_run);
    assert_eq!(only(&r).outcome, Outcome::WouldDeploy, "{r:#?}");
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
    assert_eq!(w.count("TagResource"), 0);
}

#[tokio::test]
async fn a_sweep_short_of_time_defers_deployments_to_the_next() {
    let w = world_with_v2();
    // 600 s update timeout + 60 s smoke test + 60 s of calls + 40 s for the image's labels: 300 s
    // left is not enough.
    let e = TestEngine::new(&w).build();
    let inv = Invocation {
        request_id: None,
        deadline: Some(w.time.now() + Duration::from_secs(300)),
    };
    let req = Request::Reconcile(ReconcileRequest::default());
    let r = e
        .run(req.clone(), inv)
        .await
        .unwrap()
        .into_report()
        .unwrap();
    let d = only(&r);
    assert_eq!(d.outcome, Outcome::Deferred, "{d:#?}");
    let why = d.reason.as_deref().unwrap();
    assert!(why.contains("next sweep") && why.contains("760 s"), "{why}");
    assert!(!r.is_failure());
    assert!(w.mutating_calls().is_empty());

    // With the whole 15 minutes, it goes.
    let inv = Invocation {
        request_id: None,
        deadline: Some(w.time.now() + Duration::from_secs(900)),
    };
    let r = e.run(req, inv).await.unwrap().into_report().unwrap();
    assert_eq!(only(&r).outcome, Outcome::Deployed, "{r:#?}");
}

#[tokio::test]
async fn a_check_reads_only_and_exits_3_unless_all_are_in_sync() {
    let w = world();
    let e = TestEngine::new(&w).build();
    let check = || {
        Request::Reconcile(ReconcileRequest {
            dry_run: false,
            check: true,
        })
    };
    let r = e
        .run(check(), Invocation::default())
        .await
        .unwrap()
        .into_report()
        .unwrap();
    assert_eq!(check_exit(&r), 0, "{r:#?}");
    assert!(
        render_check(&r).starts_with("api-dev: in_sync: "),
        "{}",
        render_check(&r)
    );

    w.ecr_image("api", 'b', Some("v2"));
    w.advance(Duration::from_secs(60));
    let r = e
        .run(check(), Invocation::default())
        .await
        .unwrap()
        .into_report()
        .unwrap();
    assert_eq!(check_exit(&r), 3);
    assert_eq!(
        render_check(&r),
        "api-dev: behind: the newest image v2 (sha256:bbbbbbbbbbbb) is not live\n"
    );
    assert!(w.mutating_calls().is_empty());
    assert_eq!(w.count("TagResource"), 0);
    assert_eq!(w.count("Invoke"), 0, "a check runs no pipeline");
}

#[tokio::test]
async fn a_payload_cannot_ask_for_a_check_or_unknown_fields() {
    let w = world();
    let e = TestEngine::new(&w).build();
    for bad in [
        json!({"action": "reconcile", "check": true}),
        json!({"action": "reconcile", "function": "api-dev"}),
    ] {
        let err = e.handle(&bad).await.unwrap_err();
        assert!(err.field.starts_with("payload"), "{err}");
        assert!(err.problem.contains("unknown field"), "{err}");
    }
    assert!(
        w.calls().is_empty(),
        "no AWS call before the payload is known to be good"
    );
}

#[tokio::test]
async fn what_a_sweep_only_finds_is_no_metric_and_no_event() {
    let w = world();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let e = TestEngine::new(&w).metrics("SelfDeployer", &lines).build();
    assert_eq!(only(&sweep(&e).await).outcome, Outcome::InSync);
    assert!(
        lines.lock().unwrap().is_empty(),
        "{:?}",
        lines.lock().unwrap()
    );

    // A deployment it runs is one, as from a push.
    w.ecr_image("api", 'b', Some("v2"));
    w.advance(Duration::from_secs(60));
    assert_eq!(only(&sweep(&e).await).outcome, Outcome::Deployed);
    let records = lines.lock().unwrap().clone();
    assert!(
        records
            .iter()
            .any(|l| l.contains("\"Outcome\":\"deployed\"")),
        "{records:?}"
    );
}

#[tokio::test]
async fn an_image_a_rollout_gate_rolled_back_is_not_redeployed() {
    let w = world();
    w.alarm("api-5xx", "OK");
    let targets = json!([{"repository": "api", "functions": ["api-dev"],
        "rollout": {"steps": [10], "interval_secs": 60, "check_secs": 60, "alarms": ["api-5xx"]}}]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    w.ecr_image("api", 'b', Some("v2"));
    let r = e.handle(&push("api", 'b', Some("v2"))).await.report();
    assert_eq!(only(&r).outcome, Outcome::RollingOut, "{r:#?}");
    // The gate's alarm fires; the check rolls the canary back.
    w.alarm("api-5xx", "ALARM");
    let s = w.only_schedule();
    w.advance_to(s.at());
    w.lock().schedules.remove(&s.name);
    let r = e.handle(&s.payload()).await.report();
    assert_eq!(only(&r).outcome, Outcome::Failed, "{r:#?}");
    assert!(only(&r).reason.as_deref().unwrap().contains("rolled back"));
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("1"));

    let before = w.mutating_calls().len();
    let r = sweep(&e).await;
    assert_eq!(only(&r).outcome, Outcome::Rejected, "{r:#?}");
    assert_eq!(
        w.mutating_calls().len(),
        before,
        "a gate's rollback is never undone"
    );
}

#[tokio::test]
async fn a_sweep_with_more_missed_functions_than_inline_max_dispatches_them() {
    let w = World::new();
    let names: Vec<String> = (1..=3).map(|i| format!("w-{i}")).collect();
    for f in &names {
        w.live_function(f, "api", 'a');
    }
    w.ecr_image("api", 'a', Some("v1"));
    w.advance(Duration::from_secs(60));
    w.ecr_image("api", 'b', Some("v2"));
    w.advance(Duration::from_secs(600));
    let deployer = "arn:aws:lambda:eu-west-1:123456789012:function:self-deployer";
    let cfg = config_with(
        json!([{"repository": "api", "functions": names}]),
        &[
            ("DEPLOYER_INLINE_MAX", "2"),
            ("DEPLOYER_FUNCTION_ARN", deployer),
        ],
    );
    let e = TestEngine::new(&w).config(cfg).build();

    let r = sweep(&e).await;
    assert_eq!(r.deployments.len(), 3, "{r:#?}");
    assert!(
        r.deployments
            .iter()
            .all(|d| d.outcome == Outcome::Dispatched),
        "{r:#?}"
    );
    // Nothing deployed by the sweep itself: one queued run per function, each with the image's
    // digest, tag and push time, as the push's own event would have carried.
    assert_eq!(updates_to(&w, 'b'), 0);
    let sent = w.dispatched();
    assert_eq!(sent.len(), 3, "{sent:?}");
    for p in &sent {
        assert_eq!(p["action"], "deploy");
        assert_eq!(
            p["image_uri"].as_str(),
            Some(image_uri("api", 'b').as_str())
        );
        assert_eq!(p["tag"], "v2");
        assert!(p["pushed"].is_string(), "{p}");
    }
}

#[tokio::test]
async fn a_sweep_never_deploys_a_later_stage_from_its_repository() {
    let w = world();
    w.live_function("api-prod", "api", 'a');
    w.ecr_image("api", 'b', Some("v2"));
    w.advance(Duration::from_secs(600));
    let cfg = config_with(
        json!([
            {"repository": "api", "functions": ["api-dev"]},
            {"repository": "api", "functions": ["api-prod"],
             "after": {"function": "api-dev", "bake_secs": 600}}
        ]),
        &[(
            "DEPLOYER_SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/scheduler",
        )],
    );
    let e = TestEngine::new(&w).config(cfg).rollouts().build();

    let r = sweep(&e).await;
    let by = |f: &str| {
        r.deployments
            .iter()
            .find(|d| d.function.name() == f)
            .unwrap_or_else(|| panic!("{f} not in {r:#?}"))
    };
    assert_eq!(by("api-dev").outcome, Outcome::Deployed, "{r:#?}");
    let prod = by("api-prod");
    assert_eq!(prod.outcome, Outcome::Skipped, "{r:#?}");
    assert!(
        prod.reason
            .as_deref()
            .unwrap_or_default()
            .contains("only by promotion from api-dev"),
        "{prod:?}"
    );
    assert_eq!(w.alias_version("api-prod", "live").as_deref(), Some("1"));
}
