//! The engine: one payload in, one report out. The Lambda handler and the CLI are two thin doors
//! into this same function.

use crate::config::Config;
use crate::deploy::{Ctx, deploy_function};
use crate::event::{EcrImageAction, InputError, Request, parse_request};
use crate::notify::Notifier;
use crate::plan::{Plan, plan};
use crate::report::Report;
use futures_util::StreamExt;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Engine {
    config: Config,
    ctx: Ctx,
    notifier: Notifier,
}

impl Engine {
    pub fn new(config: Config, lambda: aws_sdk_lambda::Client, notifier: Notifier) -> Self {
        let ctx = Ctx::new(lambda, config.update_timeout);
        Self {
            config,
            ctx,
            notifier,
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
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let notifier = match &config.topic_arn {
            Some(arn) => Notifier::Sns {
                client: aws_sdk_sns::Client::new(&sdk),
                topic_arn: arn.clone(),
            },
            None => Notifier::Disabled,
        };
        Self::new(config, lambda, notifier)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Validates the payload (no AWS call before it is known to be good), runs it, and hands the
    /// report to the notifier.
    pub async fn handle(&self, payload: &Value) -> Result<Report, InputError> {
        let request = parse_request(payload)?;
        let mut report = match request {
            Request::Ecr(ev) => self.on_image_action(&ev).await,
        };
        report.notification = Some(self.notifier.notify(&report).await);
        tracing::info!(outcome = report.outcome.as_str(), reason = ?report.reason, "run finished");
        Ok(report)
    }

    async fn on_image_action(&self, ev: &EcrImageAction) -> Report {
        let mut report = match plan(&self.config, ev) {
            Plan::Skip(reason) => {
                tracing::info!(repository = %ev.repository, %reason, "skipped");
                Report::skipped(reason)
            }
            Plan::Deploy { image, jobs } => {
                let uri = image.uri();
                tracing::info!(image = %uri, functions = jobs.len(), "deploying");
                let image = &image;
                let deployments: Vec<_> = futures_util::stream::iter(jobs)
                    .map(|job| async move {
                        deploy_function(&self.ctx, &job.function, job.target, image, Some(ev.time))
                            .await
                    })
                    .buffered(self.config.max_parallel)
                    .collect()
                    .await;
                let (outcome, reason) = Report::summarize(&deployments);
                Report {
                    outcome,
                    reason,
                    image_uri: Some(uri),
                    deployments,
                    ..Report::skipped("")
                }
            }
        };
        report.repository = Some(ev.repository.clone());
        report.image_tag = ev.tag.clone();
        report.image_digest = ev.digest.as_ref().map(|d| d.to_string());
        report.event_time = Some(ev.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        report
    }
}
