//! Benchmark 1: how soon each waiting strategy notices that a Lambda update finished, and how
//! many polls it spends, for updates that take 2 s, 30 s, 2 min and 10 min. Virtual time on the
//! modelled Lambda world: deterministic, and a 10-minute update takes microseconds.
//!
//! `cargo run --example poll_strategies` prints a Markdown table (make bench puts it in
//! BENCHMARKS.md). An example rather than a bench target: virtual time makes optimisation
//! irrelevant, and the dev profile reuses the test build.

#[path = "../tests/support/world/mod.rs"]
pub mod world;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::types::LastUpdateStatus;
use aws_smithy_async::rt::sleep::AsyncSleep;
use aws_smithy_async::time::TimeSource;
use std::time::{Duration, SystemTime};
use world::{Code, World};

#[derive(Clone, Copy)]
enum Strategy {
    Ours,
    SdkWaiter,
    AwsCli,
    Lambroll,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Ours => "self-deployer (250 ms, 500 ms, then 1 s)",
            Strategy::SdkWaiter => "SDK `wait_until_function_updated_v2` (1 s → 300 s exponential)",
            Strategy::AwsCli => "aws CLI `wait function-updated` (5 s × 60)",
            Strategy::Lambroll => "lambroll-style backoff (1 s doubling to 10 s)",
        }
    }
}

/// Runs one strategy against a function whose update finishes `t` after it starts. Returns the
/// delay between completion and detection (None: gave up) and the number of polls.
async fn measure(strategy: Strategy, t: Duration) -> (Option<Duration>, usize) {
    let w = World::new();
    w.add_function("f", Code::of("api", 'a'));
    let start = w.time.now();
    let done_at = start + t;
    w.with_func("f", |f| {
        f.status = LastUpdateStatus::InProgress;
        f.done_at = Some(done_at);
    });
    let client = w.client();
    let noticed: Option<SystemTime> = match strategy {
        Strategy::Ours => {
            self_deployer::wait_until_settled(client.clone(), "f", Duration::from_secs(3600))
                .await
                .ok()
                .map(|_| w.time.now())
        }
        Strategy::SdkWaiter => client
            .wait_until_function_updated_v2()
            .function_name("f")
            .wait(Duration::from_secs(3600))
            .await
            .ok()
            .map(|_| w.time.now()),
        Strategy::AwsCli => fixed_waiter(&client, &w, Duration::from_secs(5), 60).await,
        Strategy::Lambroll => backoff_waiter(&client, &w).await,
    };
    let polls = w.calls().iter().filter(|c| c.op == "GetFunction").count();
    (
        noticed.map(|n| n.duration_since(done_at).unwrap_or_default()),
        polls,
    )
}

async fn settled(client: &Client) -> bool {
    let out = client
        .get_function()
        .function_name("f")
        .send()
        .await
        .expect("world answers");
    let status = out
        .configuration()
        .and_then(|c| c.last_update_status())
        .cloned();
    status != Some(LastUpdateStatus::InProgress)
}

/// The aws CLI waiter: poll, then `delay` between attempts, `attempts` in all.
async fn fixed_waiter(
    client: &Client,
    w: &World,
    delay: Duration,
    attempts: usize,
) -> Option<SystemTime> {
    for i in 0..attempts {
        if settled(client).await {
            return Some(w.time.now());
        }
        if i + 1 < attempts {
            w.sleep.sleep(delay).await;
        }
    }
    None
}

async fn backoff_waiter(client: &Client, w: &World) -> Option<SystemTime> {
    let mut delay = Duration::from_secs(1);
    for _ in 0..1000 {
        if settled(client).await {
            return Some(w.time.now());
        }
        w.sleep.sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    None
}

fn fmt(d: Option<Duration>) -> String {
    match d {
        Some(d) if d.as_secs() >= 60 => format!("{:.1} min", d.as_secs_f64() / 60.0),
        Some(d) => format!("{:.2} s", d.as_secs_f64()),
        None => "gave up".to_owned(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let times = [2u64, 30, 120, 600];
    println!(
        "| strategy | {} |",
        times
            .map(|t| format!(
                "T = {}",
                if t >= 60 {
                    format!("{} min", t / 60)
                } else {
                    format!("{t} s")
                }
            ))
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(times.len()));
    for s in [
        Strategy::Ours,
        Strategy::SdkWaiter,
        Strategy::AwsCli,
        Strategy::Lambroll,
    ] {
        let mut cells = Vec::new();
        for t in times {
            let (delay, polls) = measure(s, Duration::from_secs(t)).await;
            cells.push(match delay {
                Some(_) => format!("{} late, {polls} polls", fmt(delay)),
                None => format!("gave up after {polls} polls"),
            });
        }
        println!("| {} | {} |", s.name(), cells.join(" | "));
    }
}
