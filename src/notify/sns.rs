//! The SNS sink: one message per function per run, with a body for each kind of subscriber
//! ([`render`](super::render)) and attributes for filter policies. Its status is the report's
//! `notification`: `{"sent": false, "error": ...}` when SNS refused, a `reason` when nothing was
//! worth sending.

use super::render::{self, Message, RenderSettings};
use super::sink::{Delivery, Sink};
use crate::gateway::sns::Sns;
use crate::report::{ActionKind, NotificationStatus, Outcome, Report};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NotifySettings {
    /// Also notify skips, duplicates (`already_live`) and dry runs (`DEPLOYER_NOTIFY_SKIPPED`).
    pub notify_skipped: bool,
    pub render: RenderSettings,
}

/// SNS as configured. Without a topic the sink stays in the list so that the report says why
/// nothing was sent, as users read `notification` to learn whether anyone was told.
#[derive(Clone, Debug)]
pub struct SnsSink {
    sns: Option<Sns>,
    settings: NotifySettings,
}

impl SnsSink {
    /// No topic configured: reports say so, nothing is sent.
    pub fn unconfigured() -> Self {
        Self {
            sns: None,
            settings: NotifySettings::default(),
        }
    }

    /// The SNS sink the configuration asks for: DEPLOYER_TOPIC_ARN, DEPLOYER_NOTIFY_SKIPPED.
    pub fn from_config(config: &crate::config::Config, sdk: &aws_config::SdkConfig) -> Self {
        let Some(arn) = &config.topic_arn else {
            return Self::unconfigured();
        };
        let settings = NotifySettings {
            notify_skipped: config.notify_skipped,
            render: RenderSettings {
                // In Lambda, our own name: the rollback command in messages invokes it.
                deployer_function: std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
            },
        };
        Self::new(aws_sdk_sns::Client::new(sdk), arn.clone(), settings)
    }

    pub fn new(
        client: aws_sdk_sns::Client,
        topic_arn: impl Into<String>,
        settings: NotifySettings,
    ) -> Self {
        Self {
            sns: Some(Sns::new(client, topic_arn)),
            settings,
        }
    }

    /// Whether an outcome is worth a message: changes and failures always, the rest on request.
    /// Never a dispatch: the function's own run tells its story, and a fan-out to hundreds of
    /// functions must not send hundreds of messages before it.
    pub fn worth_telling(&self, outcome: Outcome) -> bool {
        // A manual stage waits for a person: telling them is the whole point.
        outcome != Outcome::Dispatched
            && (outcome.changed_production()
                || matches!(
                    outcome,
                    Outcome::Failed | Outcome::Drift | Outcome::ReadyToPromote
                )
                || self.settings.notify_skipped)
    }

    pub async fn publish(&self, report: &Report) -> NotificationStatus {
        let Some(sns) = &self.sns else {
            return not_sent("DEPLOYER_TOPIC_ARN is not set");
        };
        // A rollout check that only confirmed the weight changed nothing anyone must hear about;
        // one that holds a step for want of evidence, or would have rolled back, is told (once).
        let mut report = report.clone();
        report.deployments.retain(|d| {
            !(d.outcome == Outcome::RollingOut && d.rollout.as_ref().is_some_and(|r| r.is_quiet()))
        });
        // A drift is told once per distinct state, not at every sweep.
        report.deployments.retain(|d| !d.notified_before);
        if report.deployments.is_empty() && report.action == ActionKind::Reconcile {
            return not_sent("the sweep found nothing that was not told before");
        }
        if report.deployments.is_empty() && report.outcome == Outcome::RollingOut {
            return not_sent("a rollout check confirmed the weight: nothing changed");
        }
        let messages: Vec<Message> = render::messages(&report, &self.settings.render)
            .into_iter()
            .filter(|m| self.worth_telling(m.outcome))
            .collect();
        if messages.is_empty() {
            return not_sent(
                "nothing changed: skips, duplicates and dry runs are not notified (DEPLOYER_NOTIFY_SKIPPED=true turns them on)",
            );
        }
        let mut ids = Vec::new();
        let mut errors = Vec::new();
        for m in &messages {
            let attributes = [
                ("outcome", m.outcome.as_str()),
                ("function", m.function.as_str()),
                ("repository", m.repository.as_str()),
            ];
            match sns.publish(&m.subject, m.sns_json(), &attributes).await {
                Ok(id) => ids.extend(id),
                Err(e) => {
                    let msg = format!("{}: {e}", m.function);
                    tracing::error!(error = %msg, "notification not sent");
                    errors.push(msg);
                }
            }
        }
        NotificationStatus {
            sent: errors.is_empty(),
            message_ids: Some(ids),
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            reason: None,
        }
    }
}

impl Sink for SnsSink {
    fn name(&self) -> &'static str {
        "sns"
    }

    /// What SNS refused is already in the status's `error`: no warnings, as before sinks.
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        _deadline: Option<std::time::SystemTime>,
    ) -> BoxFuture<'a, Delivery> {
        async move {
            Delivery {
                status: Some(self.publish(report).await),
                ..Delivery::default()
            }
        }
        .boxed()
    }
}

fn not_sent(reason: &str) -> NotificationStatus {
    NotificationStatus {
        sent: false,
        message_ids: None,
        error: None,
        reason: Some(reason.to_owned()),
    }
}
