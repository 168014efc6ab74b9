//! Provisioned concurrency on an alias (GetProvisionedConcurrencyConfig). When the alias moves,
//! Lambda deallocates it from the old version and allocates it to the new one, which takes a
//! minute or two (Lambda developer guide, "Configuring provisioned concurrency").

use super::Lambda;
use crate::gateway::budget::Quota;
use crate::gateway::{ApiError, error_code};
use crate::report::Provisioned;
use crate::text::{one_line, truncate};
use crate::types::AliasName;

impl Lambda {
    /// The alias's provisioned concurrency, `None` when it has none.
    pub async fn provisioned(
        &self,
        function: &str,
        alias: &AliasName,
    ) -> Result<Option<Provisioned>, ApiError> {
        // A control-plane call like any other: paced by the run's share of the budget.
        let res = self
            .budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .get_provisioned_concurrency_config()
                    .function_name(function)
                    .qualifier(alias.as_str())
                    .send()
            })
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("ProvisionedConcurrencyConfigNotFoundException") => {
                return Ok(None);
            }
            // A 404 that names no AWS error at all comes from an endpoint without this API (an
            // emulator such as moto routes it elsewhere): no provisioned concurrency there either.
            Err(e)
                if error_code(&e).is_none()
                    && e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(ApiError::from_sdk("GetProvisionedConcurrencyConfig", &e)),
        };
        let count = |n: Option<i32>| n.unwrap_or(0).max(0) as u32;
        Ok(Some(Provisioned {
            requested: count(out.requested_provisioned_concurrent_executions()),
            allocated: count(out.allocated_provisioned_concurrent_executions()),
            status: out
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "UNKNOWN".into()),
            reason: out.status_reason().map(|r| truncate(&one_line(r), 300)),
        }))
    }
}
