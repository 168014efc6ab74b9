//! The engine: one validated request in, one answer out. The Lambda runtime and the CLI are two
//! thin doors into this same dispatcher; each action lives in its own file under `actions/`.

use crate::actions::history::HistoryReport;
use crate::actions::status::StatusReport;
use crate::actions::{Deps, advance, alarm, deploy, history, promote, reconcile, rollback, status};
use crate::config::Config;
use crate::gateway::budget::Budget;
use crate::gateway::cloudwatch::CloudWatch;
use crate::gateway::scheduler::Scheduler;
use crate::gateway::{Lambda, ecr::Ecr};
use crate::input::{InputError, Request, parse_request};
use crate::notify::Notifier;
use crate::ops::Ctx;
use crate::ops::labels::LabelReads;
use crate::plan::Home;
use crate::report::Report;
use crate::rollout::Rollouts;
use crate::signals::Signals;
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

#[derive(Clone, Debug)]
pub struct Engine {
    config: Config,
    lambda: Lambda,
    ecr: Ecr,
    notifier: Notifier,
    /// Metrics and deployment events after each run.
    signals: Signals,
    /// This deployer's account and region: set once (from the function ARN in Lambda, from STS
    /// in the CLI). Unknown means images are refused, never trusted.
    home: Arc<OnceLock<Home>>,
    scheduler: Option<Scheduler>,
    cloudwatch: Option<CloudWatch>,
    /// This deployer's own function ARN, from the Lambda context: what rollout checks invoke
    /// unless DEPLOYER_FUNCTION_ARN says otherwise.
    self_arn: Arc<OnceLock<String>>,
    /// Roles of targets in other accounts, assumed once per engine.
    accounts: crate::ops::accounts::Accounts,
    /// The HTTPS client image config blobs are fetched with (each run reads an image's labels once).
    blobs: Result<crate::gateway::https::Https, String>,
}

/// What one invocation brings besides its payload.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The Lambda request id: names this run in what it writes to AWS. A fresh id when `None`.
    pub request_id: Option<String>,
    /// When the runtime will stop this invocation (Lambda only).
    pub deadline: Option<SystemTime>,
}

/// What a request gets back: a report of a deploy or rollback, the status of every function, or
/// the history of one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Report(Box<Report>),
    Status(StatusReport),
    History(HistoryReport),
    /// A fleet's progress on one image (`status --repository`).
    FleetStatus(crate::actions::fleet_status::FleetStatus),
}

impl Response {
    /// The deploy or rollback report, if this is one.
    pub fn into_report(self) -> Option<Report> {
        match self {
            Response::Report(r) => Some(*r),
            Response::Status(_) | Response::History(_) | Response::FleetStatus(_) => None,
        }
    }

    /// A deployment failed, or a status could not be read everywhere.
    pub fn is_failure(&self) -> bool {
        match self {
            Response::Report(r) => r.is_failure(),
            Response::Status(s) => s.is_failure(),
            Response::History(h) => h.is_failure(),
            Response::FleetStatus(s) => s.is_failure(),
        }
    }
}

impl Engine {
    pub fn new(
        config: Config,
        lambda: aws_sdk_lambda::Client,
        ecr: aws_sdk_ecr::Client,
        notifier: Notifier,
    ) -> Self {
        let blobs = LabelReads::blob_client(config.api_timeout);
        Self {
            config,
            blobs,
            lambda: Lambda::new(lambda),
            ecr: Ecr::new(ecr),
            notifier,
            signals: Signals::off(),
            home: Default::default(),
            scheduler: None,
            cloudwatch: None,
            self_arn: Default::default(),
            accounts: Default::default(),
        }
    }

    /// Tells GitHub about each function's run (targets with `github`): one more sink.
    pub fn with_github(mut self, sink: crate::notify::github::GitHubSink) -> Self {
        self.notifier = self.notifier.with(Arc::new(sink));
        self
    }

    /// Gives the engine STS, for targets with `assume_role_arn`.
    pub fn with_sts(mut self, sts: aws_sdk_sts::Client) -> Self {
        self.accounts =
            crate::ops::accounts::Accounts::new(Some(crate::gateway::sts::Sts::new(sts)));
        self
    }

    /// Gives the engine what rollouts need: EventBridge Scheduler for the checks, CloudWatch for
    /// the gates.
    pub fn with_rollouts(
        mut self,
        scheduler: aws_sdk_scheduler::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
    ) -> Self {
        self.scheduler = Some(Scheduler::new(scheduler));
        self.cloudwatch = Some(CloudWatch::new(cloudwatch));
        self
    }

    /// Sets this deployer's own function ARN (first call wins), without a qualifier. An ARN the
    /// runtime gives that is not a function's is not kept: schedules would invoke nothing.
    pub fn set_self_arn(&self, invoked_arn: &str) {
        if let Ok(arn) = invoked_arn.parse::<crate::types::FunctionArn>() {
            let _ = self.self_arn.set(arn.unqualified().to_string());
        }
    }

    /// Metrics and deployment events after each deploy or rollback (none by default).
    pub fn with_signals(mut self, signals: Signals) -> Self {
        self.signals = signals;
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets where this deployer runs (first call wins: it does not change while it runs).
    pub fn set_home(&self, home: Home) {
        let _ = self.home.set(home);
    }

    pub fn home(&self) -> Option<&Home> {
        self.home.get()
    }

    /// Validates a payload against this engine's clock. No AWS call.
    pub fn parse(&self, payload: &Value) -> Result<Request, InputError> {
        parse_request(payload, self.lambda.clock().now_utc())
    }

    /// Validates the payload (no AWS call before it is known to be good) and runs it.
    pub async fn handle(&self, payload: &Value) -> Result<Response, InputError> {
        let request = self.parse(payload)?;
        self.run(request, Invocation::default()).await
    }

    /// Runs a validated request and hands a deploy or rollback report to the notifier. Errs only
    /// when the request names something the configuration does not allow.
    pub async fn run(&self, request: Request, inv: Invocation) -> Result<Response, InputError> {
        let deps = Deps {
            config: &self.config,
            ctx: Ctx {
                // This run's share of the rate budget: a batch shares it with the other runs of
                // its fan-out; throttles are waited out only while a step could still start.
                lambda: self.lambda.with_budget(Budget::new(
                    self.config.fleet.control_plane_rps,
                    crate::fanout::runs_sharing(&request),
                    inv.deadline.map(|d| d - crate::ops::DEADLINE_RESERVE),
                )),
                ecr: self.ecr.clone(),
                update_timeout: self.config.update_timeout,
                provisioned_wait: self.config.provisioned_wait,
                run_id: run_id(inv.request_id.as_deref()),
                deadline: inv.deadline,
                rollouts: Rollouts {
                    scheduler: self.scheduler.clone(),
                    cloudwatch: self.cloudwatch.clone(),
                    group: self.config.scheduler.group.clone(),
                    role_arn: self.config.scheduler.role_arn.clone(),
                    target_arn: self
                        .config
                        .scheduler
                        .function_arn
                        .clone()
                        .or_else(|| self.self_arn.get().cloned()),
                },
                accounts: self.accounts.clone(),
                notifier: self.notifier.clone(),
                // A fresh cache per run; one read bounded like the GitHub start it feeds.
                labels: LabelReads::new(self.blobs.clone(), self.config.api_timeout * 2),
            },
            home: self.home(),
        };
        // Each branch is boxed: the pipeline's future is large.
        let mut report = match &request {
            Request::Image(ev) => {
                Box::pin(deploy::on_image_event(&deps, ev, self.config.dry_run)).await
            }
            Request::ImageScan(ev) => deploy::on_scan_event(ev),
            Request::Deploy(d) => Box::pin(deploy::on_deploy(&deps, d)).await?,
            Request::Rollback(r) => Box::pin(rollback::on_rollback(&deps, r)).await?,
            Request::Advance(a) => Box::pin(advance::on_advance(&deps, a)).await?,
            Request::Promote(p) => Box::pin(promote::on_promote(&deps, p)).await?,
            Request::Alarm(a) => Box::pin(alarm::on_alarm(&deps, a)).await,
            Request::PromoteStage(p) => {
                Box::pin(crate::actions::promote_stage::on_promote_stage(&deps, p)).await?
            }
            Request::Fleet(crate::input::FleetRequest::Status(s)) => {
                return Box::pin(crate::actions::fleet_status::on_fleet_status(&deps, s))
                    .await
                    .map(Response::FleetStatus);
            }
            Request::Status(s) => {
                return Box::pin(status::on_status(&deps, s))
                    .await
                    .map(Response::Status);
            }
            Request::History(h) => {
                return Box::pin(history::on_history(&deps, h))
                    .await
                    .map(Response::History);
            }
            // A check (status --check) only reads: no metrics, no notification.
            Request::Reconcile(r) if r.check => {
                let report = Box::pin(reconcile::on_reconcile(&deps, r)).await;
                return Ok(Response::Report(Box::new(report)));
            }
            Request::Reconcile(r) => Box::pin(reconcile::on_reconcile(&deps, r)).await,
            Request::Fleet(f) => Box::pin(crate::actions::fleet::on_fleet(&deps, f)).await?,
        };
        report.throttles = deps.ctx.lambda.budget().throttles();
        // A function some later stage follows was deployed: schedule that stage's promotion check.
        Box::pin(crate::stages::schedule_checks(
            &self.config,
            &deps.ctx,
            &mut report,
        ))
        .await;
        let now = self.lambda.clock().now();
        Box::pin(self.signals.after_run(&mut report, &deps.ctx.run_id, now)).await;
        // A fleet told in one summary: its batches tell people only failures, its checks only the
        // end; sinks that track every run (GitHub deployments) get the whole report.
        let told = crate::fanout::quiet::to_tell(&request, &report);
        self.notifier
            .notify_within(&report, &told, inv.deadline)
            .await
            .into_report(&mut report);
        tracing::info!(outcome = report.outcome.as_str(), reason = ?report.reason, run = %deps.ctx.run_id, "run finished");
        Ok(Response::Report(Box::new(report)))
    }
}

/// The run's name in what it writes: the Lambda request id, or a fresh one (time and a counter,
/// unique within this process and practically across processes). Only `[0-9A-Za-z._-]`.
fn run_id(request_id: Option<&str>) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id: String = request_id
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    if !id.is_empty() {
        return id;
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("run-{nanos:x}-{}-{n}", std::process::id())
}
