//! The flags of each subcommand, as the same typed request a payload becomes.

use super::Command;
use crate::input::{
    DeployRequest, DeploySource, FleetRequest, FleetRollbackRequest, FleetStatusRequest,
    HistoryRequest, PromoteRequest, PromoteStageRequest, ReconcileRequest, Request,
    RollbackRequest, StatusRequest,
};
use crate::types::Reason;

impl Command {
    /// The request these flags ask for; `Handle` reads a payload instead.
    pub fn request(&self) -> Option<Request> {
        let blank = |r: &Option<Reason>| r.clone().filter(|r| !r.is_blank());
        Some(match self {
            Command::Handle { .. } => return None,
            Command::Rollback {
                repository: Some(repository),
                digest,
                reason,
                dry_run,
                ..
            } => Request::Fleet(FleetRequest::Rollback(FleetRollbackRequest {
                repository: repository.clone(),
                digest: digest.clone(),
                reason: blank(reason),
                dry_run: *dry_run,
            })),
            Command::Rollback {
                function,
                to,
                alias,
                reason,
                dry_run,
                force,
                ..
            } => Request::Rollback(RollbackRequest {
                // clap requires --function unless --repository is given.
                function: function.clone()?,
                version: *to,
                alias: alias.clone(),
                reason: blank(reason),
                dry_run: *dry_run,
                force: *force,
            }),
            Command::Deploy {
                function,
                image,
                repository,
                tag,
                reason,
                dry_run,
            } => {
                let source = match (function, image, repository, tag) {
                    (Some(function), Some(image), _, _) => DeploySource::Image {
                        function: function.clone(),
                        image: image.clone(),
                    },
                    (_, _, Some(repository), Some(tag)) => DeploySource::Tag {
                        repository: repository.clone(),
                        tag: tag.clone(),
                    },
                    // clap's `requires` makes every other combination a usage error.
                    _ => return None,
                };
                Request::Deploy(DeployRequest {
                    source,
                    pushed: None,
                    reason: blank(reason),
                    dry_run: *dry_run,
                })
            }
            Command::Promote {
                function,
                alias,
                reason,
            } => Request::Promote(PromoteRequest {
                function: function.clone(),
                alias: alias.clone(),
                reason: blank(reason),
            }),
            Command::Status { check: true, .. } => Request::Reconcile(ReconcileRequest {
                dry_run: false,
                check: true,
            }),
            Command::Status {
                repository: Some(repository),
                digest,
                ..
            } => Request::Fleet(FleetRequest::Status(FleetStatusRequest {
                repository: repository.clone(),
                digest: digest.clone(),
            })),
            Command::Status { function, .. } => Request::Status(StatusRequest {
                function: function.clone(),
            }),
            Command::Reconcile { dry_run } => Request::Reconcile(ReconcileRequest {
                dry_run: *dry_run,
                check: false,
            }),
            Command::History {
                function,
                limit,
                dora,
                days,
                ..
            } => Request::History(HistoryRequest {
                function: function.clone(),
                limit: *limit,
                dora_days: dora.then(|| days.unwrap_or(30)),
            }),
            Command::PromoteStage {
                from,
                to,
                now,
                reason,
            } => Request::PromoteStage(PromoteStageRequest {
                from: from.clone(),
                to: to.clone(),
                digest: None,
                due: None,
                now: *now,
                reason: blank(reason),
            }),
        })
    }
}
