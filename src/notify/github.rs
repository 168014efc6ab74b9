//! GitHub deployments, a second sink beside SNS: for each function's run, a deployment of the
//! image's commit in the target's environment, and its statuses (`in_progress`, each rollout step,
//! `success` or `failure`). GitHub being slow, down, rate-limiting or refusing the token never
//! changes a deployment's outcome: each problem is a warning on that function's deployment, and
//! the whole delivery is bounded by the API timeout and the invocation's deadline.

use super::github_auth::Tokens;
use super::github_plan::{Plan, State, Which, commit_of_tag, describe, plan};
use super::sink::{Delivery, Sink};
use crate::config::Config;
use crate::config::Target;
use crate::config::github::GitHubSettings;
use crate::gateway::ecr_config::EcrConfig;
use crate::gateway::github::{GitHubApi, GitHubErrorKind};
use crate::gateway::secrets::Secrets;
use crate::report::{Deployment, Report};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use hyper::Method;
use serde_json::{Value, json};
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
    /// Reads the image's revision label; `None`: the commit is the tag.
    ecr: Option<EcrConfig>,
}

impl Sink for GitHubSink {
    fn name(&self) -> &'static str {
        "github"
    }

    fn tells_people(&self) -> bool {
        false
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

    /// The commit from the image's `org.opencontainers.image.revision` label, read through ECR.
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
        let mut budget = api.timeout() * 3 * work.len().min(4) as u32;
        if let Some(deadline) = deadline {
            let left = deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(DEADLINE_MARGIN);
            budget = budget.min(left);
        }
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
        let environment = g.environment_for(d.function.name());
        let repo = format!("/repos/{}", g.repository);
        let token = self.tokens.token(api, chrono::Utc::now()).await?;
        let call = |method: Method, path: String, body: Option<Value>| {
            let token = token.clone();
            async move {
                let r = api.call(method, &path, token.expose(), body.as_ref()).await;
                if let Err(e) = &r
                    && e.kind == GitHubErrorKind::Unauthorized
                {
                    self.tokens.forget();
                }
                r.map_err(|e| e.message)
            }
        };
        let id = match &p.which {
            Which::Existing(v) => {
                let list = call(
                    Method::GET,
                    format!(
                        "{repo}/deployments?environment={}&per_page=50",
                        query(environment)
                    ),
                    None,
                )
                .await?;
                match find(&list, d.function.name(), *v) {
                    Some((id, _)) => id,
                    None => {
                        return Err(format!(
                            "no earlier GitHub deployment of v{v} in {environment} to update"
                        ));
                    }
                }
            }
            Which::New | Which::CommitOf(_) => {
                let sha = match &p.which {
                    Which::CommitOf(v) => {
                        let list = call(
                            Method::GET,
                            format!(
                                "{repo}/deployments?environment={}&per_page=100",
                                query(environment)
                            ),
                            None,
                        )
                        .await?;
                        find(&list, d.function.name(), *v).map(|(_, sha)| sha).ok_or_else(|| {
                            format!("no earlier GitHub deployment of v{v} in {environment}: its commit is unknown, no deployment created")
                        })?
                    }
                    _ => self.commit(api, report, t, notes).await?,
                };
                let body = json!({
                    "ref": sha,
                    "environment": environment,
                    "auto_merge": false,
                    "required_contexts": [],
                    "description": describe(&format!("self-deployer: {} on {}", report.image_tag.clone().unwrap_or_else(|| sha.chars().take(12).collect()), d.function.name())),
                    "payload": {
                        "function": d.function.name(),
                        "version": p.version.map(|v| v.to_string()),
                        "digest": report.image_digest,
                    },
                    "production_environment": true,
                });
                let created = call(Method::POST, format!("{repo}/deployments"), Some(body)).await?;
                created
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or("GitHub created no deployment (the answer has no id)")?
            }
        };
        for (state, description) in &p.statuses {
            let mut body = json!({
                "state": state.as_str(),
                "description": description,
                "environment": environment,
            });
            if let Some(url) = &self.log_url {
                body["log_url"] = json!(url);
            }
            if *state == State::Success {
                body["auto_inactive"] = json!(true);
            }
            call(
                Method::POST,
                format!("{repo}/deployments/{id}/statuses"),
                Some(body),
            )
            .await?;
        }
        Ok(())
    }

    /// The commit the run's image was built from: its revision label, else its tag when that is
    /// a full commit SHA (with a note when the label could not be read).
    async fn commit(
        &self,
        api: &GitHubApi,
        report: &Report,
        t: &Target,
        notes: &mut Vec<String>,
    ) -> Result<String, String> {
        let mut label = "no org.opencontainers.image.revision label was read";
        if let (Some(ecr), Some(repo), Some(digest)) =
            (&self.ecr, &report.repository, &report.image_digest)
        {
            let registry = t.registry_account.as_ref().map(|a| a.as_str());
            match ecr.labels(api, registry, repo, digest).await {
                Ok(labels) => match labels
                    .get(REVISION)
                    .and_then(Value::as_str)
                    .filter(|r| is_ref(r))
                {
                    Some(rev) => return Ok(rev.to_owned()),
                    None => label = "the image has no org.opencontainers.image.revision label",
                },
                Err(e)
                    if commit_of_tag(report.image_tag.as_deref().unwrap_or_default()).is_some() =>
                {
                    notes.push(format!(
                        "the image's config could not be read ({e}): the commit is its tag"
                    ));
                }
                Err(_) => {}
            }
        }
        match report.image_tag.as_deref() {
            Some(tag) => commit_of_tag(tag).ok_or_else(|| {
                format!("no commit: {label} and the tag {tag:?} is not a 40-hex commit SHA, no deployment created")
            }),
            None => Err(format!("no commit: {label} and the image has no tag, no deployment created")),
        }
    }
}

const REVISION: &str = "org.opencontainers.image.revision";

/// A revision label fit to be a `ref`: a commit SHA, or a branch or tag name.
fn is_ref(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// The deployment (id, commit) GitHub lists for this function's version, newest first.
fn find(list: &Value, function: &str, version: crate::types::Version) -> Option<(u64, String)> {
    let want = version.to_string();
    list.as_array()?.iter().find_map(|d| {
        let payload = d.get("payload")?;
        (payload.get("function")?.as_str()? == function
            && payload.get("version")?.as_str()? == want)
            .then(|| Some((d.get("id")?.as_u64()?, d.get("sha")?.as_str()?.to_owned())))?
    })
}

/// A query parameter's value, percent-encoded.
fn query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
