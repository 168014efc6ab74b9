//! Hands every report to each notification sink (SNS today; see [`sink`]). A notification that
//! cannot be sent never changes the outcome of a deployment: the SNS sink's status becomes the
//! report's `notification` (`{"sent": false, "error": ...}`), and what other sinks could not do
//! becomes the report's `warnings`.

pub mod escape;
pub mod render;
pub mod sink;
pub mod sns;

use crate::report::{NotificationStatus, Report};
pub use render::{Message, RenderSettings};
pub use sink::{Delivery, Sink};
pub use sns::{NotifySettings, SnsSink};
use std::sync::Arc;

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

    /// Gives the report to every sink, at once (one slow channel must not hold up the others
    /// inside the invocation's time). Returns the report's `notification`, the first status a sink
    /// gave (only SNS gives one), and each sink's warnings prefixed with its name, so a reader
    /// knows which channel missed.
    pub async fn notify(&self, report: &Report) -> (Option<NotificationStatus>, Vec<String>) {
        let deliveries =
            futures_util::future::join_all(self.sinks.iter().map(|s| s.deliver(report))).await;
        let mut status = None;
        let mut warnings = Vec::new();
        for (sink, delivery) in self.sinks.iter().zip(deliveries) {
            if status.is_none() {
                status = delivery.status;
            }
            warnings.extend(
                delivery
                    .warnings
                    .into_iter()
                    .map(|w| format!("{}: {w}", sink.name())),
            );
        }
        (status, warnings)
    }
}
