//! Targets in other accounts beyond the deployment itself: a rollout's gates, the earlier stage's
//! alarms, status, history and an alarm's rollback all go out with the target's role, because its
//! alarms, metrics and functions live in its account. Each call's signing key is recorded. And a
//! promotion names the digest in the later target's registry (`registry_account`).

use crate::support;

use self_deployer::engine::{Engine, Response};
use self_deployer::report::{Outcome, Report};
use serde_json::{Value, json};
use support::world::{Signers, World, access_key_of};
use support::{IntoReport, TestEngine, push};

const STAGING_ROLE: &str = "arn:aws:iam::111122223333:role/deployer-staging";
const PROD_ROLE: &str = "arn:aws:iam::210987654321:role/deployer-prod";

/// Staging and prod each in their own account; prod rolls out 10% → 50% → 100% behind its alarm
/// and error rate.
fn targets() -> Value {
    json!([
        {"repository": "api", "functions": ["api-staging"], "tags": ["v*"],
         "assume_role_arn": STAGING_ROLE, "rollout": {"alarms": ["staging-5xx"]}},
        {"repository": "api", "functions": ["api-prod"], "assume_role_arn": PROD_ROLE,
         "after": {"function": "api-staging", "bake_secs": 1800},
         "rollout": {"steps": [10, 50], "interval_secs": 60, "check_secs": 60,
                     "alarms": ["prod-5xx"], "max_error_rate": 0.05, "min_invocations": 1}}
    ])
}

struct Accounts {
    w: World,
    e: Engine,
    lambda: Signers,
    cloudwatch: Signers,
}

impl Accounts {
    fn new() -> Self {
        let w = World::new();
        w.live_function("api-staging", "api", 'a');
        w.live_function("api-prod", "api", 'a');
        w.alarm("staging-5xx", "OK");
        w.alarm("prod-5xx", "OK");
        let (lambda_client, lambda) = w.signed_client();
        let (cw_client, cloudwatch) = w.signed_cloudwatch_client();
        let (sts, _) = w.sts_client(std::time::Duration::from_secs(3600));
        let e = TestEngine::new(&w)
            .config(support::scheduling_config(targets()))
            .lambda(lambda_client)
            .cloudwatch(cw_client)
            .sts(sts)
            .build();
        Self {
            w,
            e,
            lambda,
            cloudwatch,
        }
    }

    /// Fires the only pending schedule, as EventBridge Scheduler would.
    async fn fire(&self) -> Report {
        let s = self.w.only_schedule();
        self.w.advance_to(s.at());
        self.w.lock().schedules.clear();
        self.e.handle(&s.payload()).await.report()
    }

    /// The keys that signed the recorded calls (`filter` on the path), and clears the record.
    fn keys(signers: &Signers, filter: &str) -> Vec<String> {
        let mut s = signers.lock().unwrap();
        let keys = s
            .iter()
            .filter(|(p, _)| p.contains(filter))
            .map(|(_, k)| k.clone())
            .collect();
        s.clear();
        keys
    }

    /// prod rolling out `v2` at 10%, its first check pending.
    async fn prod_rolling_out(&self) -> u64 {
        let r = self.e.handle(&push("api", 'b', Some("vb"))).await.report();
        assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
        let r = self.fire().await;
        assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
        r.deployments[0].rollout.as_ref().unwrap().new_version.get()
    }
}

fn all_are(keys: &[String], role: &str) -> bool {
    !keys.is_empty() && keys.iter().all(|k| *k == access_key_of(role))
}

#[tokio::test]
async fn the_earlier_stages_alarms_are_read_in_its_account_and_a_rollouts_gates_in_the_targets() {
    let a = Accounts::new();
    a.prod_rolling_out().await;
    // The promotion read staging-5xx: staging's account.
    let promotion = Accounts::keys(&a.cloudwatch, "DescribeAlarms");
    assert!(all_are(&promotion, STAGING_ROLE), "{promotion:?}");
    // prod's check reads its alarm and its version's metrics: prod's account.
    let v = a.w.alias_state("api-prod").1;
    assert_eq!(v.len(), 1, "a split: {v:?}");
    a.w.traffic("api-prod", v[0].0, 0.0, 100.0);
    let r = a.fire().await;
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    let rollout = r.deployments[0].rollout.as_ref().unwrap();
    assert_eq!(rollout.weight, 0.5, "{r:#?}");
    assert_eq!(
        rollout.error_rate.as_ref().map(|e| e.invocations),
        Some(100.0),
        "the metrics of prod's account were read: {r:#?}"
    );
    let gates = Accounts::keys(&a.cloudwatch, "");
    assert!(gates.len() >= 2, "DescribeAlarms and GetMetricData");
    assert!(all_are(&gates, PROD_ROLE), "{gates:?}");
}

#[tokio::test]
async fn status_and_history_read_each_function_with_its_targets_role() {
    let a = Accounts::new();
    a.prod_rolling_out().await;
    Accounts::keys(&a.lambda, "");
    let Response::Status(s) = a.e.handle(&json!({"action": "status"})).await.unwrap() else {
        panic!("not a status")
    };
    assert!(s.functions.iter().all(|f| f.error.is_none()), "{s:#?}");
    let prod = s.functions.iter().find(|f| f.function.name() == "api-prod");
    assert!(prod.unwrap().split.is_some(), "{s:#?}");
    assert!(
        all_are(&Accounts::keys(&a.lambda, "/functions/api-prod"), PROD_ROLE),
        "status of api-prod"
    );
    let _ = a.e.handle(&json!({"action": "status"})).await.unwrap();
    assert!(
        all_are(
            &Accounts::keys(&a.lambda, "/functions/api-staging"),
            STAGING_ROLE
        ),
        "status of api-staging"
    );
    let resp =
        a.e.handle(&json!({"action": "history", "function": "api-prod"}))
            .await
            .unwrap();
    let Response::History(h) = resp else {
        panic!("not a history: {resp:?}")
    };
    assert_eq!((h.error.as_deref(), h.total_versions), (None, 2), "{h:#?}");
    assert!(all_are(&Accounts::keys(&a.lambda, ""), PROD_ROLE));
}

fn alarm_event(name: &str, account: &str) -> Value {
    json!({"version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change",
           "source": "aws.cloudwatch", "account": account, "time": "2026-11-26T07:01:00Z",
           "region": "eu-west-1", "resources": [],
           "detail": {"alarmName": name, "state": {"value": "ALARM"}}})
}

#[tokio::test]
async fn an_alarm_from_the_targets_account_rolls_it_back_with_its_role() {
    let a = Accounts::new();
    a.prod_rolling_out().await;
    a.w.alarm("prod-5xx", "ALARM");
    Accounts::keys(&a.lambda, "");
    let r = a.e.handle(&alarm_event("prod-5xx", "210987654321")).await;
    let r = r.report();
    assert_eq!(r.deployments.len(), 1, "{r:#?}");
    assert_eq!(r.deployments[0].function.name(), "api-prod");
    assert_eq!(
        r.deployments[0].outcome,
        Outcome::Failed,
        "a rollout rolled back by its alarm: {r:#?}"
    );
    assert_eq!(a.w.alias_state("api-prod"), (1, vec![]), "all traffic back");
    assert!(all_are(&Accounts::keys(&a.lambda, ""), PROD_ROLE));
}

#[tokio::test]
async fn an_alarm_of_the_same_name_in_another_account_touches_nothing() {
    let a = Accounts::new();
    a.prod_rolling_out().await;
    let before = a.w.mutating_calls().len();
    // prod-5xx, but from the deployer's own account: not the alarm prod's rollout watches.
    let r = a.e.handle(&alarm_event("prod-5xx", "123456789012")).await;
    let r = r.report();
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    assert_eq!(
        r.reason.as_deref(),
        Some("no target's rollout watches alarm prod-5xx in account 123456789012")
    );
    assert_eq!(a.w.mutating_calls().len(), before);
    assert_eq!(a.w.alias_state("api-prod").1.len(), 1, "still rolling out");
}

#[tokio::test]
async fn an_alarm_event_with_a_malformed_account_is_refused_before_any_call() {
    let a = Accounts::new();
    let err =
        a.e.handle(&alarm_event("prod-5xx", "21098765432"))
            .await
            .expect_err("invalid input");
    assert_eq!(err.field, "payload.account", "{err}");
    assert!(a.w.calls().is_empty(), "{:?}", a.w.calls());
}

#[tokio::test]
async fn a_promotion_takes_the_digest_from_the_later_targets_registry() {
    let w = World::new();
    w.live_function("api-staging", "api", 'a');
    w.live_function("api-prod", "api", 'a');
    let targets = json!([
        {"repository": "api", "functions": ["api-staging"]},
        {"repository": "api", "functions": ["api-prod"], "registry_account": "999988887777",
         "after": {"function": "api-staging", "bake_secs": 60}}
    ]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    let r = e.handle(&push("api", 'b', Some("vb"))).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let s = w.only_schedule();
    w.advance_to(s.at());
    w.lock().schedules.clear();
    let r = e.handle(&s.payload()).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    // The same digest, named in prod's registry: the image Lambda pulls for prod.
    let from_prod_registry =
        support::world::image_uri("api", 'b').replace("123456789012", "999988887777");
    assert_eq!(
        r.image_uri.as_deref(),
        Some(from_prod_registry.as_str()),
        "{r:#?}"
    );
    assert_eq!(w.latest_image("api-prod"), from_prod_registry);
}

#[tokio::test]
async fn a_target_without_a_role_takes_alarm_events_from_the_deployers_account_only() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.alarm("dev-5xx", "OK");
    let targets = json!([{"repository": "api", "functions": ["api-dev"],
                          "rollout": {"steps": [10], "alarms": ["dev-5xx"]}}]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    let r = e.handle(&push("api", 'b', Some("vb"))).await.report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    let r = e
        .handle(&alarm_event("dev-5xx", "210987654321"))
        .await
        .report();
    assert_eq!(
        r.outcome,
        Outcome::Skipped,
        "another account's dev-5xx: {r:#?}"
    );
    assert_eq!(w.alias_state("api-dev").1.len(), 1, "still rolling out");
    w.alarm("dev-5xx", "ALARM");
    let r = e
        .handle(&alarm_event("dev-5xx", "123456789012"))
        .await
        .report();
    assert_eq!(
        r.deployments[0].outcome,
        Outcome::Failed,
        "rolled back: {r:#?}"
    );
    assert_eq!(w.alias_state("api-dev"), (1, vec![]));
}
