//! Invoking a function: the smoke test (synchronous, with the log tail) and the fan-out's
//! asynchronous runs of the deployer itself.

use super::Lambda;
use crate::gateway::{ApiError, ErrorKind};
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use std::time::Duration;

/// What a synchronous Invoke returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    /// Base64 of the log's last 4 KB.
    pub log_result: Option<String>,
}

impl Lambda {
    /// A synchronous Invoke with the log tail, allowed `timeout` per attempt: the function's own
    /// run is part of the call, so the client's API timeout does not apply.
    pub async fn invoke(
        &self,
        function: &str,
        qualifier: &str,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Invoked, ApiError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(crate::gateway::CONNECT_TIMEOUT)
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout * 2)
            .build();
        let out = self
            .client
            .invoke()
            .function_name(function)
            .qualifier(qualifier)
            .invocation_type(InvocationType::RequestResponse)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload))
            .customize()
            .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(timeouts))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("Invoke", &e))?;
        Ok(Invoked {
            function_error: out.function_error().map(str::to_owned),
            payload: out
                .payload()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
            log_result: out.log_result().map(str::to_owned),
        })
    }

    /// An asynchronous Invoke (`InvocationType=Event`): Lambda queues the payload and answers 202
    /// at once; the function's run is not part of the call. Used to fan a deployment out to the
    /// deployer's own invocations, one per function.
    pub async fn invoke_event(&self, function: &str, payload: Vec<u8>) -> Result<(), ApiError> {
        let out = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("Invoke", &e))?;
        // Anything but 202 means Lambda did not queue it (it would have sent an error instead,
        // but a queued run must never be assumed).
        match out.status_code() {
            202 => Ok(()),
            other => Err(ApiError {
                op: "Invoke",
                kind: ErrorKind::Other,
                message: format!("answered status {other}, not 202 Accepted: not queued"),
            }),
        }
    }
}
