//! One file per thing the deployer can be asked to do. Each takes a validated request and what it
//! needs ([`Deps`]) and returns a report; none of them talks to AWS except through the gateway.

pub mod advance;
pub mod alarm;
pub mod deploy;
pub mod fleet;
pub mod fleet_rollback;
pub mod fleet_status;
pub mod history;
mod index_child;
pub mod promote;
pub mod promote_stage;
pub mod reconcile;
pub mod rollback;
mod rollback_images;
pub mod status;

pub use crate::ops::Deps;
