//! The command-line door: the same engine as the Lambda, for a terminal, CI, or tests.

use crate::config::Config;
use crate::engine::{Engine, Response};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::io::Read;
use std::process::ExitCode;

/// Exit codes: 0 deployed, already live or skipped; 1 a deployment failed; 2 bad input or configuration.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "self-deployer",
    version,
    about = "Deploys Lambda functions when their container image lands in ECR: smoke-tested, zero downtime, instant rollback.",
    long_about = "Deploys Lambda functions when their container image lands in ECR: smoke-tested, zero downtime, instant rollback.\n\n\
        Runs as a Lambda when AWS_LAMBDA_RUNTIME_API is set, otherwise as this CLI. Configuration comes from the \
        environment (DEPLOYER_TARGETS, DEPLOYER_ALIAS, DEPLOYER_TOPIC_ARN, DEPLOYER_UPDATE_TIMEOUT_SECS, \
        DEPLOYER_MAX_PARALLEL); AWS credentials, region and endpoint from the usual AWS environment \
        (AWS_ENDPOINT_URL points it at an emulator).\n\n\
        Exit codes: 0 deployed, already live or skipped; 1 a deployment failed; 2 invalid payload or configuration."
)]
pub struct Cli {
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
    /// Move the alias back to the version it pointed to before the current one (or to --to N).
    /// Instant: no rebuild, one guarded UpdateAlias.
    Rollback {
        /// Function name or ARN, as in DEPLOYER_TARGETS.
        #[arg(long)]
        function: String,
        /// Version to roll back to (default: the one live before the current one).
        #[arg(long, value_name = "N")]
        to: Option<String>,
        /// Alias to move (default: the target's alias).
        #[arg(long)]
        alias: Option<String>,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<String>,
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
        function: Option<String>,
        /// Image URI pinned by digest: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO@sha256:...
        #[arg(long, requires = "function")]
        image: Option<String>,
        /// ECR repository (with --tag).
        #[arg(long, requires = "tag")]
        repository: Option<String>,
        /// Tag whose current digest to deploy (with --repository).
        #[arg(long, requires = "repository")]
        tag: Option<String>,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<String>,
        /// Report what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Where every configured function's alias points, what it runs, and what a rollback would do.
    Status {
        /// Only this function.
        #[arg(long)]
        function: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Handle { file } => match read_input(file.as_deref()) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(payload) => run(payload, true).await,
                Err(e) => invalid(&format!("invalid payload: payload: not JSON: {e}")),
            },
            Err(e) => invalid(&e),
        },
        Command::Rollback {
            function,
            to,
            alias,
            reason,
            dry_run,
            force,
        } => {
            let mut p = json!({"action": "rollback", "function": function, "dry_run": dry_run, "force": force});
            insert(&mut p, "version", to);
            insert(&mut p, "alias", alias);
            insert(&mut p, "reason", reason);
            run(p, true).await
        }
        Command::Deploy {
            function,
            image,
            repository,
            tag,
            reason,
            dry_run,
        } => {
            let mut p = json!({"action": "deploy", "dry_run": dry_run});
            insert(&mut p, "function", function);
            insert(&mut p, "image_uri", image);
            insert(&mut p, "repository", repository);
            insert(&mut p, "tag", tag);
            insert(&mut p, "reason", reason);
            run(p, true).await
        }
        Command::Status { function, json } => {
            let mut p = json!({"action": "status"});
            insert(&mut p, "function", function);
            run(p, json).await
        }
    }
}

fn insert(p: &mut Value, key: &str, v: Option<String>) {
    if let (Some(v), Some(obj)) = (v, p.as_object_mut()) {
        obj.insert(key.to_owned(), Value::String(v));
    }
}

/// Validates the configuration, then runs the payload through the engine (which validates the
/// payload before any AWS call).
async fn run(payload: Value, as_json: bool) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return invalid(&format!("invalid configuration: {e}")),
    };
    let engine = Engine::from_aws_env(config).await;
    // Images are accepted only from our own account's registry (or a target's registry_account):
    // learn which account that is, only when the payload may deploy something.
    let deploys = payload.get("source").is_some()
        || payload.get("action").and_then(Value::as_str) == Some("deploy");
    if deploys && let Err(e) = engine.discover_home().await {
        tracing::warn!(error = %e, "cannot tell this deployer's account: images will be refused");
    }
    match engine.handle(&payload).await {
        Ok(response) => {
            match (&response, as_json) {
                (Response::Status(s), false) => print!("{}", crate::status::render_table(s)),
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

fn read_input(file: Option<&str>) -> Result<String, String> {
    match file {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the payload from stdin: {e}"))?;
            Ok(s)
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the payload from {path}: {e}")),
    }
}

fn invalid(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_INVALID)
}
