//! The test kit shared by the integration tests: the modelled Lambda world (`world`), fixtures for
//! configurations and events (`fixtures`), and the one place that builds an engine (`builder`).
//!
//! Every test file is a module of tests/main.rs and reaches the kit as `crate::support`. Declared
//! `pub` there, the kit is that crate's public interface, so rustc does not report a helper that no
//! test happens to use today, while it still reports private code that nothing uses.

pub mod builder;
pub mod canary;
pub mod fixtures;
pub mod github;
pub mod queue;
pub mod world;

pub use builder::{BUS, TOPIC, TestEngine, engine, push_b, push_b_by, sns_subjects};
pub use fixtures::{
    DEPLOYER_ARN, SCHEDULER_ROLE, config, config_with, one_target, push, push_at, scheduling_config,
};

/// The report of a run that must have been a deploy or rollback with a valid payload.
pub trait IntoReport {
    fn report(self) -> self_deployer::report::Report;
}

impl<E: std::fmt::Debug> IntoReport for Result<self_deployer::engine::Response, E> {
    fn report(self) -> self_deployer::report::Report {
        self.expect("a valid payload")
            .into_report()
            .expect("a deploy or rollback report")
    }
}
