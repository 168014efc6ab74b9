//! Fleets at scale, simulated on the modelled world in virtual time: a push for 10, 100 and 500
//! functions whose image updates take 30-90 s (drawn from a fixed seed), then a fleet rollback of
//! the 500. The world enforces Lambda's account-wide rates (15 control-plane requests per second,
//! 100 GetFunction) across every run at once, answering 429 with `Retry-After` beyond them; the
//! runs overlap in virtual time as Lambda's queue would run them, at reserved concurrency 10.
//!
//! The floor is what no deployer can beat at the default budget of 10 calls per second: the
//! control-plane calls made, divided by 10, plus the longest image update. `FANOUT_SIM {json}` on
//! stdout is what `make bench` puts into BENCHMARKS.md.

use crate::support;

use self_deployer::report::{Outcome, Report};
use serde_json::{Value, json};
use std::time::Duration;
use support::queue::{LAMBDA_TIMEOUT, Played, play};
use support::world::{RateLimits, World, sha};
use support::{TestEngine, config_with, push};

const RESERVED_CONCURRENCY: usize = 10;
const BUDGET_RPS: f64 = 10.0;
const DEPLOYER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:self-deployer";

/// A small deterministic generator (SplitMix64): the same update times on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Whole seconds from 30 to 90, inclusive.
    fn update_secs(&mut self) -> u64 {
        30 + self.next() % 61
    }
}

struct Fleet {
    w: World,
    names: Vec<String>,
    longest_update: Duration,
    engine: self_deployer::engine::Engine,
}

/// `n` live functions on image a of repository api, rate-limited as Lambda is, and a deployer
/// with the default configuration (budget 10, DEPLOYER_INLINE_MAX 8).
fn fleet(n: usize) -> Fleet {
    let w = World::paused();
    w.rate_limit(RateLimits::default());
    w.ecr_image("api", 'a', Some("v1"));
    w.ecr_image("api", 'b', Some("v2"));
    let mut rng = SplitMix(17);
    let names: Vec<String> = (1..=n).map(|i| format!("fn-{i:03}")).collect();
    let mut longest_update = Duration::ZERO;
    for name in &names {
        w.live_function(name, "api", 'a');
        let secs = Duration::from_secs(rng.update_secs());
        longest_update = longest_update.max(secs);
        w.with_func(name, |f| f.update_takes = secs);
    }
    let config = config_with(
        json!([{"repository": "api", "functions": names}]),
        &[("DEPLOYER_FUNCTION_ARN", DEPLOYER)],
    );
    let engine = TestEngine::new(&w).config(config).build();
    Fleet {
        w,
        names,
        longest_update,
        engine,
    }
}

/// What one fleet action measured, against its floor.
struct Measured {
    took: Duration,
    floor: Duration,
    calls: usize,
    throttled: usize,
    reported_throttles: u32,
    peak_runs: usize,
}

impl Measured {
    /// At most one and a half times the floor (the test fails saying how far it was), then the
    /// row BENCHMARKS.md's fan-out table is made from.
    fn near_the_floor(&self, what: &str, action: &str, n: usize) {
        assert!(
            self.ratio() <= 1.5,
            "{what}: {:?} against a floor of {:?} ({} calls)",
            self.took,
            self.floor,
            self.calls
        );
        println!("FANOUT_SIM {}", self.row(action, n));
    }

    fn of(
        f: &Fleet,
        played: &Played,
        calls_before: usize,
        throttled_before: usize,
        update: Duration,
    ) -> Self {
        let calls = f.w.control_plane_calls() - calls_before;
        let floor = Duration::from_secs_f64(calls as f64 / BUDGET_RPS) + update;
        Self {
            took: played.took,
            floor,
            calls,
            throttled: f.w.throttled().0 + f.w.throttled().1 - throttled_before,
            reported_throttles: played.reports.iter().map(|r| r.throttles).sum(),
            peak_runs: played.peak_runs,
        }
    }

    fn ratio(&self) -> f64 {
        self.took.as_secs_f64() / self.floor.as_secs_f64()
    }

    fn row(&self, action: &str, functions: usize) -> Value {
        json!({
            "action": action,
            "functions": functions,
            "update_secs": {"min": 30, "max": 90, "seed": 17},
            "took_secs": self.took.as_secs_f64(),
            "floor_secs": self.floor.as_secs_f64(),
            "ratio": self.ratio(),
            "control_plane_calls": self.calls,
            "budget_rps": BUDGET_RPS,
            "throttles": self.throttled,
            "peak_runs": self.peak_runs,
        })
    }
}

/// Every function's outcome in the runs' reports (the dispatching run's `dispatched` left out).
fn outcomes(reports: &[Report]) -> Vec<(String, Outcome, Option<String>)> {
    reports
        .iter()
        .flat_map(|r| r.deployments.iter())
        .filter(|d| d.outcome != Outcome::Dispatched)
        .map(|d| (d.function.name().to_owned(), d.outcome, d.reason.clone()))
        .collect()
}

/// The version `live` points to runs image `c`.
fn live_on(w: &World, name: &str, c: char) -> bool {
    let v: u64 = w
        .alias_version(name, "live")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    w.with_func(name, |f| f.versions.get(&v).map(|s| s.code.sha.clone())) == Some(sha(c))
}

async fn deploy(f: &Fleet) -> Measured {
    let played = play(
        &f.w,
        &f.engine,
        push("api", 'b', Some("v2")),
        RESERVED_CONCURRENCY,
    )
    .await;
    let done = outcomes(&played.reports);
    assert_eq!(done.len(), f.names.len(), "every function has one outcome");
    for (name, outcome, reason) in &done {
        assert_eq!(*outcome, Outcome::Deployed, "{name}: {reason:?}");
    }
    for name in &f.names {
        assert!(live_on(&f.w, name, 'b'), "{name} is not live on b");
    }
    assert!(
        played.longest_run < LAMBDA_TIMEOUT - Duration::from_secs(60),
        "every run ends well inside its invocation: {:?}",
        played.longest_run
    );
    let m = Measured::of(f, &played, 0, 0, f.longest_update);
    // No assertion on m.peak_runs: support::queue::play never starts more than it is given, so
    // `peak_runs <= RESERVED_CONCURRENCY` could not fail; the figure is reported, not tested.
    assert!(
        m.reported_throttles as usize >= m.throttled,
        "every 429 the world answered is counted in a report: {} of {}",
        m.reported_throttles,
        m.throttled
    );
    m
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn ten_and_a_hundred_functions_are_live_within_one_and_a_half_times_the_floor() {
    for n in [10, 100] {
        let f = fleet(n);
        let m = deploy(&f).await;
        m.near_the_floor(&format!("{n} functions"), "deploy", n);
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn five_hundred_functions_deploy_and_roll_back_within_one_and_a_half_times_the_floor() {
    let f = fleet(500);
    let m = deploy(&f).await;
    m.near_the_floor("500 functions", "deploy", 500);

    // The whole fleet back, in one request.
    let (calls_before, throttled_before) = (f.w.control_plane_calls(), {
        let (a, b) = f.w.throttled();
        a + b
    });
    let rollback = json!({"action": "rollback", "repository": "api"});
    let played = play(&f.w, &f.engine, rollback, RESERVED_CONCURRENCY).await;
    let done = outcomes(&played.reports);
    assert_eq!(done.len(), 500, "every function has one outcome");
    for (name, outcome, reason) in &done {
        assert_eq!(*outcome, Outcome::RolledBack, "{name}: {reason:?}");
    }
    for name in &f.names {
        assert!(live_on(&f.w, name, 'a'), "{name} is not back on a");
    }
    let m = Measured::of(&f, &played, calls_before, throttled_before, Duration::ZERO);
    m.near_the_floor("rollback of 500", "rollback", 500);
}
