//! AWS Chatbot (Slack, Chime) custom notifications: markdown, escaped.

use super::*;
use crate::notify::escape::{slack, slack_code, truncate};
use crate::report::{Deployment, Outcome, Report, step_name};
use crate::text::short_digest;
use serde_json::{Value, json};

fn emoji(o: Outcome) -> &'static str {
    match o {
        Outcome::Deployed => ":white_check_mark:",
        Outcome::Failed => ":x:",
        Outcome::RolledBack => ":rewind:",
        Outcome::RollingOut => ":hourglass_flowing_sand:",
        Outcome::AlreadyLive => ":ballot_box_with_check:",
        Outcome::Skipped => ":fast_forward:",
        Outcome::WouldDeploy | Outcome::WouldRollBack | Outcome::WouldDispatch => ":eyes:",
        Outcome::Dispatched => ":outbox_tray:",
        Outcome::InSync => ":ballot_box_with_check:",
        Outcome::Drift => ":warning:",
        Outcome::Rejected => ":no_entry:",
        Outcome::Deferred => ":fast_forward:",
        Outcome::ReadyToPromote => ":raised_hand:",
    }
}

/// An AWS Chatbot custom notification (`version` 1.0, `source` custom, `client-markdown`).
pub fn chatbot(report: &Report, d: Option<&Deployment>, settings: &RenderSettings) -> Value {
    let outcome = d.map(|d| d.outcome).unwrap_or(report.outcome);
    // Our own sentences (names come from the validated configuration) need only the entity
    // escapes; free text from outside (reasons, answers, logs) gets the full treatment.
    let title = format!("{} {}", emoji(outcome), slack_code(&subject(report, d)));
    let mut desc = String::new();
    desc.push_str(&slack_code(&headline(report, d)));
    desc.push('\n');
    if let (Some(tag), Some(dg)) = (&report.image_tag, &report.image_digest) {
        desc.push_str(&format!(
            "*Image:* `{}` `{}`\n",
            slack_code(tag),
            slack_code(&short_digest(dg))
        ));
    } else if let Some(dg) = &report.image_digest {
        desc.push_str(&format!("*Image:* `{}`\n", slack_code(&short_digest(dg))));
    }
    if let Some(why) = &report.request_reason {
        desc.push_str(&format!(
            "*Requested:* {}\n",
            slack(&truncate(why.as_str(), MAX_REASON))
        ));
    }
    if let Some(d) = d {
        if let Some(step) = d.failed_step {
            desc.push_str(&format!("*Failed step:* `{}`\n", step_name(step)));
            desc.push_str(&format!(
                "*Reason:* {}\n",
                slack(&truncate(d.reason.as_deref().unwrap_or(""), MAX_REASON))
            ));
            if let Some(r) = &d.latest_restore {
                let what = if r.restored {
                    "restored"
                } else {
                    "NOT restored"
                };
                desc.push_str(&format!("*$LATEST:* {what}\n"));
            }
        }
        if let Some(c) = &d.image_checks {
            desc.push_str(&format!(
                "*Image checks:* {}\n",
                slack(&image_checks_line(c))
            ));
        }
        if let Some(l) = d.smoke_test.as_ref().and_then(|s| s.log_tail.as_ref()) {
            // A code block keeps the log readable; escaping keeps it inert.
            desc.push_str(&format!(
                "*Log tail:*\n```\n{}\n```\n",
                slack_code(&truncate(l.trim_end(), MAX_LOG_TAIL))
            ));
        }
        if !d.steps.is_empty() {
            let steps: Vec<String> = d
                .steps
                .iter()
                .map(|s| format!("{} {} ms", step_name(s.step), s.ms))
                .collect();
            desc.push_str(&format!("*Steps:* {}\n", steps.join(" · ")));
        }
    }
    let next: Vec<String> = next_steps(report, d, settings)
        .into_iter()
        .map(|(what, cmds)| format!("{} `{}`", slack_code(&what), slack_code(&cmds[0])))
        .collect();
    let function = d.map(|d| d.function.as_str().to_owned());
    let related: Vec<String> = [function, report.image_uri.clone()]
        .into_iter()
        .flatten()
        .collect();
    json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": desc.trim_end(),
            "nextSteps": next,
            "keywords": [outcome.as_str(), d.map(|d| d.function.name()).unwrap_or("(none)"), report.repository.as_deref().unwrap_or("(none)")],
        },
        "metadata": {
            "threadId": format!("self-deployer/{}", d.map(|d| d.function.name()).unwrap_or("run")),
            "summary": subject(report, d),
            "eventType": outcome.as_str(),
            "relatedResources": related,
            "additionalContext": {
                "outcome": outcome.as_str(),
                "function": d.map(|d| d.function.name()),
                "version": d.and_then(|d| d.version).map(|v| v.to_string()),
                "previous_version": d.and_then(|d| d.previous_version).map(|v| v.to_string()),
                "repository": report.repository,
                "image_digest": report.image_digest,
            },
        },
    })
}
