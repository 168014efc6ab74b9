//! One message per function per run, readable by each kind of subscriber: plain text for people
//! (email), an AWS Chatbot custom notification for Slack/Chime (Chatbot drops plain text), and the
//! report itself for machines (SQS, Lambda). Pure: tested with golden files.

use super::escape::{slack, slack_code, strip_controls, subject as ascii_subject, truncate};
use crate::report::{ActionKind, Deployment, Outcome, Report, step_name};
use crate::text::short_digest;
use serde_json::{Value, json};

pub const MAX_SUBJECT: usize = 100;
/// Bounds per field of outside text. With these, a whole message stays well under 64 KB (SNS
/// allows 256 KB for all protocol bodies together).
const MAX_REASON: usize = 1000;
const MAX_EXCERPT: usize = 1000;
const MAX_LOG_TAIL: usize = 2000;

/// What the notifier needs beyond the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderSettings {
    /// The deployer's own Lambda name, for the rollback command (`AWS_LAMBDA_FUNCTION_NAME`).
    pub deployer_function: Option<String>,
}

/// A rendered SNS message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    /// Message attributes for subscription filter policies: outcome, function, repository.
    pub outcome: Outcome,
    pub function: String,
    pub repository: String,
    pub text: String,
    pub chatbot: Value,
    pub machine: Value,
}

impl Message {
    /// The body for `MessageStructure=json`: one entry per protocol.
    pub fn sns_json(&self) -> String {
        let chatbot = self.chatbot.to_string();
        let machine = self.machine.to_string();
        json!({
            "default": self.text,
            "email": self.text,
            "https": chatbot,
            "sqs": machine,
            "lambda": machine,
            "email-json": machine,
        })
        .to_string()
    }
}

/// The messages for a report: one per deployment (or one for a run without deployments).
pub fn messages(report: &Report, settings: &RenderSettings) -> Vec<Message> {
    if report.deployments.is_empty() {
        return vec![render(report, None, settings)];
    }
    report
        .deployments
        .iter()
        .map(|d| render(report, Some(d), settings))
        .collect()
}

fn render(report: &Report, d: Option<&Deployment>, settings: &RenderSettings) -> Message {
    let outcome = d.map(|d| d.outcome).unwrap_or(report.outcome);
    let function = d
        .map(|d| d.function.name().to_owned())
        .unwrap_or_else(|| "(none)".into());
    let repository = report.repository.clone().unwrap_or_else(|| "(none)".into());
    Message {
        subject: subject(report, d),
        outcome,
        function,
        repository,
        text: text(report, d, settings),
        chatbot: chatbot(report, d, settings),
        machine: machine(report, d),
    }
}

fn label(report: &Report) -> Option<String> {
    report
        .image_tag
        .clone()
        .or_else(|| report.image_digest.as_ref().map(|d| short_digest(d)))
}

fn v(version: Option<crate::types::Version>) -> String {
    version.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// `DEPLOYED api-dev v42 (sha-abc123)`, `FAILED api-dev at smoke_test (sha-abc123)`,
/// `ROLLED BACK api-dev v42 -> v41`: ASCII, one line, at most 100 characters.
pub fn subject(report: &Report, d: Option<&Deployment>) -> String {
    let with_label = |s: String| match label(report) {
        Some(l) => format!("{s} ({l})"),
        None => s,
    };
    let s = match d {
        None => match report.outcome {
            Outcome::Failed => with_label(format!(
                "FAILED {}",
                report.repository.as_deref().unwrap_or("deployment")
            )),
            o => with_label(format!(
                "{} {}",
                o.as_str().replace('_', " ").to_uppercase(),
                report.repository.as_deref().unwrap_or("")
            )),
        },
        Some(d) => {
            let f = d.function.name();
            match d.outcome {
                Outcome::Deployed => with_label(format!("DEPLOYED {f} v{}", v(d.version))),
                Outcome::Failed => {
                    let at = d
                        .failed_step
                        .map(step_name)
                        .unwrap_or_else(|| "unknown step".into());
                    if report.action == ActionKind::Rollback {
                        format!("ROLLBACK FAILED {f} at {at}")
                    } else {
                        with_label(format!("FAILED {f} at {at}"))
                    }
                }
                Outcome::RolledBack => {
                    format!(
                        "ROLLED BACK {f} v{} -> v{}",
                        v(d.previous_version),
                        v(d.version)
                    )
                }
                Outcome::AlreadyLive => with_label(format!("ALREADY LIVE {f} v{}", v(d.version))),
                Outcome::WouldDeploy => with_label(format!("DRY RUN {f} would deploy")),
                Outcome::WouldRollBack => {
                    format!("DRY RUN {f} would roll back v{}", v(d.previous_version))
                }
                Outcome::Skipped => with_label(format!("SKIPPED {f}")),
            }
        }
    };
    ascii_subject(&s, MAX_SUBJECT)
}

/// The commands a person can paste: the Lambda invoke (works from anywhere with the AWS CLI) and
/// the local CLI equivalent.
fn commands(settings: &RenderSettings, payload: &Value, cli: &str) -> Vec<String> {
    let name = settings
        .deployer_function
        .as_deref()
        .unwrap_or("self-deployer");
    vec![
        format!(
            "aws lambda invoke --function-name {name} --cli-binary-format raw-in-base64-out --payload '{payload}' /dev/stdout"
        ),
        format!("self-deployer {cli}"),
    ]
}

/// What a person should do next, as commands.
fn next_steps(
    report: &Report,
    d: Option<&Deployment>,
    settings: &RenderSettings,
) -> Vec<(String, Vec<String>)> {
    let Some(d) = d else { return Vec::new() };
    let f = d.function.name();
    match d.outcome {
        Outcome::Deployed => vec![(
            format!("To roll back to version {}:", v(d.previous_version)),
            commands(
                settings,
                &json!({"action": "rollback", "function": f}),
                &format!("rollback --function {f}"),
            ),
        )],
        Outcome::RolledBack => match d.previous_version {
            Some(p) => vec![(
                format!("To go forward to version {p} again:"),
                commands(
                    settings,
                    &json!({"action": "rollback", "function": f, "version": p.to_string()}),
                    &format!("rollback --function {f} --to {p}"),
                ),
            )],
            None => Vec::new(),
        },
        Outcome::Failed if report.action == ActionKind::Deploy => match &report.image_uri {
            Some(uri) => vec![(
                "Production is unchanged: nothing to roll back. To retry this image after a fix:"
                    .to_owned(),
                commands(
                    settings,
                    &json!({"action": "deploy", "function": f, "image_uri": uri}),
                    &format!("deploy --function {f} --image {uri}"),
                ),
            )],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// One sentence on what happened, for the top of every rendering.
fn headline(report: &Report, d: Option<&Deployment>) -> String {
    let Some(d) = d else {
        return report
            .reason
            .clone()
            .unwrap_or_else(|| report.outcome.as_str().to_owned());
    };
    let f = d.function.name();
    let a = &d.alias;
    match d.outcome {
        Outcome::Deployed => match d.previous_version {
            Some(p) => format!(
                "{f} now serves version {} through alias {a} (was version {p}).",
                v(d.version)
            ),
            None => format!(
                "{f} now serves version {} through the new alias {a}.",
                v(d.version)
            ),
        },
        Outcome::Failed if report.action == ActionKind::Rollback => format!(
            "The rollback of {f} did not happen: alias {a} still serves version {}.",
            v(d.version)
        ),
        Outcome::Failed => match d.version {
            Some(cur) => format!(
                "The new image was NOT deployed to {f}. Production is unchanged: alias {a} still serves version {cur}."
            ),
            None => format!(
                "The new image was NOT deployed to {f}; alias {a} was not moved by the deployer."
            ),
        },
        Outcome::RolledBack => format!(
            "{f} rolled back: alias {a} now serves version {} (was version {}).",
            v(d.version),
            v(d.previous_version)
        ),
        Outcome::AlreadyLive => format!(
            "{f} already serves this image through alias {a} (version {}): nothing changed.",
            v(d.version)
        ),
        Outcome::WouldDeploy | Outcome::WouldRollBack => {
            format!(
                "Dry run for {f}: {}",
                d.reason.as_deref().unwrap_or("nothing changed")
            )
        }
        Outcome::Skipped => format!("{f}: skipped."),
    }
}

/// Plain text for people (email and the default body).
pub fn text(report: &Report, d: Option<&Deployment>, settings: &RenderSettings) -> String {
    let mut t = String::new();
    let line = |t: &mut String, s: &str| {
        t.push_str(s);
        t.push('\n');
    };
    line(&mut t, &subject(report, d));
    line(&mut t, "");
    line(&mut t, &strip_controls(&headline(report, d)));
    line(&mut t, "");
    let field = |t: &mut String, k: &str, v: &str| line(t, &format!("{k:<14}{v}"));
    if let Some(d) = d {
        field(&mut t, "Function:", d.function.as_str());
        let alias = if d.version.is_none() && d.previous_version.is_none() {
            format!("{}: unchanged", d.alias)
        } else if matches!(d.outcome, Outcome::WouldDeploy | Outcome::WouldRollBack) {
            format!(
                "{}: version {} (unchanged: dry run)",
                d.alias,
                v(d.previous_version)
            )
        } else if d.version == d.previous_version {
            format!("{}: version {} (unchanged)", d.alias, v(d.version))
        } else {
            format!(
                "{}: version {} (was {})",
                d.alias,
                v(d.version),
                v(d.previous_version)
            )
        };
        field(&mut t, "Alias:", &alias);
        field(&mut t, "Outcome:", d.outcome.as_str());
    }
    if let Some(r) = &report.repository {
        field(&mut t, "Repository:", r);
    }
    if let Some(tag) = &report.image_tag {
        field(&mut t, "Tag:", tag);
    }
    if let Some(dg) = &report.image_digest {
        field(&mut t, "Digest:", dg);
    }
    if let Some(uri) = &report.image_uri {
        field(&mut t, "Image:", uri);
    }
    if let Some(time) = &report.event_time {
        field(&mut t, "Pushed:", time);
    }
    if report.dry_run {
        field(&mut t, "Dry run:", "yes, nothing was changed");
    }
    if let Some(why) = &report.request_reason {
        field(
            &mut t,
            "Requested:",
            &truncate(&strip_controls(why.as_str()), MAX_REASON),
        );
    }
    if let Some(d) = d {
        if let Some(step) = d.failed_step {
            line(&mut t, "");
            field(&mut t, "Failed step:", &step_name(step));
            field(
                &mut t,
                "Reason:",
                &truncate(
                    &strip_controls(d.reason.as_deref().unwrap_or("")),
                    MAX_REASON,
                ),
            );
            if let Some(r) = &d.latest_restore {
                let what = if r.restored {
                    "restored"
                } else {
                    "NOT restored"
                };
                field(
                    &mut t,
                    "$LATEST:",
                    &format!("{what}: {}", strip_controls(&r.detail)),
                );
            }
        } else if let Some(reason) = d
            .reason
            .as_deref()
            .filter(|_| d.outcome != Outcome::Deployed)
        {
            field(
                &mut t,
                "Detail:",
                &truncate(&strip_controls(reason), MAX_REASON),
            );
        }
        if let Some(s) = &d.smoke_test {
            let status = s
                .status_code
                .map(|c| format!("statusCode {c}"))
                .unwrap_or_else(|| "no statusCode".into());
            let verdict = if s.passed { "passed" } else { "FAILED" };
            field(&mut t, "Smoke test:", &format!("{verdict} ({status})"));
            if let Some(e) = &s.invoke_error {
                field(
                    &mut t,
                    "Invoke error:",
                    &truncate(&strip_controls(e), MAX_REASON),
                );
            }
            if let Some(p) = &s.payload_excerpt {
                line(&mut t, "");
                line(&mut t, "Smoke test answer:");
                indent(&mut t, &truncate(&strip_controls(p), MAX_EXCERPT));
            }
            if let Some(l) = &s.log_tail {
                line(&mut t, "");
                line(&mut t, "Log tail:");
                indent(&mut t, &truncate(&strip_controls(l), MAX_LOG_TAIL));
            }
        }
        for w in &d.warnings {
            field(
                &mut t,
                "Warning:",
                &truncate(&strip_controls(w), MAX_REASON),
            );
        }
        if !d.pruned_versions.is_empty() {
            let list: Vec<String> = d.pruned_versions.iter().map(|v| v.to_string()).collect();
            field(&mut t, "Pruned:", &format!("versions {}", list.join(", ")));
        }
        if !d.steps.is_empty() {
            line(&mut t, "");
            line(&mut t, "Steps:");
            for s in &d.steps {
                line(
                    &mut t,
                    &format!("  {:<16}{:>8} ms", step_name(s.step), s.ms),
                );
            }
        }
    }
    for (what, cmds) in next_steps(report, d, settings) {
        line(&mut t, "");
        line(&mut t, &what);
        for c in cmds {
            line(&mut t, &format!("  {c}"));
        }
    }
    line(&mut t, "");
    line(&mut t, "-- self-deployer");
    t
}

fn indent(t: &mut String, block: &str) {
    for l in block.lines() {
        t.push_str("  ");
        t.push_str(l);
        t.push('\n');
    }
}

fn emoji(o: Outcome) -> &'static str {
    match o {
        Outcome::Deployed => ":white_check_mark:",
        Outcome::Failed => ":x:",
        Outcome::RolledBack => ":rewind:",
        Outcome::AlreadyLive => ":ballot_box_with_check:",
        Outcome::Skipped => ":fast_forward:",
        Outcome::WouldDeploy | Outcome::WouldRollBack => ":eyes:",
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

/// The report, narrowed to this function, for machines.
pub fn machine(report: &Report, d: Option<&Deployment>) -> Value {
    let mut one = report.clone();
    one.notification = None;
    if let Some(d) = d {
        one.outcome = d.outcome;
        one.deployments = vec![d.clone()];
    }
    serde_json::to_value(&one).unwrap_or(Value::Null)
}
