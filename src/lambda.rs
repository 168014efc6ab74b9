//! The Lambda door: the runtime hands us payloads, we hand them to the engine.

use crate::config::ConfigError;
use crate::engine::Engine;
use crate::engine::Response;
use crate::error::DeployerError;
use crate::plan::Home;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// Runs the Lambda runtime loop. A configuration error does not crash the init phase (which would
/// only show "Runtime exited" and retry): every invocation answers with the error instead, so it
/// is visible in the response, the logs and the Errors metric.
pub async fn run(engine: Result<Engine, ConfigError>) -> Result<(), lambda_runtime::Error> {
    let engine = &engine;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        match engine {
            Ok(engine) => {
                if let Some(home) = Home::from_function_arn(&event.context.invoked_function_arn) {
                    engine.set_home(home);
                }
                handle(engine, event.payload).await
            }
            Err(e) => Err(DeployerError::Config(e.clone())),
        }
    }))
    .await
}

/// A failed deployment becomes an error carrying the whole report, so alarms fire on it.
pub async fn handle(engine: &Engine, payload: Value) -> Result<Response, DeployerError> {
    let report = engine.handle(&payload).await?;
    if report.is_failure() {
        let report = serde_json::to_string(&report)
            .unwrap_or_else(|e| format!("deployment failed (report not renderable: {e})"));
        return Err(DeployerError::DeploymentFailed { report });
    }
    Ok(report)
}
