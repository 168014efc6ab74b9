//! Provisioned concurrency on an alias (GetProvisionedConcurrencyConfig). When the alias moves to
//! another version, Lambda deallocates it from the old version and allocates it to the new one:
//! `IN_PROGRESS` for a while (in virtual time), then `READY`, or `FAILED` with a StatusReason when
//! the version cannot initialise. An alias without it answers
//! ProvisionedConcurrencyConfigNotFoundException.

use super::faults::lossy;
use super::{Call, World, WorldState};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_provisioned_concurrency_config::{
    GetProvisionedConcurrencyConfigError, GetProvisionedConcurrencyConfigInput,
    GetProvisionedConcurrencyConfigOutput,
};
use aws_sdk_lambda::types::ProvisionedConcurrencyStatusEnum as Status;
use aws_smithy_mocks::{MockResponse, Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::time::{Duration, SystemTime};

/// An alias's provisioned concurrency as the world keeps it.
#[derive(Debug, Clone)]
pub struct Pc {
    pub requested: i32,
    /// How long an allocation to a new version takes.
    pub takes: Duration,
    /// Versions that cannot initialise: their allocation ends `FAILED` with this reason.
    pub fails: Option<(String, String)>,
    /// The version it is allocated to, and since when.
    pub version: String,
    pub since: Option<SystemTime>,
}

impl WorldState {
    /// After an alias move: its provisioned concurrency starts moving to the new version.
    pub(super) fn pc_follows(&mut self, function: &str, alias: &str, version: &str) {
        let now = self.t();
        if let Some(pc) = self
            .func(function)
            .and_then(|f| f.provisioned.get_mut(alias))
            && pc.version != version
        {
            pc.version = version.to_owned();
            pc.since = Some(now);
        }
    }
}

impl World {
    /// Alias `alias` of `function` has `requested` provisioned concurrency, allocated now to the
    /// version it points to; each move takes `takes` to allocate.
    pub fn provisioned(&self, function: &str, alias: &str, requested: i32, takes: Duration) {
        self.with_func(function, |f| {
            let version = f.aliases[alias].version.clone();
            f.provisioned.insert(
                alias.to_owned(),
                Pc {
                    requested,
                    takes,
                    fails: None,
                    version,
                    since: None,
                },
            );
        });
    }

    /// Allocating `alias`'s provisioned concurrency to `version` ends `FAILED` with `reason`.
    pub fn provisioned_fails_for(&self, function: &str, alias: &str, version: &str, reason: &str) {
        self.with_func(function, |f| {
            if let Some(pc) = f.provisioned.get_mut(alias) {
                pc.fails = Some((version.to_owned(), reason.to_owned()));
            }
        });
    }

    pub(super) fn get_provisioned_concurrency_config(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::get_provisioned_concurrency_config).then_compute_response(lossy(
            st.clone(),
            move |req: &GetProvisionedConcurrencyConfigInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let alias = req.qualifier().unwrap_or_default().to_owned();
                if let Some(f) = s.begin(Call {
                    op: "GetProvisionedConcurrencyConfig",
                    function: function.clone(),
                    qualifier: Some(alias.clone()),
                    ..Default::default()
                }) {
                    return s.faulted(f, GetProvisionedConcurrencyConfigError::generic);
                }
                let now = s.t();
                let pc = s
                    .func(&function)
                    .and_then(|f| f.provisioned.get(&alias).cloned());
                let Some(pc) = pc else {
                    return MockResponse::Error(GetProvisionedConcurrencyConfigError::generic(
                        ErrorMetadata::builder()
                            .code("ProvisionedConcurrencyConfigNotFoundException")
                            .message("No Provisioned Concurrency Config found for this function")
                            .build(),
                    ));
                };
                let done = pc.since.is_none_or(|t| now >= t + pc.takes);
                let failed = pc.fails.as_ref().filter(|(v, _)| *v == pc.version);
                let out = GetProvisionedConcurrencyConfigOutput::builder()
                    .requested_provisioned_concurrent_executions(pc.requested);
                let out = match (done, failed) {
                    (false, _) => out
                        .allocated_provisioned_concurrent_executions(pc.requested / 2)
                        .available_provisioned_concurrent_executions(pc.requested / 2)
                        .status(Status::InProgress),
                    (true, Some((_, reason))) => out
                        .allocated_provisioned_concurrent_executions(0)
                        .available_provisioned_concurrent_executions(0)
                        .status(Status::Failed)
                        .status_reason(reason),
                    (true, None) => out
                        .allocated_provisioned_concurrent_executions(pc.requested)
                        .available_provisioned_concurrent_executions(pc.requested)
                        .status(Status::Ready),
                };
                MockResponse::Output(out.build())
            },
        ))
    }
}
