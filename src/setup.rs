//! AWS SDK setup, in one place: credentials and region from the usual chain (and
//! `AWS_ENDPOINT_URL*` for an emulator), retries, timeouts, and the deployer's own account.

use crate::config::Config;
use crate::engine::Engine;
use crate::gateway::CONNECT_TIMEOUT;
use crate::notify::github::GitHubSink;
use crate::notify::{Notifier, Sink, SnsSink};
use crate::plan::Home;
use crate::signals::{MetricsOut, Signals};
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use std::sync::Arc;

/// The SDK configuration every client is built from. No region is an error: every call would fail
/// later with a message that does not say so.
pub async fn sdk_config(config: &Config) -> Result<SdkConfig, String> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
        // Throttling during a fan-out should be absorbed, not reported: more attempts than the
        // SDK's default 3, unless the user chose a number.
        loader =
            loader.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
    }
    // A call that never answers must not hang the run: each attempt, and each call with its
    // retries, has a limit. (The smoke test's Invoke sets its own, see gateway::lambda.)
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(config.api_timeout)
            .operation_timeout(config.api_timeout * 3)
            .build(),
    );
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err("no AWS region: set AWS_REGION (or a region in your AWS profile)".into());
    }
    Ok(sdk)
}

/// The engine with real clients and the notification sinks the configuration asks for.
pub fn engine(config: Config, sdk: &SdkConfig) -> Engine {
    // One line per sink; each reads its own part of the configuration.
    let mut sinks: Vec<Arc<dyn Sink>> = vec![Arc::new(SnsSink::from_config(&config, sdk))];
    sinks.extend(GitHubSink::from_config(&config, sdk).map(|s| Arc::new(s) as Arc<dyn Sink>));
    Engine::new(
        config,
        // Lambda's 429s are retried by the run's rate budget, when Lambda says (gateway/budget.rs).
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(sdk)
                .retry_classifier(crate::gateway::budget::ThrottlesToTheBudget)
                .build(),
        ),
        aws_sdk_ecr::Client::new(sdk),
        Notifier::new(sinks),
    )
    .with_rollouts(
        aws_sdk_scheduler::Client::new(sdk),
        aws_sdk_cloudwatch::Client::new(sdk),
    )
    .with_sts(aws_sdk_sts::Client::new(sdk))
}

/// Metrics and deployment events as configured: EMF records to `metrics` (each door decides
/// whether and where), events on DEPLOYER_EVENT_BUS when it is set.
pub fn signals(config: &Config, sdk: &SdkConfig, metrics: MetricsOut) -> Signals {
    let mut signals = Signals::off().metrics(metrics, config.signals.metrics_namespace.clone());
    if let Some(bus) = &config.signals.event_bus {
        signals = signals.events(aws_sdk_eventbridge::Client::new(sdk), bus.clone());
    }
    signals
}

/// The CLI's way to learn its account: STS GetCallerIdentity, and the configured region. (In
/// Lambda the function's own ARN says it.)
pub async fn discover_home(sdk: &SdkConfig) -> Result<Home, String> {
    let sts = aws_sdk_sts::Client::new(sdk);
    let out = sts.get_caller_identity().send().await.map_err(|e| {
        format!(
            "STS GetCallerIdentity failed: {}",
            crate::gateway::describe(&e)
        )
    })?;
    let account = out.account().ok_or("STS returned no account")?;
    let region = sdk.region().ok_or("no AWS region is configured")?;
    Ok(Home {
        account: account.parse()?,
        region: region.as_ref().parse()?,
    })
}
