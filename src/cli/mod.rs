//! The command-line door: the same engine as the Lambda, for a terminal, CI, or tests. Flags are
//! parsed into the same typed [`Request`] a payload becomes, checked before anything touches AWS.

use crate::config::{Config, VARIABLES};
use crate::engine::{Invocation, Response};
use crate::input::Request;
use crate::types::{AliasName, Digest, FunctionRef, ImageRef, Reason, Repository, Tag, Version};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod payload;
pub mod render;
mod request;

/// Exit codes: 0 deployed, already live or skipped; 1 a deployment failed (or status could not read
/// a function); 2 bad input or configuration.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
/// `status --check`: some function is behind, drifting, rolling out or on a rejected image;
/// `status --repository`: not every function is live on the image yet.
pub const EXIT_BEHIND: u8 = 3;

const ABOUT: &str = "Deploys Lambda functions when their container image lands in ECR: smoke-tested, zero downtime, instant rollback.";

fn long_about() -> String {
    let vars: Vec<String> = VARIABLES
        .iter()
        .map(|(name, what)| format!("  {name}: {what}"))
        .collect();
    format!(
        "{ABOUT}\n\nRuns as a Lambda when AWS_LAMBDA_RUNTIME_API is set, otherwise as this CLI. Configuration comes from the environment:\n{}\n\nAWS credentials, region and endpoint come from the usual AWS environment (AWS_REGION, AWS_PROFILE, AWS_MAX_ATTEMPTS; AWS_ENDPOINT_URL points it at an emulator).\n\nExit codes: 0 deployed, already live or skipped; 1 a deployment failed, or status could not read a function; 2 invalid payload, flags or configuration; 3 (status --check) something is not in sync, (status --repository) not every function is live on the image.",
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
        #[arg(
            long,
            required_unless_present = "repository",
            conflicts_with = "repository"
        )]
        function: Option<FunctionRef>,
        /// Every configured function of this repository (a fleet rollback): each back to the
        /// version before its current one, dispatched in batches above DEPLOYER_INLINE_MAX.
        #[arg(long, conflicts_with_all = ["to", "alias", "force"])]
        repository: Option<Repository>,
        /// With --repository: only the functions whose alias runs this image digest.
        #[arg(long, requires = "repository", conflicts_with = "function")]
        digest: Option<Digest>,
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
        /// A fleet's progress: how many of this repository's functions are live on --digest (by
        /// default its newest image), which failed, which are in progress; exit 3 until all are
        /// live.
        #[arg(long, conflicts_with_all = ["function", "check"])]
        repository: Option<Repository>,
        /// With --repository: the image to count (default: the repository's newest).
        #[arg(long, requires = "repository")]
        digest: Option<Digest>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// For CI: compare every configured function with its repository's newest image, one line
        /// each; exit 0 when all are in sync, 3 when any is behind, drifting or rolling out.
        #[arg(long, conflicts_with = "function")]
        check: bool,
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
        /// Also the four DORA figures, from the version records alone.
        #[arg(long)]
        dora: bool,
        /// The DORA window in days (default 30, at most 365).
        #[arg(long, value_name = "N", requires = "dora", value_parser = parse_days)]
        days: Option<u32>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The sweep the schedule runs: deploy every configured function's newest image whose push was
    /// missed, report hand-moved aliases (drift), never retry a rejected image.
    Reconcile {
        /// Report what the sweep would do; deploy nothing, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Promote the digest the earlier stage runs to the stage that follows it (`after`), through
    /// the full pipeline, once it has served it for the bake (or now, with --now) and its alarms
    /// are quiet.
    PromoteStage {
        /// The earlier stage's function (the one `after` names).
        #[arg(long)]
        from: FunctionRef,
        /// The later stage, by any of its functions: all of its target's functions are promoted.
        #[arg(long)]
        to: FunctionRef,
        /// Skip the bake: promote what the earlier stage runs now.
        #[arg(long)]
        now: bool,
        /// Why: goes into the report and the notification.
        #[arg(long)]
        reason: Option<Reason>,
    },
}

fn parse_days(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    crate::input::check_dora_days(n)
}

fn parse_limit(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    crate::input::check_history_limit(n)
}

pub async fn main(cli: Cli) -> ExitCode {
    // The request first: bad input is reported before the AWS configuration is even loaded.
    let request = match cli.command.request() {
        Some(r) => r,
        None => match &cli.command {
            Command::Handle { file } => match payload::read(file.as_deref()) {
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
    let check = matches!(cli.command, Command::Status { check: true, .. });
    run(request, table, check, cli.metrics).await
}

async fn run(request: Request, table: bool, check: bool, metrics: bool) -> ExitCode {
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
        Ok(Response::Report(report)) if check => {
            if table {
                print!("{}", render::check_table(&report));
            } else {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => eprintln!("error: could not render the report: {e}"),
                }
            }
            ExitCode::from(render::check_exit(&report))
        }
        Ok(Response::FleetStatus(s)) => ExitCode::from(render::print_fleet_status(&s, table)),
        Ok(response) => {
            match (&response, table) {
                (Response::Status(s), true) => {
                    print!("{}", render::status_table(s))
                }
                (Response::History(h), true) => {
                    print!("{}", render::history_table(h))
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
mod tests;
