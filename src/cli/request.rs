//! The flags of each subcommand, as the same typed request a payload becomes.

use super::Command;
use crate::input::{
    DeployRequest, DeploySource, FleetRequest, FleetRollbackRequest, FleetStatusRequest,
    HistoryRequest, PromoteRequest, PromoteStageRequest, ReconcileRequest, Request,
    RollbackRequest, StatusRequest,
};
use crate::types::Reason;

impl Command {
    /// The request these flags ask for; `Handle` reads a payload instead. A subcommand whose flags
    /// choose between forms of a request (a fleet's or one function's, by image or by tag) has
    /// its own chooser; the rest map their flags one to one.
    pub fn request(&self) -> Option<Request> {
        match self {
            Command::Handle { .. } => None,
            Command::Rollback { .. } => self.rollback_request(),
            Command::Deploy { .. } => self.deploy_request(),
            Command::Status { .. } => self.status_request(),
            _ => self.one_form_request(),
        }
    }

    /// `rollback`: every function of a repository with --repository, else one function.
    fn rollback_request(&self) -> Option<Request> {
        Some(match self {
            Command::Rollback {
                repository: Some(repository),
                digest,
                reason,
                dry_run,
                ..
            } => Request::Fleet(FleetRequest::Rollback(FleetRollbackRequest {
                repository: repository.clone(),
                digest: digest.clone(),
                reason: given(reason),
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
                reason: given(reason),
                dry_run: *dry_run,
                force: *force,
            }),
            _ => return None,
        })
    }

    /// `deploy`: an image to a function, or a repository's tag to its functions.
    fn deploy_request(&self) -> Option<Request> {
        let Command::Deploy {
            function,
            image,
            repository,
            tag,
            reason,
            dry_run,
        } = self
        else {
            return None;
        };
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
        Some(Request::Deploy(DeployRequest {
            source,
            pushed: None,
            reason: given(reason),
            dry_run: *dry_run,
        }))
    }

    /// `status`: the fleet check with --check, a repository's fleet, or functions.
    fn status_request(&self) -> Option<Request> {
        Some(match self {
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
            _ => return None,
        })
    }

    /// The subcommands whose flags are their request's fields.
    fn one_form_request(&self) -> Option<Request> {
        Some(match self {
            Command::Promote {
                function,
                alias,
                reason,
            } => Request::Promote(PromoteRequest {
                function: function.clone(),
                alias: alias.clone(),
                reason: given(reason),
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
                reason: given(reason),
            }),
            Command::Handle { .. }
            | Command::Rollback { .. }
            | Command::Deploy { .. }
            | Command::Status { .. } => return None,
        })
    }
}

/// A reason as given, or none when it is blank (as a payload's blank reason is).
fn given(reason: &Option<Reason>) -> Option<Reason> {
    reason.clone().filter(|r| !r.is_blank())
}
