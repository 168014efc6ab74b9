//! The test kit shared by the integration tests: the modelled Lambda world (`world`), fixtures for
//! configurations and events (`fixtures`), and the one place that builds an engine (`builder`).
//!
//! Each test file declares it `pub mod support;`. Every test file is its own crate and uses only
//! part of the kit; declared `pub`, the kit is that crate's public interface, so rustc does not
//! report the helpers one file happens not to use, while it still reports private code that
//! nothing uses.

pub mod builder;
pub mod fixtures;
pub mod world;

pub use builder::{BUS, TOPIC, TestEngine, engine, push_b, sns_subjects};
pub use fixtures::{config, config_with, one_target, push, push_at};

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
