//! Shared test support: the modelled Lambda world, and builders for configs and events.
#![allow(dead_code)]

pub mod world;

use self_deployer::config::Config;
use self_deployer::engine::Engine;
use self_deployer::notify::Notifier;
use serde_json::{Value, json};
use world::{ACCOUNT, REGION, World, digest};

pub fn config(targets: Value) -> Config {
    config_with(targets, &[])
}

pub fn config_with(targets: Value, extra: &[(&str, &str)]) -> Config {
    let targets = targets.to_string();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| {
        if k == "DEPLOYER_TARGETS" {
            return Some(targets.clone());
        }
        extra.iter().find(|(ek, _)| ek == k).map(|(_, v)| v.clone())
    })
    .expect("test config is valid")
}

/// An engine on the world, running in the world's account and region.
pub fn engine(world: &World, config: Config) -> Engine {
    home(Engine::new(
        config,
        world.client(),
        world.ecr_client(),
        Notifier::disabled(),
    ))
}

/// Tells the engine it runs in the world's account and region (as Lambda or STS would).
pub fn home(e: Engine) -> Engine {
    e.set_home(self_deployer::plan::Home {
        account: ACCOUNT.parse().unwrap(),
        region: REGION.parse().unwrap(),
    });
    e
}

/// An "ECR Image Action" push event as EventBridge delivers it.
pub fn push(repo: &str, c: char, tag: Option<&str>) -> Value {
    let mut detail = json!({
        "result": "SUCCESS", "repository-name": repo, "image-digest": digest(c), "action-type": "PUSH"
    });
    if let Some(t) = tag {
        detail["image-tag"] = json!(t);
    }
    json!({
        "version": "0", "id": "7c5a3a1e-0000-4000-8000-000000000000",
        "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": ACCOUNT, "time": "2026-11-26T07:00:00Z", "region": REGION,
        "resources": [], "detail": detail
    })
}

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
