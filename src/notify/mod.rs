//! Hands every report to SNS: one message per function per run, with a body for each kind of
//! subscriber and attributes for filter policies. A notification that cannot be sent never changes
//! the outcome of a deployment: the report records `"notification": {"sent": false, "error": ...}`.

pub mod escape;
pub mod render;

use crate::report::{NotificationStatus, Outcome, Report};
use aws_sdk_sns::types::MessageAttributeValue;
pub use render::{Message, RenderSettings};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NotifySettings {
    /// Also notify skips, duplicates (`already_live`) and dry runs (`DEPLOYER_NOTIFY_SKIPPED`).
    pub notify_skipped: bool,
    pub render: RenderSettings,
}

#[derive(Clone, Debug)]
pub struct Notifier {
    sns: Option<(aws_sdk_sns::Client, String)>,
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
            sns: Some((client, topic_arn.into())),
            settings,
        }
    }

    /// Whether an outcome is worth a message: changes and failures always, the rest on request.
    pub fn worth_telling(&self, outcome: Outcome) -> bool {
        outcome.changed_production() || outcome == Outcome::Failed || self.settings.notify_skipped
    }

    pub async fn notify(&self, report: &Report) -> NotificationStatus {
        let Some((client, topic_arn)) = &self.sns else {
            return not_sent("DEPLOYER_TOPIC_ARN is not set");
        };
        let messages: Vec<Message> = render::messages(report, &self.settings.render)
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
            let attr = |v: &str| {
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(v)
                    .build()
            };
            let (outcome, function, repository) = match (
                attr(m.outcome.as_str()),
                attr(&m.function),
                attr(&m.repository),
            ) {
                (Ok(o), Ok(f), Ok(r)) => (o, f, r),
                _ => {
                    errors.push(format!(
                        "{}: could not build message attributes",
                        m.function
                    ));
                    continue;
                }
            };
            let res = client
                .publish()
                .topic_arn(topic_arn)
                .subject(&m.subject)
                .message_structure("json")
                .message(m.sns_json())
                .message_attributes("outcome", outcome)
                .message_attributes("function", function)
                .message_attributes("repository", repository)
                .send()
                .await;
            match res {
                Ok(out) => ids.extend(out.message_id().map(str::to_owned)),
                Err(e) => {
                    let msg = format!("{}: {}", m.function, crate::aws::describe(&e));
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
