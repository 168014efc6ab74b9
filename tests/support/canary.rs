//! A canary rollout on the modelled world, shared by the rollout tests: api-dev on version 1 (image
//! a), alarm api-5xx OK, steps of 10 % and 50 %, checks every 60 s, a step every 300 s; the
//! Scheduler's deliveries are fired by hand, in virtual time.

use super::world::World;
use super::{
    DEPLOYER_ARN as SELF, IntoReport, SCHEDULER_ROLE as ROLE, TestEngine, config_with, push,
};
use self_deployer::engine::Engine;
use self_deployer::report::Report;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// `on_inconclusive: proceed` with no wait keeps these tests' intent from before verdicts (issue
/// 26): a step with too little traffic moves on at its interval. tests/rollout_verdicts.rs covers
/// holding and the defaults.
pub fn targets() -> Value {
    json!([{"repository": "api", "functions": ["api-dev"],
            "rollout": {"steps": [10, 50], "interval_secs": 300, "check_secs": 60,
                        "alarms": ["api-5xx"], "max_error_rate": 0.05, "min_invocations": 20,
                        "on_inconclusive": "proceed", "max_wait_secs": 0}}])
}

pub struct Canary {
    pub w: World,
    pub e: Engine,
    pub subjects: Arc<Mutex<Vec<String>>>,
}

impl Default for Canary {
    fn default() -> Self {
        Self::new()
    }
}

impl Canary {
    /// api-dev on version 1 (image a), alarm api-5xx OK, a rollout configured.
    pub fn new() -> Self {
        Self::with(&[])
    }

    pub fn with(extra: &[(&str, &str)]) -> Self {
        let c = Self::on(targets(), extra);
        c.w.alarm("api-5xx", "OK");
        c
    }

    /// api-dev on version 1 (image a) under these `DEPLOYER_TARGETS` and other variables, able to
    /// schedule checks, notifications recorded; no alarm in the world.
    pub fn on(targets: Value, extra: &[(&str, &str)]) -> Self {
        let w = World::new();
        w.live_function("api-dev", "api", 'a');
        let mut vars = vec![
            ("DEPLOYER_SCHEDULER_ROLE_ARN", ROLE),
            ("DEPLOYER_FUNCTION_ARN", SELF),
        ];
        vars.extend_from_slice(extra);
        let (rule, subjects) = super::sns_subjects();
        let e = TestEngine::new(&w)
            .config(config_with(targets, &vars))
            .sns(&rule)
            .rollouts()
            .build();
        Self { w, e, subjects }
    }

    pub async fn push(&self, c: char, tag: &str) -> Report {
        self.e.handle(&push("api", c, Some(tag))).await.report()
    }

    /// What EventBridge Scheduler does at the schedule's time: deletes it and invokes us with its
    /// input.
    pub async fn fire(&self) -> Report {
        let s = self.w.only_schedule();
        self.w.advance_to(s.at());
        self.w.lock().schedules.remove(&s.name);
        self.e.handle(&s.payload()).await.report()
    }

    pub fn alias(&self) -> (String, Vec<(String, f64)>) {
        self.w.with_func("api-dev", |f| {
            let a = &f.aliases["live"];
            let mut r: Vec<(String, f64)> =
                a.routing.iter().map(|(k, v)| (k.clone(), *v)).collect();
            r.sort_by(|x, y| x.0.cmp(&y.0));
            (a.version.clone(), r)
        })
    }

    pub fn subjects(&self) -> Vec<String> {
        std::mem::take(&mut *self.subjects.lock().unwrap())
    }
}
