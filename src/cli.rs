//! The command-line door: the same engine as the Lambda, for a terminal, CI, or tests.

use crate::config::Config;
use crate::engine::Engine;
use clap::{Parser, Subcommand};
use serde_json::Value;
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
    /// Process one payload (an ECR Image Action event) exactly as the Lambda would, print the report
    /// JSON on stdout.
    Handle {
        /// File holding the JSON payload; `-` or nothing reads stdin.
        #[arg(value_name = "FILE|-")]
        file: Option<String>,
    },
}

pub async fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Handle { file } => handle(file.as_deref()).await,
    }
}

async fn handle(file: Option<&str>) -> ExitCode {
    // Validate everything local before any AWS client exists.
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return invalid(&format!("invalid configuration: {e}")),
    };
    let text = match read_input(file) {
        Ok(t) => t,
        Err(e) => return invalid(&e),
    };
    let payload: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return invalid(&format!("invalid payload: payload: not JSON: {e}")),
    };
    let engine = Engine::from_aws_env(config).await;
    match engine.handle(&payload).await {
        Ok(report) => {
            match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: could not render the report: {e}"),
            }
            if report.is_failure() {
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
