//! Lambda's asynchronous queue in front of the deployer, played on a paused world
//! ([`World::paused`]): a payload starts a run as soon as the reserved concurrency has a free slot,
//! the runs overlap in virtual time, and what a run dispatches joins the queue. Every run gets the
//! 15-minute deadline an invocation has.

use super::world::World;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use self_deployer::engine::{Engine, Invocation};
use self_deployer::report::Report;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// The deployer's timeout as the IaC sets it.
pub const LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);

/// What playing the queue showed.
#[derive(Debug)]
pub struct Played {
    /// Every run's report, in the order the runs ended.
    pub reports: Vec<Report>,
    /// From the first run's start to the last run's end.
    pub took: Duration,
    /// Most runs at once.
    pub peak_runs: usize,
    /// The longest single run.
    pub longest_run: Duration,
}

/// Plays `first` (e.g. a push) and everything it dispatches, at most `reserved` runs at once.
pub async fn play(w: &World, engine: &Engine, first: Value, reserved: usize) -> Played {
    let start = w.now();
    let mut queue: VecDeque<Value> = VecDeque::from([first]);
    let mut seen = w.dispatched().len();
    let mut running = FuturesUnordered::new();
    let (mut reports, mut peak, mut longest) = (Vec::new(), 0, Duration::ZERO);
    loop {
        while running.len() < reserved {
            let Some(payload) = queue.pop_front() else {
                break;
            };
            running.push(run(w, engine, payload));
        }
        peak = peak.max(running.len());
        let Some((report, took)) = running.next().await else {
            break;
        };
        longest = longest.max(took);
        reports.push(report);
        let dispatched = w.dispatched();
        queue.extend(dispatched[seen..].iter().cloned());
        seen = dispatched.len();
    }
    Played {
        reports,
        took: since(w, start),
        peak_runs: peak,
        longest_run: longest,
    }
}

async fn run(w: &World, engine: &Engine, payload: Value) -> (Report, Duration) {
    let start = w.now();
    let request = engine
        .parse(&payload)
        .expect("the queue holds valid payloads");
    let inv = Invocation {
        request_id: None,
        deadline: Some(start + LAMBDA_TIMEOUT),
    };
    let report = engine
        .run(request, inv)
        .await
        .expect("a dispatched payload names configured functions")
        .into_report()
        .expect("a deploy or rollback report");
    (report, since(w, start))
}

fn since(w: &World, start: SystemTime) -> Duration {
    w.now().duration_since(start).unwrap_or_default()
}
