//! Configurations and events, as the deployer gets them.

use super::world::{ACCOUNT, REGION, digest};
use self_deployer::config::Config;
use serde_json::{Value, json};

/// The usual `DEPLOYER_TARGETS`: pushes to repository api deploy function api-dev.
pub fn one_target() -> Value {
    json!([{"repository": "api", "functions": ["api-dev"]}])
}

/// A configuration with these `DEPLOYER_TARGETS` and defaults for everything else.
pub fn config(targets: Value) -> Config {
    config_with(targets, &[])
}

/// The scheduler's role and the deployer's own ARN in the test account: what rollouts and stage
/// checks need to make their schedules.
pub const SCHEDULER_ROLE: &str = "arn:aws:iam::123456789012:role/self-deployer-scheduler";
pub const DEPLOYER_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:self-deployer";

/// A configuration with these `DEPLOYER_TARGETS` that can schedule checks (rollouts, stages).
pub fn scheduling_config(targets: Value) -> Config {
    config_with(
        targets,
        &[
            ("DEPLOYER_SCHEDULER_ROLE_ARN", SCHEDULER_ROLE),
            ("DEPLOYER_FUNCTION_ARN", DEPLOYER_ARN),
        ],
    )
}

/// A configuration with these `DEPLOYER_TARGETS` and other variables set, e.g.
/// `("DEPLOYER_MAX_PARALLEL", "3")`.
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

/// An "ECR Image Action" push event as EventBridge delivers it: image `digest(c)` pushed to
/// `repo` in the world's account and region, at 2026-11-26T07:00:00Z.
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

/// A tagged push event with its own push time (RFC 3339).
pub fn push_at(repo: &str, c: char, tag: &str, time: &str) -> Value {
    let mut e = push(repo, c, Some(tag));
    e["time"] = json!(time);
    e
}
