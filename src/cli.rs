//! The command-line door: the same engine as the Lambda, for a terminal, CI, or tests. Flags are
//! parsed into the same typed [`Request`] a payload becomes, checked before anything touches AWS.

use crate::config::{Config, VARIABLES};
use crate::engine::{Invocation, Response};
use crate::input::{
    DeployRequest, DeploySource, HistoryRequest, PromoteRequest, Request, RollbackRequest,
    StatusRequest,
};
use crate::types::{AliasName, FunctionRef, ImageRef, Reason, Repository, Tag, Version};
use clap::{Parser, Subcommand};
use serde_json::Value;
use std::io::Read;
use std::process::ExitCode;

/// Exit codes: 0 deployed, already live or skipped; 1 a deployment failed (or status could not read
/// a function); 2 bad input or configuration.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

const ABOUT: &str = "Deploys Lambda functions when their container image lands in ECR: smoke-tested, zero downtime, instant rollback.";

fn long_about() -> String {
    let vars: Vec<String> = VARIABLES
        .iter()
        .map(|(name, what)| format!("  {name}: {what}"))
        .collect();
    format!(
        "{ABOUT}\n\nRuns as a Lambda when AWS_LAMBDA_RUNTIME_API is set, otherwise as this CLI. Configuration comes from the environment:\n{}\n\nAWS credentials, region and endpoint come from the usual AWS environment (AWS_REGION, AWS_PROFILE, AWS_MAX_ATTEMPTS; AWS_ENDPOINT_URL points it at an emulator).\n\nExit codes: 0 deployed, already live or skipped; 1 a deployment failed, or status could not read a function; 2 invalid payload, flags or configuration.",
        vars.join("\n")
    )
}

#[derive(Parser, Debug)]
#[command(name = "self-deployer", version, about = ABOUT, long_about = long_about())]
pub struct Cli {
    /// Also write the run's CloudWatch metrics (EMF records, one JSON object a line) to stderr, as
    /// the Lambda writes them to its log. Off by default, so terminals stay clean.
    #[arg(long, global = true)]
    pub metrics: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Process one payload (an ECR Image Action event or a manual action) exactly as the Lambda
    /// would, and print the report JSON on stdout.
    Handle {
        /// File holding the JSON payload; `-` or nothing reads stdin.
        #[arg(value_name = "FILE|-")]
        file: Option<String>,
    },
    /// Move the alias back to the version it pointed to before the current one (or to --to N), or
    /// clear a canary split. Instant: no rebuild, one guarded UpdateAlias.
    Rollback {
        /// Function name or ARN, as in DEPLOYER_TARGETS.
        #[arg(long)]
        function: FunctionRef,
        /// Version to roll back to (default: the one live before the current one).
        #[arg(long, value_name = "N")]
        to: Option<Version>,
        /// Alias to move (default: the target's alias).
        #[arg(long)]
        alias: Option<AliasName>,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<Reason>,
        /// Report what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Roll back even if the version's image no longer exists in ECR.
        #[arg(long)]
        force: bool,
    },
    /// Run the full pipeline by hand: one function and an image pinned by digest, or a
    /// repository's tag (its current digest) to that repository's target functions.
    Deploy {
        /// Function name or ARN (with --image).
        #[arg(long, requires = "image", conflicts_with_all = ["repository", "tag"])]
        function: Option<FunctionRef>,
        /// Image URI pinned by digest: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO@sha256:...
        #[arg(long, requires = "function")]
        image: Option<ImageRef>,
        /// ECR repository (with --tag).
        #[arg(long, requires = "tag")]
        repository: Option<Repository>,
        /// Tag whose current digest to deploy (with --repository).
        #[arg(long, requires = "repository")]
        tag: Option<Tag>,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<Reason>,
        /// Report what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// During a rollout: the new version takes all traffic now, and the pending check is deleted.
    Promote {
        /// Function name or ARN, as in DEPLOYER_TARGETS.
        #[arg(long)]
        function: FunctionRef,
        /// Alias (default: the target's alias).
        #[arg(long)]
        alias: Option<AliasName>,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<Reason>,
    },
    /// Where every configured function's alias points, what it runs, and what a rollback would do.
    /// Never changes anything.
    Status {
        /// Only this function.
        #[arg(long)]
        function: Option<FunctionRef>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The versions of one function, newest first, from what the deployer wrote into their
    /// descriptions (digest, tag, push time, previous version); where each alias points and how it
    /// got there; which versions were rolled back. Never changes anything.
    History {
        /// Function name or ARN, as in DEPLOYER_TARGETS.
        #[arg(long)]
        function: FunctionRef,
        /// How many versions to show (default 20, at most 1000).
        #[arg(long, value_name = "N", value_parser = parse_limit)]
        limit: Option<u32>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_limit(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    crate::input::check_history_limit(n)
}

impl Command {
    /// The request these flags ask for; `Handle` reads a payload instead.
    pub fn request(&self) -> Option<Request> {
        let blank = |r: &Option<Reason>| r.clone().filter(|r| !r.is_blank());
        Some(match self {
            Command::Handle { .. } => return None,
            Command::Rollback {
                function,
                to,
                alias,
                reason,
                dry_run,
                force,
            } => Request::Rollback(RollbackRequest {
                function: function.clone(),
                version: *to,
                alias: alias.clone(),
                reason: blank(reason),
                dry_run: *dry_run,
                force: *force,
            }),
            Command::Deploy {
                function,
                image,
                repository,
                tag,
                reason,
                dry_run,
            } => {
                let source = match (function, image, repository, tag) {
                    (Some(function), Some(image), _, _) => DeploySource::Image {
                        function: function.clone(),
                        image: image.clone(),
                    },
                    (_, _, Some(repository), Some(tag)) => DeploySource::Tag {
                        repository: repository.clone(),
                        tag: tag.clone(),
                    },
                    // clap's `requires` makes every other combination a usage error.
                    _ => return None,
                };
                Request::Deploy(DeployRequest {
                    source,
                    pushed: None,
                    reason: blank(reason),
                    dry_run: *dry_run,
                })
            }
            Command::Promote {
                function,
                alias,
                reason,
            } => Request::Promote(PromoteRequest {
                function: function.clone(),
                alias: alias.clone(),
                reason: blank(reason),
            }),
            Command::Status { function, .. } => Request::Status(StatusRequest {
                function: function.clone(),
            }),
            Command::History {
                function, limit, ..
            } => Request::History(HistoryRequest {
                function: function.clone(),
                limit: *limit,
            }),
        })
    }
}

pub async fn main(cli: Cli) -> ExitCode {
    // The request first: bad input is reported before the AWS configuration is even loaded.
    let request = match cli.command.request() {
        Some(r) => r,
        None => match &cli.command {
            Command::Handle { file } => match read_payload(file.as_deref()) {
                Ok(r) => r,
                Err(e) => return invalid(&e),
            },
            _ => return invalid("deploy needs --function and --image, or --repository and --tag"),
        },
    };
    let table = matches!(
        cli.command,
        Command::Status { json: false, .. } | Command::History { json: false, .. }
    );
    run(request, table, cli.metrics).await
}

fn read_payload(file: Option<&str>) -> Result<Request, String> {
    let text = match file {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the payload from stdin: {e}"))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the payload from {path}: {e}"))?,
    };
    let payload: Value =
        serde_json::from_str(&text).map_err(|e| format!("invalid payload: not JSON: {e}"))?;
    crate::input::parse_request(&payload, chrono::Utc::now())
        .map_err(|e| format!("invalid payload: {e}"))
}

async fn run(request: Request, table: bool, metrics: bool) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return invalid(&format!("invalid configuration: {e}")),
    };
    let sdk = match crate::setup::sdk_config(&config).await {
        Ok(sdk) => sdk,
        Err(e) => return invalid(&e),
    };
    // Standard output is the report: metrics, when asked for, go to stderr.
    let metrics = if metrics {
        crate::signals::MetricsOut::Stderr
    } else {
        crate::signals::MetricsOut::Off
    };
    let signals = crate::setup::signals(&config, &sdk, metrics);
    let engine = crate::setup::engine(config, &sdk).with_signals(signals);
    // Images are accepted only from our own account's registry (or a target's registry_account):
    // learn which account that is, only when the request may deploy something.
    if request.may_deploy() {
        match crate::setup::discover_home(&sdk).await {
            Ok(home) => engine.set_home(home),
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell this deployer's account: images will be refused")
            }
        }
    }
    match engine.run(request, Invocation::default()).await {
        Ok(response) => {
            match (&response, table) {
                (Response::Status(s), true) => {
                    print!("{}", crate::actions::status::render_table(s))
                }
                (Response::History(h), true) => {
                    print!("{}", crate::actions::history::render_table(h))
                }
                _ => match serde_json::to_string_pretty(&response) {
                    Ok(json) => println!("{json}"),
                    Err(e) => eprintln!("error: could not render the report: {e}"),
                },
            }
            if response.is_failure() {
                ExitCode::from(EXIT_FAILED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => invalid(&format!("invalid payload: {e}")),
    }
}

fn invalid(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flags(args: &[&str]) -> Request {
        let mut argv = vec!["self-deployer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("valid flags")
            .command
            .request()
            .expect("a request")
    }

    fn payload(v: Value) -> Request {
        crate::input::parse_request(&v, chrono::Utc::now()).expect("valid payload")
    }

    #[test]
    fn flags_and_payloads_make_equal_requests() {
        let image = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
            "a".repeat(64)
        );
        let cases = [
            (
                flags(&[
                    "rollback",
                    "--function",
                    "api",
                    "--to",
                    "3",
                    "--alias",
                    "prod",
                    "--reason",
                    "bad\u{202E} release",
                    "--dry-run",
                    "--force",
                ]),
                payload(
                    json!({"action": "rollback", "function": "api", "version": "3", "alias": "prod", "reason": "bad\u{202E} release", "dry_run": true, "force": true}),
                ),
            ),
            (
                flags(&["rollback", "--function", "api"]),
                payload(json!({"action": "rollback", "function": "api"})),
            ),
            (
                flags(&[
                    "deploy",
                    "--function",
                    "api",
                    "--image",
                    &image,
                    "--reason",
                    "hotfix",
                ]),
                payload(
                    json!({"action": "deploy", "function": "api", "image_uri": image, "reason": "hotfix"}),
                ),
            ),
            (
                flags(&["deploy", "--repository", "api", "--tag", "v2", "--dry-run"]),
                payload(
                    json!({"action": "deploy", "repository": "api", "tag": "v2", "dry_run": true}),
                ),
            ),
            (
                flags(&["status", "--function", "api"]),
                payload(json!({"action": "status", "function": "api"})),
            ),
            (
                flags(&["status", "--json"]),
                payload(json!({"action": "status"})),
            ),
            (
                flags(&["history", "--function", "api"]),
                payload(json!({"action": "history", "function": "api"})),
            ),
            (
                flags(&["history", "--function", "api", "--limit", "5", "--json"]),
                payload(json!({"action": "history", "function": "api", "limit": 5})),
            ),
            (
                flags(&["--metrics", "history", "--function", "api"]),
                payload(json!({"action": "history", "function": "api"})),
            ),
            (
                flags(&["rollback", "--function", "api", "--metrics"]),
                payload(json!({"action": "rollback", "function": "api"})),
            ),
        ];
        for (from_flags, from_payload) in cases {
            assert_eq!(from_flags, from_payload);
        }
    }

    #[test]
    fn bad_flags_are_refused_by_the_same_checks_as_payloads() {
        let err = |args: &[&str]| {
            let mut argv = vec!["self-deployer"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).unwrap_err().to_string()
        };
        assert!(
            err(&["rollback", "--function", "api", "--to", "$LATEST"])
                .contains("is not a published version number")
        );
        assert!(err(&["rollback", "--function", "a b"]).contains("is not a function name"));
        assert!(
            err(&["deploy", "--function", "f", "--image", "api:v1"])
                .contains("is not pinned by digest")
        );
        assert!(
            err(&["deploy", "--repository", "API", "--tag", "v1"])
                .contains("is not an ECR repository name")
        );
        assert!(
            err(&["history", "--function", "api", "--limit", "0"])
                .contains("0 is out of range: it must be between 1 and 1000")
        );
        assert!(
            err(&["history", "--function", "api", "--limit", "x"])
                .contains("\"x\" is not a whole number")
        );
        assert!(err(&["history"]).contains("--function"));
    }

    #[test]
    fn metrics_are_an_opt_in_flag_anywhere_on_the_line() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["self-deployer"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).expect("valid flags").metrics
        };
        assert!(!parse(&["status"]));
        assert!(parse(&["--metrics", "status"]));
        assert!(parse(&[
            "deploy",
            "--repository",
            "api",
            "--tag",
            "v1",
            "--metrics"
        ]));
    }

    #[test]
    fn help_lists_every_variable() {
        let help = long_about();
        for (name, _) in VARIABLES {
            assert!(help.contains(name), "{name} missing from --help");
        }
        for var in [
            crate::config::TARGETS_VAR,
            crate::config::ALIAS_VAR,
            crate::config::TOPIC_VAR,
            crate::config::TIMEOUT_VAR,
            crate::config::API_TIMEOUT_VAR,
            crate::config::PARALLEL_VAR,
            crate::config::DRY_RUN_VAR,
            crate::config::NOTIFY_SKIPPED_VAR,
            crate::config::KEEP_VERSIONS_VAR,
            crate::config::ROLLOUT_VAR,
            crate::config::SCHEDULER_ROLE_VAR,
            crate::config::SCHEDULE_GROUP_VAR,
            crate::config::FUNCTION_ARN_VAR,
            crate::config::METRICS_VAR,
            crate::config::METRICS_NAMESPACE_VAR,
            crate::config::EVENT_BUS_VAR,
        ] {
            assert!(help.contains(var), "{var} missing from --help");
        }
    }
}
