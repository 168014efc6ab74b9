//! Alarm state-change events during a rollout (issue 23, case 5): an event from another account or
//! region never rolls a rollout back, even when the deployer was not told its own account by the
//! runtime (the CLI, a test engine): its function ARN says it.

use crate::support;

use self_deployer::report::Outcome;
use serde_json::{Value, json};
use support::IntoReport;
use support::canary::Canary;

fn alarm_event(account: &str, region: &str) -> Value {
    json!({"version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change",
           "source": "aws.cloudwatch", "account": account, "time": "2026-11-26T07:01:00Z",
           "region": region, "resources": [],
           "detail": {"alarmName": "api-5xx", "state": {"value": "ALARM"}}})
}

#[tokio::test]
async fn an_alarm_event_from_another_account_or_region_touches_nothing() {
    for (account, region, why) in [
        (
            "111122223333",
            "eu-west-1",
            "no target's rollout watches alarm api-5xx in account 111122223333",
        ),
        (
            "123456789012",
            "us-east-1",
            "no target's rollout watches alarm api-5xx in region us-east-1",
        ),
    ] {
        let c = Canary::new();
        c.push('b', "v2").await;
        let before = c.w.calls().len();
        let r = c.e.handle(&alarm_event(account, region)).await.report();
        assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
        assert_eq!(r.reason.as_deref(), Some(why));
        assert_eq!(c.w.calls().len(), before, "no AWS call");
        assert_eq!(c.alias(), ("1".into(), vec![("2".into(), 0.1)]));
    }
    // From the deployer's own account and region: rolled back.
    let c = Canary::new();
    c.push('b', "v2").await;
    let r =
        c.e.handle(&alarm_event("123456789012", "eu-west-1"))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    assert_eq!(c.alias(), ("1".into(), vec![]));
}
