//! Asynchronous Invoke (`InvocationType=Event`), as the deployer's fan-out sends it to itself:
//! Lambda queues the payload and answers 202. The world records each accepted payload (a test then
//! plays the queue by handing them to an engine) and can refuse the invocation for chosen
//! functions, keyed by the `function` the payload names, so a partial failure is deterministic
//! whatever order the bounded-parallel dispatch sends in.

use super::faults::Fault;
use super::{World, WorldState};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_smithy_mocks::MockResponse;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Dispatch {
    /// Function named in the payload → the fault its Invoke gets instead of being queued.
    faults: HashMap<String, Fault>,
    /// Functions whose Invoke Lambda queues, and whose answer then never comes (a hung call).
    hung: std::collections::HashSet<String>,
    /// What was queued, in the order it was accepted.
    pub accepted: Vec<Value>,
}

impl WorldState {
    /// Serves one asynchronous Invoke (already recorded by `begin`).
    pub(super) fn invoke_event(
        &mut self,
        payload: &str,
    ) -> MockResponse<InvokeOutput, InvokeError> {
        let body: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
        // A function's own payload names it; a batch's lists its functions.
        let named: Vec<String> = std::iter::once(&body["function"])
            .chain(body["functions"].as_array().into_iter().flatten())
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        if let Some(f) = named
            .iter()
            .find_map(|n| self.dispatch.faults.get(n).copied())
        {
            return self.faulted(f, InvokeError::generic);
        }
        self.dispatch.accepted.push(body);
        if named.iter().any(|n| self.dispatch.hung.contains(n)) {
            // Queued; the 202 goes over HTTP, which the connector never delivers (see FaultyHttp).
            self.timeout_next
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return MockResponse::Http(
                aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(202).expect("valid status"),
                    aws_smithy_types::body::SdkBody::empty(),
                ),
            );
        }
        MockResponse::Output(InvokeOutput::builder().status_code(202).build())
    }
}

impl World {
    /// The asynchronous Invoke whose payload names `function` is answered with `fault`.
    pub fn fail_dispatch_of(&self, function: &str, fault: Fault) {
        self.lock()
            .dispatch
            .faults
            .insert(function.to_owned(), fault);
    }

    /// The asynchronous Invoke whose payload names `function` is queued, and its answer hangs.
    pub fn hang_dispatch_of(&self, function: &str) {
        self.lock().dispatch.hung.insert(function.to_owned());
    }

    /// The payloads Lambda queued, in the order it accepted them.
    pub fn dispatched(&self) -> Vec<Value> {
        self.lock().dispatch.accepted.clone()
    }
}
