//! One message per function per run, readable by each kind of subscriber: plain text for people
//! (email), an AWS Chatbot custom notification for Slack/Chime (Chatbot drops plain text), and the
//! report itself for machines (SQS, Lambda). Pure: tested with golden files.

use crate::notify::escape::subject as ascii_subject;
use crate::report::{ActionKind, Deployment, Outcome, Report, step_name};
use crate::text::short_digest;
use serde_json::{Value, json};

pub const MAX_SUBJECT: usize = 100;
/// Bounds per field of outside text. With these, a whole message stays well under 64 KB (SNS
/// allows 256 KB for all protocol bodies together).
pub(super) const MAX_REASON: usize = 1000;
pub(super) const MAX_EXCERPT: usize = 1000;
pub(super) const MAX_LOG_TAIL: usize = 2000;
/// Findings listed in a message, and the length of each of their fields.
pub(super) const MAX_FINDINGS: usize = 10;
pub(super) const MAX_FINDING_FIELD: usize = 80;

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

pub(super) fn render(
    report: &Report,
    d: Option<&Deployment>,
    settings: &RenderSettings,
) -> Message {
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

pub(super) fn label(report: &Report) -> Option<String> {
    report
        .image_tag
        .clone()
        .or_else(|| report.image_digest.as_ref().map(|d| short_digest(d)))
}

pub(super) fn v(version: Option<crate::types::Version>) -> String {
    version.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// `DEPLOYED api-dev v42 (sha-abc123)`, `FAILED api-dev at smoke_test (sha-abc123)`,
/// `ROLLED BACK api-dev v42 -> v41`: ASCII, one line, at most 100 characters.
pub fn subject(report: &Report, d: Option<&Deployment>) -> String {
    let with_label = |s: String| match label(report) {
        Some(l) => format!("{s} ({l})"),
        None => s,
    };
    if let (None, Some(fleet)) = (d, &report.fleet) {
        return crate::text::truncate(&fleet.subject, 100);
    }
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
                    } else if let Some(r) = d.rollout.as_ref().filter(|_| at == "rollout") {
                        format!(
                            "FAILED {f} at rollout {}%{}: rolled back to v{}",
                            (r.weight * 100.0).round(),
                            label(report).map(|l| format!(" ({l})")).unwrap_or_default(),
                            r.stable_version
                        )
                    } else {
                        with_label(format!("FAILED {f} at {at}"))
                    }
                }
                Outcome::RolledBack => match &d.rollout {
                    // A split cleared: say what it was.
                    Some(r) => format!(
                        "ROLLED BACK {f} v{} + {}% v{} -> v{}",
                        r.stable_version,
                        (r.weight * 100.0).round(),
                        r.new_version,
                        v(d.version)
                    ),
                    None => format!(
                        "ROLLED BACK {f} v{} -> v{}",
                        v(d.previous_version),
                        v(d.version)
                    ),
                },
                Outcome::RollingOut => match &d.rollout {
                    Some(r) => match r.notice_line() {
                        Some((word, detail)) => {
                            format!("{word} {f} at {}%: {detail}", (r.weight * 100.0).round())
                        }
                        None => with_label(format!(
                            "ROLLING OUT {f} v{} ({}%)",
                            r.new_version,
                            (r.weight * 100.0).round()
                        )),
                    },
                    None => with_label(format!("ROLLING OUT {f}")),
                },
                Outcome::AlreadyLive => with_label(format!("ALREADY LIVE {f} v{}", v(d.version))),
                Outcome::WouldDeploy => with_label(format!("DRY RUN {f} would deploy")),
                Outcome::WouldRollBack => {
                    format!("DRY RUN {f} would roll back v{}", v(d.previous_version))
                }
                Outcome::Skipped => with_label(format!("SKIPPED {f}")),
                Outcome::Dispatched => with_label(format!("DISPATCHED {f}")),
                Outcome::WouldDispatch => with_label(format!("DRY RUN {f} would dispatch")),
                Outcome::InSync => format!("IN SYNC {f} v{}", v(d.version)),
                Outcome::Drift => format!("DRIFT {f} {} is v{}", d.alias, v(d.version)),
                Outcome::Rejected => format!("REJECTED IMAGE {f} stays on v{}", v(d.version)),
                Outcome::Deferred => format!("DEFERRED {f}"),
                Outcome::ReadyToPromote => with_label(format!("READY TO PROMOTE {f}")),
            }
        }
    };
    ascii_subject(&s, MAX_SUBJECT)
}

/// The commands a person can paste: the Lambda invoke (works from anywhere with the AWS CLI) and
/// the local CLI equivalent.
pub(super) fn commands(settings: &RenderSettings, payload: &Value, cli: &str) -> Vec<String> {
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
pub(super) fn next_steps(
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
        Outcome::RollingOut => match &d.rollout {
            Some(r) => vec![
                (
                    format!("To send all traffic to version {} now:", r.new_version),
                    commands(
                        settings,
                        &json!({"action": "promote", "function": f}),
                        &format!("promote --function {f}"),
                    ),
                ),
                (
                    format!(
                        "To stop the rollout (all traffic back on version {}):",
                        r.stable_version
                    ),
                    commands(
                        settings,
                        &json!({"action": "rollback", "function": f}),
                        &format!("rollback --function {f}"),
                    ),
                ),
            ],
            None => Vec::new(),
        },
        Outcome::Failed if report.action == ActionKind::Deploy => match &report.image_uri {
            Some(uri) => vec![(
                if d.failed_step == Some(crate::report::Step::ImageChecks) {
                    "Production is unchanged: nothing to roll back. Push a fixed image; to retry this one once ECR's findings or signature change:"
                } else {
                    "Production is unchanged: nothing to roll back. To retry this image after a fix:"
                }
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
pub(super) fn headline(report: &Report, d: Option<&Deployment>) -> String {
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
        Outcome::Failed if d.failed_step == Some(crate::report::Step::Rollout) => format!(
            "The rollout of {f} was stopped: alias {a} serves version {} again. {}",
            v(d.version),
            d.reason.as_deref().unwrap_or_default()
        ),
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
        Outcome::RollingOut => match &d.rollout {
            Some(r) => format!(
                "{f} is rolling out: alias {a} sends {}% of traffic to version {} and the rest to version {}; {}.",
                (r.weight * 100.0).round(),
                r.new_version,
                r.stable_version,
                match &r.next_check_at {
                    Some(t) => format!("next check at {t}"),
                    None => "no check is scheduled".to_owned(),
                }
            ),
            None => format!("{f} is rolling out through alias {a}."),
        },
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
        Outcome::Dispatched => format!(
            "{f} was handed to its own run of the deployer, which deploys it and reports on its own."
        ),
        Outcome::WouldDispatch => format!("Dry run: {f} would be handed to its own run."),
        Outcome::InSync | Outcome::Drift | Outcome::Rejected | Outcome::Deferred => {
            format!("{f}: {}", d.reason.as_deref().unwrap_or(d.outcome.as_str()))
        }
        Outcome::ReadyToPromote => format!(
            "{f} is ready to be promoted: {}",
            d.reason.as_deref().unwrap_or_default()
        ),
    }
}

/// `BLOCKED (scan COMPLETE: CRITICAL 2, HIGH 5)`, `passed (scan COMPLETE: no findings)`, or for a
/// rollback's target `scan COMPLETE: HIGH 1 (for information: rollbacks are not gated)`.
pub(super) fn image_checks_line(c: &crate::report::ImageChecksResult) -> String {
    use crate::report::ImageVerdict;
    let scan = match c.scan_status.as_str() {
        "NONE" => "no scan".to_owned(),
        "UNREADABLE" => "scan unreadable".to_owned(),
        s if c.counts.iter().next().is_some() || matches!(s, "COMPLETE" | "ACTIVE") => {
            format!("scan {s}: {}", c.counts.summary())
        }
        s => format!("scan {s}"),
    };
    let scan = crate::text::one_line(&scan);
    match c.verdict {
        ImageVerdict::Passed => format!("passed ({scan})"),
        ImageVerdict::Blocked => format!("BLOCKED ({scan})"),
        ImageVerdict::NotGated => {
            format!("{scan} (for information: rollbacks are not gated)")
        }
    }
}

/// Plain text for people (email and the default body).
mod chatbot;
mod email;
mod machine;

pub use chatbot::chatbot;
pub use email::text;
pub use machine::machine;
