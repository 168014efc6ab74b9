//! Hands every report to SNS: one message per function per run, with a body for each kind of
//! subscriber and attributes for filter policies. A notification that cannot be sent never changes
//! the outcome of a deployment: the report records `"notification": {"sent": false, "error": ...}`.

pub mod escape;
pub mod github;
pub mod github_auth;
pub mod github_plan;
pub mod render;

use crate::gateway::sns::Sns;
use crate::report::{ActionKind, NotificationStatus, Outcome, Report};
pub use render::{Message, RenderSettings};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NotifySettings {
    /// Also notify skips, duplicates (`already_live`) and dry runs (`DEPLOYER_NOTIFY_SKIPPED`).
    pub notify_skipped: bool,
    pub render: RenderSettings,
}

#[derive(Clone, Debug)]
pub struct Notifier {
    sns: Option<Sns>,
    settings: NotifySettings,
}

impl Notifier {
    /// No topic configured: reports say so, nothing is sent.
    pub fn disabled() -> Self {
        Self {
            sns: None,
            settings: NotifySettings::default(),
        }
    }

    pub fn sns(
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

    pub async fn notify(&self, report: &Report) -> NotificationStatus {
        let Some(sns) = &self.sns else {
            return not_sent("DEPLOYER_TOPIC_ARN is not set");
        };
        // A rollout check that only confirmed the weight changed nothing anyone must hear about.
        let mut report = report.clone();
        report.deployments.retain(|d| {
            !(d.outcome == Outcome::RollingOut
                && d.rollout.as_ref().is_some_and(|r| !r.weight_changed))
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

fn not_sent(reason: &str) -> NotificationStatus {
    NotificationStatus {
        sent: false,
        message_ids: None,
        error: None,
        reason: Some(reason.to_owned()),
    }
}
