//! Notification sinks through the whole engine: a sink besides SNS gets the same report, and what
//! it could not do lands in the report's warnings without changing the outcome or the SNS status.

use crate::support;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use self_deployer::notify::{Delivery, Sink, Start, Started};
use self_deployer::report::{Outcome, Report, Told};
use std::sync::{Arc, Mutex};
use support::world::World;
use support::{IntoReport, TestEngine, push, sns_subjects};

/// A sink that keeps every report it is given and always has one problem to tell.
#[derive(Debug, Default)]
struct Recorder {
    reports: Mutex<Vec<Report>>,
}

impl Sink for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        _deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Delivery> {
        async move {
            self.reports.lock().expect("reports").push(report.clone());
            Delivery {
                status: None,
                warnings: vec!["deployment status not created: 403".into()],
                ..Delivery::default()
            }
        }
        .boxed()
    }
}

#[tokio::test]
async fn a_second_sink_gets_the_report_sns_gets_and_its_warning_changes_nothing_else() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let (publish, subjects) = sns_subjects();
    let recorder = Arc::new(Recorder::default());
    let engine = TestEngine::new(&w)
        .sns(&publish)
        .sink(recorder.clone())
        .build();
    let report = engine
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();

    assert_eq!(report.outcome, Outcome::Deployed);
    assert_eq!(w.alias_version("api-dev", "live").as_deref(), Some("2"));
    assert_eq!(
        *subjects.lock().expect("subjects"),
        vec!["DEPLOYED api-dev v2 (sha-b)".to_owned()]
    );
    let n = report.notification.clone().expect("notification");
    assert!(n.sent && n.error.is_none(), "{n:?}");
    assert_eq!(
        report.warnings,
        vec!["recorder: deployment status not created: 403".to_owned()]
    );
    let json = serde_json::to_value(&report).expect("report json");
    assert_eq!(
        json["warnings"],
        serde_json::json!(["recorder: deployment status not created: 403"])
    );
    // The sink saw the run as SNS did: the finished report, before its notification and warnings.
    let seen = recorder.reports.lock().expect("reports").clone();
    let mut expected = report.clone();
    expected.notification = None;
    expected.warnings.clear();
    assert_eq!(seen, vec![expected]);
}

#[tokio::test]
async fn without_a_topic_other_sinks_still_get_the_report() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let recorder = Arc::new(Recorder::default());
    let engine = TestEngine::new(&w).sink(recorder.clone()).build();
    let report = engine
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    let n = report.notification.expect("notification");
    assert_eq!(
        (n.sent, n.reason.as_deref()),
        (false, Some("DEPLOYER_TOPIC_ARN is not set"))
    );
    assert_eq!(recorder.reports.lock().expect("reports").len(), 1);
    assert_eq!(report.warnings.len(), 1);
}

/// A sink that tracks runs: at each start it notes how often `$LATEST` had been updated, and gives
/// an id, which its delivery at the end reads back from the deployment.
struct Tracker {
    world: World,
    starts: Mutex<Vec<(String, usize)>>,
    ends: Mutex<Vec<Option<Told>>>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tracker")
    }
}

impl Sink for Tracker {
    fn name(&self) -> &'static str {
        "tracker"
    }
    fn tells_people(&self) -> bool {
        false
    }
    fn started<'a>(
        &'a self,
        start: &'a Start<'a>,
        _deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Started> {
        async move {
            let updates = self.world.count("UpdateFunctionCode");
            self.starts
                .lock()
                .expect("starts")
                .push((start.function.name().to_owned(), updates));
            Started {
                told: Some(Told::Created(41)),
                warnings: vec!["tracker slow".into()],
            }
        }
        .boxed()
    }
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        _deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Delivery> {
        async move {
            let mut ends = self.ends.lock().expect("ends");
            ends.extend(
                report
                    .deployments
                    .iter()
                    .map(|d| d.at_start.sink("tracker")),
            );
            Delivery::default()
        }
        .boxed()
    }
}

#[tokio::test]
async fn a_sink_hears_of_the_start_before_the_code_changes_and_its_id_reaches_the_end() {
    let w = World::new();
    w.live_function("api-dev", "api", 'a');
    let tracker = Arc::new(Tracker {
        world: w.clone(),
        starts: Mutex::default(),
        ends: Mutex::default(),
    });
    let engine = TestEngine::new(&w).sink(tracker.clone()).build();
    let report = engine
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();
    assert_eq!(report.outcome, Outcome::Deployed);
    assert_eq!(w.count("UpdateFunctionCode"), 1);
    assert_eq!(
        *tracker.starts.lock().expect("starts"),
        vec![("api-dev".to_owned(), 0)],
        "told once, before UpdateFunctionCode"
    );
    assert_eq!(
        *tracker.ends.lock().expect("ends"),
        vec![Some(Told::Created(41))]
    );
    assert_eq!(report.deployments[0].warnings, vec!["tracker slow"]);
    // A duplicate, a skip (not ours) and a dry run start nothing.
    engine
        .handle(&push("api", 'b', Some("sha-b")))
        .await
        .report();
    engine
        .handle(&push("other", 'c', Some("sha-c")))
        .await
        .report();
    w.ecr_image("api", 'd', Some("v4"));
    let uri = support::world::image_uri("api", 'd');
    let dry = engine
        .handle(&serde_json::json!({"action": "deploy", "function": "api-dev", "image_uri": uri, "dry_run": true}))
        .await
        .report();
    assert_eq!(dry.outcome, Outcome::WouldDeploy);
    assert_eq!(tracker.starts.lock().expect("starts").len(), 1);
}
