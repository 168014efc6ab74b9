//! The fleet's door: a fleet rollback, one run's batch of a fan-out (a deploy or a rollback), or
//! the fleet's summary check.

use super::Deps;
use crate::fanout::{batch, quiet, summary};
use crate::input::{BatchWork, FleetRequest, InputError};
use crate::report::Report;

/// A fleet rollback, or one run's batch of a fan-out.
pub async fn on_fleet(deps: &Deps<'_>, f: &FleetRequest) -> Result<Report, InputError> {
    match f {
        FleetRequest::Rollback(r) => {
            Box::pin(super::fleet_rollback::on_fleet_rollback(deps, r)).await
        }
        FleetRequest::Batch(b) => {
            let mut report = match &b.work {
                BatchWork::Deploy { image, pushed } => {
                    Box::pin(batch::on_deploy_batch(deps, b, image, *pushed)).await?
                }
                BatchWork::Rollback { repository, digest } => {
                    Box::pin(super::fleet_rollback::roll_back_all(
                        deps,
                        repository,
                        &b.functions,
                        digest.as_ref(),
                        b.reason.as_ref(),
                        false,
                    ))
                    .await?
                }
            };
            if let Some(key) = &b.summary {
                quiet::leave_failures(&deps.ctx, key, &mut report).await;
            }
            Ok(report)
        }
        FleetRequest::Report(r) => Ok(Box::pin(summary::on_report(deps, r)).await),
        // The engine answers a fleet's status itself (it is not a report).
        FleetRequest::Status(_) => Err(InputError::new(
            "payload.action",
            "a fleet's status is not a deployment",
        )),
    }
}
