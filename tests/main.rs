//! Every integration test in one test binary. Each file here is one concern (deploy, rollout,
//! reconcile, ...) and a module of this crate; they share the modelled Lambda world in `support`.
//!
//! One binary rather than one per file: each test binary links every AWS SDK, ~380 MB with debug
//! info, and twenty of them filled the CI machine's disk and spent minutes linking. Run one file's
//! tests with a filter: `cargo test --test tests reconcile::`.

pub mod support;

mod accounts;
mod alias_transition;
mod cli;
mod control;
mod deploy;
mod deploy_events;
mod deploy_failures;
mod deploy_index;
mod deploy_index_edges;
mod deploy_races;
mod deploy_waiting;
mod fanout;
mod fanout_safety;
mod fanout_scale;
mod faults;
mod fleet_status;
mod fleet_summary;
mod github;
mod handler;
mod history;
mod hostile;
mod idle;
mod image_checks;
mod lead_time;
mod lost_responses;
mod notify_render;
mod notify_sinks;
mod provisioned;
mod provisioned_rollouts;
mod reconcile;
mod reconcile_safety;
mod rollback_images;
mod rollout;
mod rollout_events;
mod rollout_faults;
mod rollout_safety;
mod rollout_verdicts;
mod signals;
mod stages;
mod throttles;
