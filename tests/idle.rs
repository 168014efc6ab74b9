//! Functions that went idle (issue 24 §4): an `Inactive` function is reactivated by
//! UpdateFunctionCode, its State going `Pending` and then `Active` on its own schedule; the wait
//! reads State and LastUpdateStatus together, and the smoke test never runs before `Active`.

use crate::support;

use self_deployer::report::Outcome;
use std::time::Duration;
use support::push_b;
use support::world::World;

#[tokio::test]
async fn an_inactive_function_is_smoke_tested_only_once_it_is_active_again() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    w.idle("api-dev");
    let r = push_b(&w).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let calls = w.calls();
    let updated = calls
        .iter()
        .find(|c| c.op == "UpdateFunctionCode")
        .unwrap()
        .at
        .unwrap();
    let invoked = calls.iter().find(|c| c.op == "Invoke").unwrap().at.unwrap();
    assert!(
        invoked.duration_since(updated).unwrap() >= Duration::from_secs(15),
        "the smoke test waited for State Active"
    );
    assert!(r.deployments[0].smoke_test.as_ref().unwrap().passed);
}
