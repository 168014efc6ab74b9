//! The engine: one payload in, one answer out. The Lambda handler and the CLI are two thin doors
//! into this same function.

use crate::action::{Action, DeployRequest, DeploySource, RollbackRequest, StatusRequest};
use crate::config::{Config, Target};
use crate::deploy::{Ctx, deploy_function};
use crate::event::{EcrImageAction, InputError, Request, parse_request};
use crate::notify::Notifier;
use crate::plan::{Home, Plan, plan};
use crate::report::{ActionKind, Deployment, Outcome, Report};
use crate::rollback::rollback;
use crate::status::{StatusReport, status};
use crate::types::{FunctionRef, ImageRef};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Engine {
    config: Config,
    ctx: Ctx,
    ecr: aws_sdk_ecr::Client,
    notifier: Notifier,
    /// This deployer's account and region: set once (from the function ARN in Lambda, from STS
    /// in the CLI). Unknown means images are refused, never trusted.
    home: std::sync::Arc<std::sync::OnceLock<Home>>,
    /// For the CLI to ask which account it runs in.
    sts: Option<aws_sdk_sts::Client>,
}

/// What a payload gets back: a report of a deploy or rollback, or the status of every function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Report(Box<Report>),
    Status(StatusReport),
}

impl Response {
    /// The deploy or rollback report, if this is one.
    pub fn into_report(self) -> Option<Report> {
        match self {
            Response::Report(r) => Some(*r),
            Response::Status(_) => None,
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Response::Report(r) if r.is_failure())
    }
}

impl Engine {
    pub fn new(
        config: Config,
        lambda: aws_sdk_lambda::Client,
        ecr: aws_sdk_ecr::Client,
        notifier: Notifier,
    ) -> Self {
        let ctx = Ctx::new(lambda, config.update_timeout);
        Self {
            config,
            ctx,
            ecr,
            notifier,
            home: Default::default(),
            sts: None,
        }
    }

    /// Builds the AWS clients from aws-config's default chain (credentials, region, and
    /// `AWS_ENDPOINT_URL*` for an emulator) and the notifier from the configuration.
    pub async fn from_aws_env(config: Config) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            // Throttling during a fan-out should be absorbed, not reported: more attempts than the
            // SDK's default 3, unless the user chose a number.
            loader = loader
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
        }
        let sdk = loader.load().await;
        let notifier = match &config.topic_arn {
            Some(arn) => {
                let settings = crate::notify::NotifySettings {
                    notify_skipped: config.notify_skipped,
                    render: crate::notify::RenderSettings {
                        // In Lambda, our own name: the rollback command in messages invokes it.
                        deployer_function: std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
                    },
                };
                Notifier::sns(aws_sdk_sns::Client::new(&sdk), arn.clone(), settings)
            }
            None => Notifier::disabled(),
        };
        let mut engine = Self::new(
            config,
            aws_sdk_lambda::Client::new(&sdk),
            aws_sdk_ecr::Client::new(&sdk),
            notifier,
        );
        engine.sts = Some(aws_sdk_sts::Client::new(&sdk));
        engine
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

    /// The CLI's way to learn its account: STS GetCallerIdentity, and the configured region.
    pub async fn discover_home(&self) -> Result<(), String> {
        if self.home().is_some() {
            return Ok(());
        }
        let sts = self.sts.as_ref().ok_or("no STS client")?;
        let out =
            sts.get_caller_identity().send().await.map_err(|e| {
                format!("STS GetCallerIdentity failed: {}", crate::aws::describe(&e))
            })?;
        let account = out.account().ok_or("STS returned no account")?.to_owned();
        let region = sts
            .config()
            .region()
            .map(|r| r.to_string())
            .ok_or("no AWS region is configured (AWS_REGION)")?;
        self.set_home(Home { account, region });
        Ok(())
    }

    /// Validates the payload (no AWS call before it is known to be good), runs it, and hands a
    /// deploy or rollback report to the notifier.
    pub async fn handle(&self, payload: &Value) -> Result<Response, InputError> {
        // Each branch is boxed: the pipeline's future is large, and nesting them all inline would
        // make one enormous state machine on the stack.
        let mut report = match parse_request(payload)? {
            Request::Ecr(ev) => {
                Box::pin(self.on_image_action(&ev, self.config.dry_run, None)).await
            }
            Request::Manual(Action::Rollback(r)) => Box::pin(self.on_rollback(&r)).await?,
            Request::Manual(Action::Deploy(d)) => Box::pin(self.on_deploy(&d)).await?,
            Request::Manual(Action::Status(s)) => {
                return Box::pin(self.on_status(&s)).await.map(Response::Status);
            }
        };
        report.notification = Some(self.notifier.notify(&report).await);
        tracing::info!(outcome = report.outcome.as_str(), reason = ?report.reason, "run finished");
        Ok(Response::Report(Box::new(report)))
    }

    async fn on_image_action(
        &self,
        ev: &EcrImageAction,
        dry_run: bool,
        request_reason: Option<String>,
    ) -> Report {
        let wants = ev.action_type == "PUSH"
            && ev.result == "SUCCESS"
            && !self.config.targets_for(&ev.repository).is_empty();
        if wants && self.home().is_none() {
            // Not a skip: something is wrong (credentials, STS) and a person should look.
            let mut r = Report::skipped("");
            r.outcome = Outcome::Failed;
            r.reason = Some(
                "this deployer's own account and region are unknown (see the log), so the image's registry cannot be checked: nothing was deployed".into(),
            );
            r.repository = Some(ev.repository.clone());
            return r;
        }
        let mut report = match plan(&self.config, ev, self.home()) {
            Plan::Skip(reason) => {
                tracing::info!(repository = %ev.repository, %reason, "skipped");
                Report::skipped(reason)
            }
            Plan::Deploy { image, jobs } => {
                tracing::info!(image = %image.uri(), functions = jobs.len(), dry_run, "deploying");
                let jobs: Vec<(FunctionRef, &Target)> =
                    jobs.into_iter().map(|j| (j.function, j.target)).collect();
                self.deploy_all(&image, jobs, Some(ev.time), dry_run).await
            }
        };
        report.repository = Some(ev.repository.clone());
        report.image_tag = ev.tag.clone();
        report.image_digest = ev.digest.as_ref().map(|d| d.to_string());
        report.event_time = Some(ev.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        report.dry_run = dry_run;
        report.request_reason = request_reason;
        report
    }

    async fn deploy_all(
        &self,
        image: &ImageRef,
        jobs: Vec<(FunctionRef, &Target)>,
        pushed: Option<chrono::DateTime<chrono::Utc>>,
        dry_run: bool,
    ) -> Report {
        let deployments: Vec<Deployment> = futures_util::stream::iter(jobs)
            .map(|(function, target)| async move {
                Box::pin(deploy_function(
                    &self.ctx, &function, target, image, pushed, dry_run,
                ))
                .await
            })
            .buffered(self.config.max_parallel)
            .collect()
            .await;
        let (outcome, reason) = Report::summarize(&deployments);
        Report {
            outcome,
            reason,
            repository: Some(image.repository.clone()),
            image_tag: image.tag.clone(),
            image_digest: Some(image.digest.to_string()),
            image_uri: Some(image.uri()),
            deployments,
            dry_run,
            ..Report::skipped("")
        }
    }

    /// Only functions named in DEPLOYER_TARGETS can be touched, whatever a payload says. Returns
    /// the configured reference (the API is always called with what the operator configured) and
    /// its target. An ARN must match a configured ARN exactly; a name matches by name.
    fn allowed(&self, requested: &FunctionRef) -> Result<(FunctionRef, &Target), InputError> {
        let is_arn = requested.as_str().starts_with("arn:");
        let mut found: Vec<(FunctionRef, &Target)> = Vec::new();
        for t in &self.config.targets {
            for f in &t.functions {
                let hit = if is_arn {
                    f.as_str() == requested.as_str()
                } else {
                    f.name() == requested.name()
                };
                if hit && !found.iter().any(|(g, _)| g == f) {
                    found.push((f.clone(), t));
                }
            }
        }
        let configured: Vec<String> = self
            .config
            .targets
            .iter()
            .flat_map(|t| t.functions.iter().map(|f| f.name().to_owned()))
            .collect();
        match found.len() {
            0 => Err(InputError::new(
                "payload.function",
                format!(
                    "{:?} is not a function this deployer manages (DEPLOYER_TARGETS names: {})",
                    requested.as_str(),
                    configured.join(", ")
                ),
            )),
            1 => Ok(found.remove(0)),
            _ => Err(InputError::new(
                "payload.function",
                format!(
                    "{:?} names functions in several accounts: give the full ARN",
                    requested.name()
                ),
            )),
        }
    }

    async fn on_rollback(&self, r: &RollbackRequest) -> Result<Report, InputError> {
        let (function, target) = self.allowed(&r.function)?;
        let alias = r.alias.clone().unwrap_or_else(|| target.alias.clone());
        let dep = rollback(&self.ctx, &self.ecr, &function, &alias, r).await;
        let (outcome, reason) = Report::summarize(std::slice::from_ref(&dep));
        Ok(Report {
            action: ActionKind::Rollback,
            dry_run: r.dry_run,
            outcome,
            reason,
            repository: Some(target.repository.clone()),
            request_reason: r.reason.clone(),
            deployments: vec![dep],
            ..Report::skipped("")
        })
    }

    async fn on_deploy(&self, d: &DeployRequest) -> Result<Report, InputError> {
        let mut report = match &d.source {
            DeploySource::Image { function, image } => {
                let (function, target) = self.allowed(function)?;
                if let Some(why) = Home::refuses(self.home(), target, &image.account, &image.region)
                {
                    return Err(InputError::new("payload.image_uri", why));
                }
                if image.repository != target.repository {
                    return Err(InputError::new(
                        "payload.image_uri",
                        format!(
                            "repository {:?} is not configured for function {:?} (its repository is {:?})",
                            image.repository,
                            function.name(),
                            target.repository
                        ),
                    ));
                }
                self.deploy_all(image, vec![(function, target)], None, d.dry_run)
                    .await
            }
            DeploySource::Tag { repository, tag } => {
                if self.config.targets_for(repository).is_empty() {
                    return Err(InputError::new(
                        "payload.repository",
                        format!("no target is configured for repository {repository:?}"),
                    ));
                }
                match crate::ecr::resolve_tag(&self.ecr, repository, tag).await {
                    Ok((digest, account)) => {
                        let region = self
                            .ecr
                            .config()
                            .region()
                            .map(|r| r.to_string())
                            .unwrap_or_default();
                        let ev = EcrImageAction {
                            action_type: "PUSH".into(),
                            result: "SUCCESS".into(),
                            repository: repository.clone(),
                            digest: Some(digest),
                            tag: Some(tag.clone()),
                            account,
                            region,
                            time: chrono::Utc::now(),
                        };
                        let mut r = Box::pin(self.on_image_action(&ev, d.dry_run, None)).await;
                        // A manual deploy is not a push: no event time to compare with.
                        r.event_time = None;
                        r
                    }
                    Err(why) => Report {
                        outcome: Outcome::Failed,
                        reason: Some(why),
                        repository: Some(repository.clone()),
                        image_tag: Some(tag.clone()),
                        ..Report::skipped("")
                    },
                }
            }
        };
        report.request_reason = d.reason.clone();
        Ok(report)
    }

    async fn on_status(&self, s: &StatusRequest) -> Result<StatusReport, InputError> {
        let functions: Vec<(FunctionRef, &Target)> = match &s.function {
            Some(f) => vec![self.allowed(f)?],
            None => self
                .config
                .targets
                .iter()
                .flat_map(|t| t.functions.iter().map(move |f| (f.clone(), t)))
                .collect(),
        };
        let statuses = futures_util::stream::iter(functions)
            .map(|(f, t)| async move { status(&self.ctx, &f, &t.alias).await })
            .buffered(self.config.max_parallel)
            .collect()
            .await;
        Ok(StatusReport {
            action: "status",
            functions: statuses,
        })
    }
}
