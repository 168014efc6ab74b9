//! self-deployer: deploys Lambda functions the moment their container image lands in ECR.
//!
//! `$LATEST` is staging, versions are immutable snapshots, the alias is the contract with callers.
//! The alias only ever moves to a version published from code that passed the smoke test.

pub mod action;
pub mod aws;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod ecr;
pub mod engine;
pub mod error;
pub mod event;
pub mod lambda;
pub mod notify;
pub mod plan;
pub mod report;
pub mod rollback;
pub mod status;
pub mod types;
