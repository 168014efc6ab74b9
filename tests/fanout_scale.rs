//! Fan-out at scale, simulated on the modelled world in virtual time: one push for 500 functions
//! whose image updates take 30-90 s (drawn from a fixed seed). The dispatching run queues 500
//! invocations and waits for none; each queued payload is then run as Lambda's queue would run
//! it, and the per-function durations give the wall time at reserved concurrency 10, set against
//! deploying everything inline at DEPLOYER_MAX_PARALLEL 4.
//!
//! The world runs one engine run at a time (its clock is shared), so the runs are played one after
//! another and their virtual durations scheduled onto 10 (or 4) slots afterwards, the way Lambda's
//! asynchronous queue (or `buffered(4)`) would run them. `FANOUT_SIM {json}` on stdout is what
//! `make bench` puts into BENCHMARKS.md.

use crate::support;

use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_smithy_async::time::TimeSource;
use self_deployer::config::Config;
use self_deployer::engine::Engine;
use self_deployer::report::Outcome;
use serde_json::json;
use std::time::Duration;
use support::world::{World, image_uri};
use support::{IntoReport, TestEngine, config_with, push};

const FUNCTIONS: usize = 500;
const RESERVED_CONCURRENCY: usize = 10;
const INLINE_PARALLEL: usize = 4;
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);
const DEPLOYER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:self-deployer";

/// A small deterministic generator (SplitMix64): the same 500 update times on every run.
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

/// Lambda's asynchronous queue with reserved concurrency `slots`: each queued run starts, in
/// order, as soon as any slot is free. Returns when the last one ends.
fn queue_makespan(durations: &[Duration], slots: usize) -> Duration {
    let mut free = vec![Duration::ZERO; slots];
    for d in durations {
        let slot = free.iter_mut().min().expect("at least one slot");
        *slot += *d;
    }
    free.into_iter().max().unwrap_or_default()
}

/// One run deploying all of them itself, as `deploy_inline` does (`buffered(n)`): results are
/// taken in order, and a new pipeline starts only when the oldest one's result has been taken.
fn buffered_makespan(durations: &[Duration], n: usize) -> Duration {
    let mut taken: Vec<Duration> = Vec::with_capacity(durations.len());
    for (i, d) in durations.iter().enumerate() {
        let start = if i < n { Duration::ZERO } else { taken[i - n] };
        let end = start + *d;
        let previous = taken.last().copied().unwrap_or_default();
        taken.push(end.max(previous));
    }
    taken.last().copied().unwrap_or_default()
}

#[test]
fn the_schedules_are_what_they_claim_on_small_cases() {
    let s = |v: &[u64]| {
        v.iter()
            .map(|x| Duration::from_secs(*x))
            .collect::<Vec<_>>()
    };
    // Two slots, greedy: 10 | 3+3+3 → 10.
    assert_eq!(
        queue_makespan(&s(&[10, 3, 3, 3]), 2),
        Duration::from_secs(10)
    );
    // buffered(2): the third and fourth wait for the first (10) to be taken, though the second
    // ended at 3.
    assert_eq!(
        buffered_makespan(&s(&[10, 3, 3, 3]), 2),
        Duration::from_secs(13)
    );
    assert_eq!(
        buffered_makespan(&s(&[5, 5, 5]), 1),
        Duration::from_secs(15)
    );
}

/// An engine on `w` whose Lambda client has no attempt timeout: in the modelled world every
/// answer is ready at once, but a timeout sleep that is polled and then loses the race still
/// moves the shared virtual clock (by its full length), which would measure the harness rather
/// than the deployer.
fn sim_engine(w: &World, config: Config) -> Engine {
    let conf = w
        .client()
        .config()
        .to_builder()
        .timeout_config(TimeoutConfig::disabled())
        .build();
    TestEngine::new(w)
        .config(config)
        .lambda(aws_sdk_lambda::Client::from_conf(conf))
        .build()
}

#[tokio::test(flavor = "current_thread")]
async fn five_hundred_functions_dispatched_and_deployed_within_the_arithmetic() {
    let w = World::new();
    let mut rng = SplitMix(17);
    let mut update = std::collections::HashMap::new();
    let names: Vec<String> = (1..=FUNCTIONS).map(|i| format!("fn-{i:03}")).collect();
    for name in &names {
        w.live_function(name, "api", 'a');
        let secs = rng.update_secs();
        update.insert(name.clone(), secs);
        w.with_func(name, |f| f.update_takes = Duration::from_secs(secs));
    }
    let config = config_with(
        json!([{"repository": "api", "functions": names}]),
        &[("DEPLOYER_FUNCTION_ARN", DEPLOYER)],
    );
    let deployer = sim_engine(&w, config.clone());

    // The dispatching run: 500 asynchronous Invokes, no waiting on any update.
    let t0 = w.time.now();
    let r = deployer
        .handle(&push("api", 'b', Some("v2")))
        .await
        .report();
    let dispatch_took = w.time.now().duration_since(t0).unwrap();
    assert_eq!(r.outcome, Outcome::Dispatched, "{:?}", r.reason);
    let queued = w.dispatched();
    assert_eq!(queued.len(), FUNCTIONS);
    assert!(w.mutating_calls().is_empty());
    assert!(
        dispatch_took < Duration::from_secs(1),
        "the dispatching run waits for nothing: {dispatch_took:?}"
    );

    // Lambda's queue runs each payload: an ordinary deployment of one function, in its own
    // invocation. Each is played on a world of its own (the function as it stood, its update
    // time): the runs share nothing, and one long-lived virtual clock would slow the harness.
    let mut durations = Vec::with_capacity(FUNCTIONS);
    let mut overheads = Vec::with_capacity(FUNCTIONS);
    for payload in &queued {
        let name = payload["function"].as_str().unwrap().to_owned();
        let own = World::new();
        own.live_function(&name, "api", 'a');
        own.with_func(&name, |f| {
            f.update_takes = Duration::from_secs(update[&name])
        });
        let start = own.time.now();
        let r = sim_engine(&own, config.clone())
            .handle(payload)
            .await
            .report();
        let took = own.time.now().duration_since(start).unwrap();
        assert_eq!(own.latest_image(&name), image_uri("api", 'b'));
        assert_eq!(r.outcome, Outcome::Deployed, "{name}: {:?}", r.reason);
        let secs = Duration::from_secs(update[&name]);
        assert!(
            took >= secs,
            "{name} took {took:?}, its update alone {secs:?}"
        );
        overheads.push(took - secs);
        durations.push(took);
    }
    let longest = durations.iter().max().copied().unwrap();
    assert!(
        longest < Duration::from_secs(120),
        "no per-function run comes near {LAMBDA_TIMEOUT:?}: the longest took {longest:?}"
    );
    let worst_overhead = overheads.iter().max().copied().unwrap();
    assert!(
        worst_overhead <= Duration::from_secs(2),
        "polling notices the end of an update within a second or so: {worst_overhead:?}"
    );

    // The arithmetic: with 10 slots, the total is at least the work divided by 10 and at most
    // that plus one (longest) run; inline at 4 it is at least the work divided by 4.
    let work: Duration = durations.iter().sum();
    let fanned = queue_makespan(&durations, RESERVED_CONCURRENCY);
    let ideal = work / RESERVED_CONCURRENCY as u32;
    assert!(
        fanned >= ideal && fanned <= ideal + longest,
        "{fanned:?} vs {ideal:?}"
    );
    let inline = buffered_makespan(&durations, INLINE_PARALLEL);
    assert!(inline >= work / INLINE_PARALLEL as u32);
    let invocations = inline.as_secs_f64() / LAMBDA_TIMEOUT.as_secs_f64();
    assert!(
        invocations > 8.0,
        "inline, the same push needs many 15-minute invocations' worth: {invocations:.1}"
    );
    let mean = work.as_secs_f64() / FUNCTIONS as f64;
    println!(
        "FANOUT_SIM {}",
        json!({
            "functions": FUNCTIONS,
            "update_secs": {"min": 30, "max": 90, "seed": 17},
            "dispatch_virtual_secs": dispatch_took.as_secs_f64(),
            "dispatch_invokes": queued.len(),
            "run_mean_secs": mean,
            "run_longest_secs": longest.as_secs_f64(),
            "run_overhead_max_secs": worst_overhead.as_secs_f64(),
            "work_secs": work.as_secs_f64(),
            "reserved_concurrency": RESERVED_CONCURRENCY,
            "fanout_total_secs": fanned.as_secs_f64(),
            "fanout_ideal_secs": ideal.as_secs_f64(),
            "inline_parallel": INLINE_PARALLEL,
            "inline_total_secs": inline.as_secs_f64(),
            "inline_invocations": invocations,
        })
    );
}
