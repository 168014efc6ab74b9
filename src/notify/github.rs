//! GitHub deployments, a second sink beside SNS: for each function's run, a deployment of the
//! image's commit in the target's environment, created with `in_progress` when the deployment
//! starts (before `$LATEST` changes), then its statuses (each rollout step, `success` or
//! `failure`) at the run's end; when GitHub gave no deployment at the start, the end creates it.
//! GitHub being slow, down, rate-limiting or refusing the token never changes a deployment's
//! outcome: each problem is a warning on that function's deployment, the start is bounded by twice
//! the API timeout and the whole delivery by the API timeout and the invocation's deadline.

use super::github_auth::Tokens;
use super::github_plan::{Plan, SINK, State, Which, describe, find, plan, query};
use super::sink::{Delivery, Sink, Start, Started};

mod requests;
use crate::config::Config;
use crate::config::Target;
use crate::config::github::{GitHubSettings, GitHubTarget};
use crate::gateway::ecr_config::EcrConfig;
use crate::gateway::github::GitHubApi;
use crate::gateway::secrets::Secrets;
use crate::report::{Deployment, Report, Told};
use chrono::Utc;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use hyper::Method;
use requests::commit_from;
use serde_json::json;
use std::time::{Duration, SystemTime};

/// Time kept back from the invocation's deadline for the SNS notification and the answer.
const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub struct GitHubSink {
    api: Result<GitHubApi, String>,
    tokens: Tokens,
    targets: Vec<Target>,
    /// The run's CloudWatch Logs (in Lambda), for each status's `log_url`.
    log_url: Option<String>,
    /// Reads the image's revision label for a run that ended before its deployment started (the
    /// run reads the labels for every deployment that starts); `None`: the commit is the tag.
    ecr: Option<EcrConfig>,
}

/// `budget`, or less when the invocation's deadline (less the margin) is nearer.
fn within(budget: Duration, deadline: Option<SystemTime>) -> Duration {
    match deadline {
        Some(deadline) => budget.min(
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(DEADLINE_MARGIN),
        ),
        None => budget,
    }
}

impl Sink for GitHubSink {
    fn name(&self) -> &'static str {
        "github"
    }

    fn tells_people(&self) -> bool {
        false
    }

    fn started<'a>(
        &'a self,
        start: &'a Start<'a>,
        deadline: Option<SystemTime>,
    ) -> BoxFuture<'a, Started> {
        self.start_within(start, deadline).boxed()
    }

    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        deadline: Option<SystemTime>,
    ) -> BoxFuture<'a, Delivery> {
        self.deliver_within(report, deadline).boxed()
    }
}

impl GitHubSink {
    /// The sink for the targets with `github`, when the configuration has any.
    pub fn from_config(config: &Config, sdk: &aws_config::SdkConfig) -> Option<Self> {
        let g = config.github.as_ref()?;
        Some(
            Self::new(
                g,
                &config.targets,
                aws_sdk_secretsmanager::Client::new(sdk),
                config.api_timeout,
            )
            .with_log_url(lambda_log_url(|k| std::env::var(k).ok()))
            .with_ecr(aws_sdk_ecr::Client::new(sdk)),
        )
    }

    pub fn new(
        settings: &GitHubSettings,
        targets: &[Target],
        secrets: aws_sdk_secretsmanager::Client,
        api_timeout: Duration,
    ) -> Self {
        Self {
            api: GitHubApi::new(&settings.api_url, api_timeout),
            tokens: Tokens::new(Secrets::new(secrets), &settings.token_secret_arn),
            targets: targets
                .iter()
                .filter(|t| t.github.is_some())
                .cloned()
                .collect(),
            log_url: None,
            ecr: None,
        }
    }

    /// The commit from the image's `org.opencontainers.image.revision` label, read through ECR when
    /// the run did not read it (an image check failed before the deployment started).
    pub fn with_ecr(mut self, client: aws_sdk_ecr::Client) -> Self {
        self.ecr = Some(EcrConfig::new(client));
        self
    }

    /// Each status links to these logs.
    pub fn with_log_url(mut self, url: Option<String>) -> Self {
        self.log_url = url;
        self
    }

    /// Tells GitHub about every function of `report`, finished before `deadline` (the
    /// invocation's) comes near; each problem a warning on that function's deployment.
    pub async fn deliver_within(&self, report: &Report, deadline: Option<SystemTime>) -> Delivery {
        let work: Vec<(&Deployment, &Target, Plan)> = report
            .deployments
            .iter()
            .filter_map(|d| {
                let t = self.target_of(report, d)?;
                Some((d, t, plan(report, d)?))
            })
            .collect();
        let mut delivery = Delivery::default();
        if work.is_empty() {
            return delivery;
        }
        let api = match &self.api {
            Ok(api) => api,
            Err(e) => {
                delivery.warnings.push(format!("GitHub deployments: {e}"));
                return delivery;
            }
        };
        // Each function's requests, one after another; a bound on them all.
        let budget = within(api.timeout() * 3 * work.len().min(4) as u32, deadline);
        let per_function = &mut delivery.per_function;
        let all = async {
            for (d, t, p) in &work {
                let mut notes = Vec::new();
                if let Err(e) = Box::pin(self.one(api, report, d, t, p, &mut notes)).await {
                    notes.push(e);
                }
                for n in notes {
                    per_function.push((
                        d.function.clone(),
                        format!("GitHub deployment for {}: {n}", d.function.name()),
                    ));
                }
            }
        };
        if tokio::time::timeout(budget, all).await.is_err() {
            delivery.warnings.push(format!(
                "GitHub deployments: not finished within {} s, given up so the run can end",
                budget.as_secs()
            ));
        }
        delivery
    }

    /// The target (with `github`) this deployment belongs to.
    fn target_of(&self, report: &Report, d: &Deployment) -> Option<&Target> {
        self.targets
            .iter()
            .filter(|t| {
                report
                    .repository
                    .as_deref()
                    .is_none_or(|r| r == t.repository.as_str())
            })
            .find(|t| t.functions.iter().any(|f| f.name() == d.function.name()))
    }

    /// Creates the deployment of `start`'s image with `in_progress`, within twice the API timeout
    /// and the deadline: the deployment goes on whatever GitHub does. What came of it (the id, or
    /// whether the end should try again) is for the run's end.
    pub async fn start_within(&self, start: &Start<'_>, deadline: Option<SystemTime>) -> Started {
        let Some(g) = start.target.github.as_ref() else {
            return Started::default();
        };
        let mut out = Started {
            told: Some(Told::Nothing),
            ..Started::default()
        };
        let api = match &self.api {
            Ok(api) => api,
            Err(e) => {
                out.warnings.push(format!("GitHub deployments: {e}"));
                return out;
            }
        };
        let budget = within(api.timeout() * 2, deadline);
        let mut notes = Vec::new();
        let begun = tokio::time::timeout(budget, self.begin(api, start, g, &mut out, &mut notes));
        match begun.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => notes.push(e),
            // The create may or may not have gone through: `told` says how far it got.
            Err(_) => notes.push(format!(
                "not started within {} s, given up so the deployment goes on",
                budget.as_secs()
            )),
        }
        let name = start.function.name();
        out.warnings = notes
            .into_iter()
            .map(|n| format!("GitHub deployment for {name}: {n}"))
            .collect();
        out
    }

    /// The commit from the image's labels (read by the run), the deployment, then `in_progress`
    /// on it. No commit: nothing to tell, now or at the end. GitHub failing from then on: the end
    /// tries again.
    async fn begin(
        &self,
        api: &GitHubApi,
        start: &Start<'_>,
        g: &GitHubTarget,
        out: &mut Started,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        let image = start.image;
        let digest = image.digest.to_string();
        let tag = image.tag.as_ref().map(|t| t.to_string());
        let facts = commit_from(start.labels, tag.as_deref());
        notes.extend(facts.note);
        let sha = facts.commit?;
        out.told = Some(Told::Failed);
        let function = start.function.name();
        let environment = g.environment_for(function);
        let repo = format!("/repos/{}", g.repository);
        let token = self.tokens.token(api, Utc::now()).await?;
        let payload = json!({"function": function, "version": null, "digest": digest});
        let id = self
            .create(
                api,
                &token,
                &repo,
                environment,
                &sha,
                tag.as_deref(),
                function,
                payload,
            )
            .await?;
        out.told = Some(Told::Created(id));
        let status = (
            State::InProgress,
            describe(&format!("deploying to {function}")),
        );
        self.post_statuses(api, &token, &repo, environment, id, &[status])
            .await
    }

    /// One function's end of run: the deployment `p` says (created at the start, an earlier one,
    /// or a new one) and its statuses.
    async fn one(
        &self,
        api: &GitHubApi,
        report: &Report,
        d: &Deployment,
        t: &Target,
        p: &Plan,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        let Some(g) = t.github.as_ref() else {
            return Ok(());
        };
        let function = d.function.name();
        let environment = g.environment_for(function);
        let repo = format!("/repos/{}", g.repository);
        let token = self.tokens.token(api, Utc::now()).await?;
        let list = |per_page: u32| {
            let path = format!(
                "{repo}/deployments?environment={}&per_page={per_page}",
                query(environment)
            );
            self.call(api, &token, Method::GET, path, None)
        };
        let digest = d.at_start.image_digest.as_deref();
        let id = match &p.which {
            Which::Started(id) => *id,
            Which::Existing(v) => {
                let all = list(50).await?;
                match find(&all, function, *v, digest) {
                    Some((id, _)) => id,
                    None => self
                        .rolling_out(api, &token, &repo, &all, function)
                        .await?
                        .ok_or_else(|| {
                            format!(
                                "no earlier GitHub deployment of v{v} in {environment} to update"
                            )
                        })?,
                }
            }
            Which::New | Which::CommitOf(_) => {
                let sha = match &p.which {
                    Which::CommitOf(v) => find(&list(100).await?, function, *v, digest)
                        .map(|(_, sha)| sha)
                        .ok_or_else(|| {
                            format!("no earlier GitHub deployment of v{v} in {environment}: its commit is unknown, no deployment created")
                        })?,
                    _ => {
                        let facts = match &d.at_start.image_labels {
                            // Read by the run when the deployment started (GitHub failed then).
                            Some(labels) => commit_from(labels, report.image_tag.as_deref()),
                            // The run ended before its start (an image check): read now.
                            None => {
                                let registry = t.registry_account.as_ref().map(|a| a.as_str());
                                self.image_facts(
                                    api,
                                    registry,
                                    report.repository.as_deref().unwrap_or_default(),
                                    report.image_digest.as_deref(),
                                    report.image_tag.as_deref(),
                                )
                                .await
                            }
                        };
                        // A note the start already gave is not repeated.
                        if d.at_start.sink(SINK).is_none() {
                            notes.extend(facts.note);
                        }
                        facts.commit?
                    }
                };
                let payload = json!({
                    "function": function,
                    "version": p.version.map(|v| v.to_string()),
                    "digest": digest.or(report.image_digest.as_deref()),
                });
                let tag = report.image_tag.as_deref();
                self.create(
                    api,
                    &token,
                    &repo,
                    environment,
                    &sha,
                    tag,
                    function,
                    payload,
                )
                .await?
            }
        };
        self.post_statuses(api, &token, &repo, environment, id, &p.statuses)
            .await
    }
}

/// The CloudWatch Logs console address of this Lambda sandbox's log stream, when running in Lambda.
pub fn lambda_log_url(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let region = get("AWS_REGION")?;
    let group = get("AWS_LAMBDA_LOG_GROUP_NAME")?;
    let stream = get("AWS_LAMBDA_LOG_STREAM_NAME")?;
    // The console's own escaping of a path segment: '%' becomes '$25'.
    let esc = |s: &str| query(s).replace('%', "$25");
    Some(format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
        esc(&group),
        esc(&stream)
    ))
}
