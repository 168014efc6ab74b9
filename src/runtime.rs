//! The Lambda door: the runtime hands us payloads, we hand them to the engine.

use crate::engine::{Engine, Invocation, Response};
use crate::error::DeployerError;
use crate::plan::Home;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// Runs the Lambda runtime loop. A configuration error does not crash the init phase (which would
/// only show "Runtime exited" and retry): every invocation answers with the error instead, so it
/// is visible in the response, the logs and the Errors metric.
pub async fn run(engine: Result<Engine, DeployerError>) -> Result<(), lambda_runtime::Error> {
    let engine = &engine;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let engine = match engine {
            Ok(engine) => engine,
            Err(DeployerError::Config(e)) => return Err(DeployerError::Config(e.clone())),
            Err(e) => return Err(DeployerError::Setup(e.to_string())),
        };
        if let Some(home) = Home::from_function_arn(&event.context.invoked_function_arn) {
            engine.set_home(home);
            engine.set_self_arn(&event.context.invoked_function_arn);
        }
        let inv = Invocation {
            request_id: Some(event.context.request_id.clone()),
            deadline: Some(event.context.deadline()),
        };
        handle(engine, event.payload, inv).await
    }))
    .await
}

/// A failed deployment becomes an error carrying the whole report, so alarms fire on it.
pub async fn handle(
    engine: &Engine,
    payload: Value,
    inv: Invocation,
) -> Result<Response, DeployerError> {
    let request = engine.parse(&payload)?;
    let response = engine.run(request, inv).await?;
    if response.is_failure() {
        let report = serde_json::to_string(&response)
            .unwrap_or_else(|e| format!("run failed (report not renderable: {e})"));
        return Err(match response {
            Response::Status(_) | Response::History(_) | Response::FleetStatus(_) => {
                DeployerError::StatusIncomplete { report }
            }
            Response::Report(_) => DeployerError::DeploymentFailed { report },
        });
    }
    Ok(response)
}

/// The engine from the environment; an error is answered to every invocation (see [`run`]).
pub async fn engine_from_env() -> Result<Engine, DeployerError> {
    let config = crate::config::Config::from_env().inspect_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
    })?;
    let sdk = crate::setup::sdk_config(&config)
        .await
        .map_err(DeployerError::Setup)?;
    // In Lambda, standard output is the log group, where CloudWatch reads EMF records.
    let metrics = if config.signals.metrics {
        crate::signals::MetricsOut::Stdout
    } else {
        crate::signals::MetricsOut::Off
    };
    let signals = crate::setup::signals(&config, &sdk, metrics);
    Ok(crate::setup::engine(config, &sdk).with_signals(signals))
}
