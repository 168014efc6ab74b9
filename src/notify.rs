//! Hands every report to SNS. A notification that cannot be sent never changes the outcome of a
//! deployment: the report records `"notification": {"sent": false, "error": ...}`.

use crate::report::{NotificationStatus, Outcome, Report};

#[derive(Clone, Debug)]
pub enum Notifier {
    /// No topic configured.
    Disabled,
    Sns {
        client: aws_sdk_sns::Client,
        topic_arn: String,
    },
}

/// SNS limits a subject to 100 printable ASCII characters without line breaks.
pub const MAX_SUBJECT: usize = 100;

impl Notifier {
    pub async fn notify(&self, report: &Report) -> NotificationStatus {
        let (client, topic_arn) = match self {
            Notifier::Disabled => return not_sent("DEPLOYER_TOPIC_ARN is not set"),
            Notifier::Sns { client, topic_arn } => (client, topic_arn),
        };
        if !(report.outcome.changed_production() || report.outcome == Outcome::Failed) {
            return not_sent("nothing changed: skips, duplicates and dry runs are not notified");
        }
        let message = match serde_json::to_string_pretty(report) {
            Ok(m) => m,
            Err(e) => return failed(format!("could not render the report: {e}")),
        };
        let res = client
            .publish()
            .topic_arn(topic_arn)
            .subject(subject(report))
            .message(message)
            .send()
            .await;
        match res {
            Ok(out) => NotificationStatus {
                sent: true,
                message_ids: Some(out.message_id().map(str::to_owned).into_iter().collect()),
                error: None,
                reason: None,
            },
            Err(e) => {
                let msg = crate::aws::describe(&e);
                tracing::error!(error = %msg, "notification not sent");
                failed(msg)
            }
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

fn failed(error: String) -> NotificationStatus {
    NotificationStatus {
        sent: false,
        message_ids: None,
        error: Some(error),
        reason: None,
    }
}

/// `DEPLOYED api-dev v42 (sha-abc123)`, `FAILED api-dev at smoke_test (sha-abc123)`: ASCII, one
/// line, at most 100 characters.
pub fn subject(report: &Report) -> String {
    let label = report
        .image_tag
        .clone()
        .or_else(|| {
            report
                .image_digest
                .as_ref()
                .map(|d| d.chars().take(19).collect())
        })
        .unwrap_or_default();
    let head = match report.deployments.as_slice() {
        [d] => match (d.outcome, d.version, d.failed_step) {
            (Outcome::Failed, _, Some(step)) => {
                format!(
                    "FAILED {} at {}",
                    d.function.name(),
                    crate::report::step_name(step)
                )
            }
            (Outcome::Deployed, Some(v), _) => format!("DEPLOYED {} v{v}", d.function.name()),
            (Outcome::RolledBack, Some(v), _) => format!(
                "ROLLED BACK {} v{} -> v{v}",
                d.function.name(),
                d.previous_version
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            ),
            (o, _, _) => format!("{} {}", o.as_str().to_uppercase(), d.function.name()),
        },
        many => format!(
            "{} {} functions",
            report.outcome.as_str().to_uppercase(),
            many.len()
        ),
    };
    let s = if label.is_empty() {
        head
    } else {
        format!("{head} ({label})")
    };
    let ascii: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    ascii.chars().take(MAX_SUBJECT).collect()
}
