//! The one place that builds the engine under test, its notifier and its AWS clients: when the
//! library's constructor changes, only this file has to.

use super::IntoReport;
use super::fixtures::{config, one_target, push};
use super::world::{ACCOUNT, REGION, World};
use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use self_deployer::config::Config;
use self_deployer::engine::Engine;
use self_deployer::notify::{Notifier, NotifySettings, Sink};
use self_deployer::plan::Home;
use self_deployer::report::Report;
use self_deployer::signals::{MetricsOut, Signals};
use std::sync::{Arc, Mutex};

/// The event bus a test engine with events puts them on.
pub const BUS: &str = "deployments";

/// The SNS topic a test engine with notifications publishes to.
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:deploys";

/// An engine on the world, running in the world's account and region (as Lambda or STS would
/// tell it): `TestEngine::new(&w).config(cfg).sns(&publish).build()`.
#[must_use]
pub struct TestEngine<'w> {
    world: &'w World,
    config: Option<Config>,
    lambda: Option<aws_sdk_lambda::Client>,
    sns: Option<(aws_sdk_sns::Client, NotifySettings)>,
    /// Sinks after SNS (or after the unconfigured SNS sink).
    sinks: Vec<Arc<dyn Sink>>,
    rollouts: bool,
    signals: Signals,
    sts: Option<aws_sdk_sts::Client>,
    ecr: Option<aws_sdk_ecr::Client>,
    cloudwatch: Option<aws_sdk_cloudwatch::Client>,
}

impl<'w> TestEngine<'w> {
    /// By default: `one_target()`, the world's Lambda and ECR clients, and no notifications.
    pub fn new(world: &'w World) -> Self {
        Self {
            world,
            config: None,
            lambda: None,
            sns: None,
            sinks: Vec::new(),
            rollouts: false,
            signals: Signals::off(),
            sts: None,
            ecr: None,
            cloudwatch: None,
        }
    }

    /// Another ECR client on the world, e.g. `world.signed_ecr_client()`.
    pub fn ecr(mut self, client: aws_sdk_ecr::Client) -> Self {
        self.ecr = Some(client);
        self
    }

    /// With STS, for targets with `assume_role_arn` (e.g. `world.sts_client(...)`).
    pub fn sts(mut self, client: aws_sdk_sts::Client) -> Self {
        self.sts = Some(client);
        self
    }

    /// With the world's EventBridge Scheduler and CloudWatch, as rollouts need.
    pub fn rollouts(mut self) -> Self {
        self.rollouts = true;
        self
    }

    /// Rollouts with another CloudWatch client on the world, e.g. `world.signed_cloudwatch_client()`.
    pub fn cloudwatch(mut self, client: aws_sdk_cloudwatch::Client) -> Self {
        self.rollouts = true;
        self.cloudwatch = Some(client);
        self
    }

    /// EMF records in `namespace`, collected in memory: read them with `lines.lock()`.
    pub fn metrics(mut self, namespace: &str, lines: &Arc<Mutex<Vec<String>>>) -> Self {
        self.signals = self
            .signals
            .metrics(MetricsOut::Memory(lines.clone()), namespace);
        self
    }

    /// The EMF records collected by [`metrics`](Self::metrics) that carry a DORA lead time.
    pub fn lead_time_records(lines: &Arc<Mutex<Vec<String>>>) -> Vec<serde_json::Value> {
        lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r.get("LeadTimeSeconds").is_some())
            .collect()
    }

    /// Deployment events on `BUS`, through an EventBridge client whose PutEvents answers by `put`.
    pub fn events(mut self, put: &Rule) -> Self {
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [put]);
        self.signals = self.signals.events(client, BUS);
        self
    }

    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Another Lambda client on the world, e.g. `world.client_with(rules, retries)`.
    pub fn lambda(mut self, client: aws_sdk_lambda::Client) -> Self {
        self.lambda = Some(client);
        self
    }

    /// Notifications to `TOPIC`, through an SNS client whose Publish answers by `publish`.
    pub fn sns(self, publish: &Rule) -> Self {
        self.sns_with(publish, NotifySettings::default())
    }

    pub fn sns_with(mut self, publish: &Rule, settings: NotifySettings) -> Self {
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [publish]);
        self.sns = Some((client, settings));
        self
    }

    /// One more notification sink, after SNS.
    pub fn sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sinks.push(sink);
        self
    }

    pub fn build(self) -> Engine {
        let notifier = match self.sns {
            Some((client, settings)) => Notifier::sns(client, TOPIC, settings),
            None => Notifier::disabled(),
        };
        let notifier = self.sinks.into_iter().fold(notifier, Notifier::with);
        let engine = Engine::new(
            self.config.unwrap_or_else(|| config(one_target())),
            self.lambda.unwrap_or_else(|| self.world.client()),
            self.ecr.unwrap_or_else(|| self.world.ecr_client()),
            notifier,
        );
        let engine = if self.rollouts {
            engine.with_rollouts(
                self.world.scheduler_client(),
                self.cloudwatch
                    .unwrap_or_else(|| self.world.cloudwatch_client()),
            )
        } else {
            engine
        }
        .with_signals(self.signals);
        let engine = match self.sts {
            Some(sts) => engine.with_sts(sts),
            None => engine,
        };
        engine.set_home(Home {
            account: ACCOUNT.parse().expect("valid account"),
            region: REGION.parse().expect("valid region"),
        });
        engine
    }
}

/// The engine most tests need: `TestEngine::new(world).config(config).build()`.
pub fn engine(world: &World, config: Config) -> Engine {
    TestEngine::new(world).config(config).build()
}

/// The usual run: image b, tagged v2, pushed to the repository of api-dev (`one_target()`).
pub async fn push_b(world: &World) -> Report {
    TestEngine::new(world)
        .build()
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report()
}

/// The usual push (image b, tagged v2) as an invocation that must end by `deadline` (world time):
/// how tests see what a run does when its time runs out.
pub async fn push_b_by(engine: &Engine, deadline: std::time::SystemTime) -> Report {
    let request = engine
        .parse(&push("api", 'b', Some("v2")))
        .expect("a valid push");
    let invocation = self_deployer::engine::Invocation {
        request_id: None,
        deadline: Some(deadline),
    };
    engine.run(request, invocation).await.report()
}

/// SNS Publish that records each message's subject, for `TestEngine::sns`.
pub fn sns_subjects() -> (Rule, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let subjects = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = subjects.clone();
    let rule =
        aws_smithy_mocks::mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
            s.lock()
                .expect("subjects lock")
                .push(req.subject().unwrap_or_default().to_owned());
            aws_sdk_sns::operation::publish::PublishOutput::builder()
                .message_id("m")
                .build()
        });
    (rule, subjects)
}
