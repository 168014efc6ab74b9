//! Hands every report to each notification sink (SNS today; see [`sink`]). A notification that
//! cannot be sent never changes the outcome of a deployment: the SNS sink's status becomes the
//! report's `notification` (`{"sent": false, "error": ...}`), and what other sinks could not do
//! becomes the report's `warnings`.

pub mod escape;
pub mod github;
pub mod github_auth;
pub mod github_plan;
pub mod render;
pub mod sink;
pub mod sns;

use crate::report::{NotificationStatus, Report};
pub use render::{Message, RenderSettings};
pub use sink::{Delivery, Sink, Start, Started};
pub use sns::{NotifySettings, SnsSink};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone, Debug)]
pub struct Notifier {
    sinks: Vec<Arc<dyn Sink>>,
}

impl Notifier {
    pub fn new(sinks: Vec<Arc<dyn Sink>>) -> Self {
        Self { sinks }
    }

    /// No topic configured: reports say so, nothing is sent.
    pub fn disabled() -> Self {
        Self::new(vec![Arc::new(SnsSink::unconfigured())])
    }

    /// SNS as the only sink.
    pub fn sns(
        client: aws_sdk_sns::Client,
        topic_arn: impl Into<String>,
        settings: NotifySettings,
    ) -> Self {
        Self::new(vec![Arc::new(SnsSink::new(client, topic_arn, settings))])
    }

    /// One more sink, after those already there.
    pub fn with(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Tells every sink that `start`'s deployment is about to change its code, at once, and
    /// writes what they said onto `dep` (what came of it, for their end-of-run delivery, and
    /// warnings). Each sink bounds itself; nothing here can fail the deployment.
    pub async fn started(
        &self,
        start: &Start<'_>,
        deadline: Option<SystemTime>,
        dep: &mut crate::report::Deployment,
    ) {
        let said =
            futures_util::future::join_all(self.sinks.iter().map(|s| s.started(start, deadline)))
                .await;
        for (sink, s) in self.sinks.iter().zip(said) {
            if let Some(told) = s.told {
                dep.at_start.sinks.push((sink.name(), told));
            }
            dep.warnings.extend(s.warnings);
        }
    }

    /// Gives the report to every sink, at once (one slow channel must not hold up the others
    /// inside the invocation's time). Returns the report's `notification`, the first status a sink
    /// gave (only SNS gives one), and each sink's warnings prefixed with its name, so a reader
    /// knows which channel missed. (What the tests read; a run uses [`Notifier::notify_within`].)
    #[cfg(test)]
    pub async fn notify(&self, report: &Report) -> (Option<NotificationStatus>, Vec<String>) {
        let n = self.notify_within(report, &Ok(report.clone()), None).await;
        let mut warnings = n.warnings;
        warnings.extend(n.per_function.into_iter().map(|(_, w)| w));
        (n.status, warnings)
    }

    /// [`Notifier::notify`] within the invocation's `deadline`, keeping apart the warnings that
    /// concern one function. Sinks that tell people get `for_people` (a summarised fleet's batch
    /// tells only its failures; `Err` is the notification status when nothing is told); the others
    /// get `report` whole.
    pub async fn notify_within(
        &self,
        report: &Report,
        for_people: &Result<Report, NotificationStatus>,
        deadline: Option<SystemTime>,
    ) -> Delivery {
        let deliveries = futures_util::future::join_all(self.sinks.iter().map(|s| async move {
            match (s.tells_people(), for_people) {
                (false, _) => s.deliver(report, deadline).await,
                (true, Ok(told)) => s.deliver(told, deadline).await,
                (true, Err(quiet)) => Delivery {
                    status: Some(quiet.clone()),
                    ..Delivery::default()
                },
            }
        }))
        .await;
        let mut n = Delivery::default();
        for (sink, delivery) in self.sinks.iter().zip(deliveries) {
            if n.status.is_none() {
                n.status = delivery.status;
            }
            let name = sink.name();
            n.warnings.extend(
                delivery
                    .warnings
                    .into_iter()
                    .map(|w| format!("{name}: {w}")),
            );
            // A function's warning sits on its deployment and names its channel itself.
            n.per_function.extend(delivery.per_function);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ActionKind;
    use futures_util::FutureExt;
    use futures_util::future::BoxFuture;
    use std::sync::Mutex;

    /// A sink that keeps every report it is given and answers with what it was told to.
    #[derive(Debug, Default)]
    struct Recorder {
        reports: Mutex<Vec<Report>>,
        status: Option<NotificationStatus>,
        warnings: Vec<String>,
    }

    impl Sink for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn deliver<'a>(
            &'a self,
            report: &'a Report,
            _deadline: Option<SystemTime>,
        ) -> BoxFuture<'a, Delivery> {
            async move {
                self.reports
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(report.clone());
                Delivery {
                    status: self.status.clone(),
                    warnings: self.warnings.clone(),
                    ..Delivery::default()
                }
            }
            .boxed()
        }
    }

    fn failed_report() -> Report {
        Report {
            repository: Some("api".into()),
            ..Report::failed(ActionKind::Deploy, "the image could not be read")
        }
    }

    fn status(reason: &str) -> NotificationStatus {
        NotificationStatus {
            sent: false,
            message_ids: None,
            error: None,
            reason: Some(reason.into()),
        }
    }

    #[tokio::test]
    async fn a_second_sink_gets_the_same_report_and_its_warnings_come_back_named() {
        let recorder = Arc::new(Recorder {
            warnings: vec!["deployment status not created: 403".into()],
            ..Recorder::default()
        });
        let notifier = Notifier::disabled().with(recorder.clone());
        let report = failed_report();
        let (notification, warnings) = notifier.notify(&report).await;
        assert_eq!(*recorder.reports.lock().unwrap(), vec![report]);
        assert_eq!(
            warnings,
            vec!["recorder: deployment status not created: 403".to_owned()]
        );
        // The SNS sink still speaks for `notification`, exactly as before sinks.
        assert_eq!(notification, Some(status("DEPLOYER_TOPIC_ARN is not set")));
    }

    #[tokio::test]
    async fn the_notification_is_the_first_status_a_sink_gives() {
        let silent = Arc::new(Recorder::default());
        let other = Arc::new(Recorder {
            status: Some(status("other")),
            ..Recorder::default()
        });
        let notifier = Notifier::new(vec![silent.clone(), Arc::new(SnsSink::unconfigured())])
            .with(other.clone());
        let (notification, warnings) = notifier.notify(&failed_report()).await;
        assert_eq!(notification, Some(status("DEPLOYER_TOPIC_ARN is not set")));
        assert!(warnings.is_empty());
        assert_eq!(silent.reports.lock().unwrap().len(), 1);
        assert_eq!(other.reports.lock().unwrap().len(), 1);
        // No sink with a status: no `notification` rather than a made-up one.
        let (notification, _) = Notifier::new(vec![silent]).notify(&failed_report()).await;
        assert_eq!(notification, None);
    }
}
