//! A small, strict model of the Lambda control plane, served to the real SDK client through
//! aws-smithy-mocks. Unlike stock moto it enforces what the engine relies on: RevisionId and
//! CodeSha256 guards, updates that stay InProgress for a while (in virtual time), Invoke of a
//! qualifier, version numbers that are never reused, aliases that protect their versions.
//! Every call is recorded with the guard values it carried, so tests can assert them exactly.
//!
//! Here: the world and its setup. The model's types are in `model`, the Lambda rules in `lambda`
//! (functions, code, versions) and `aliases`, ECR in `ecr`, injected faults in `faults`, virtual
//! time in `time`, the SDK clients in `clients`, and what tests ask afterwards in `queries`.

mod aliases;
mod clients;
mod cloudwatch;
mod dispatch;
mod ecr;
mod faults;
mod idle;
mod lambda;
mod manifests;
mod model;
mod provisioned;
mod queries;
mod rate;
mod rollouts;
mod sts;
mod tags;
mod time;
mod transitions;

pub use cloudwatch::Datapoint;
pub use ecr::{Scan, Signing};
pub use faults::Fault;
pub use model::{
    ACCOUNT, Alias, Answer, Call, Code, Func, MUTATING, REGION, Snapshot, digest, image_uri, sha,
};
pub use rate::RateLimits;
pub use rollouts::Schedule;
pub use sts::{Assumptions, Signers, access_key_of};

use aws_sdk_lambda::types::State as LambdaState;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::test_util::{InstantSleep, ManualTimeSource, instant_time_and_sleep};
use aws_smithy_async::time::SharedTimeSource;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Hooks run just before a call is served: e.g. "someone moves the alias during our deploy".
type Hook = Box<dyn FnMut(&mut WorldState) + Send>;

pub struct WorldState {
    /// Set by a Timeout fault: the connector never answers the request being served.
    pub timeout_next: Arc<AtomicBool>,
    /// Set by a Lost fault: the call being served is applied, and its answer then lost.
    pub(super) lose_current: bool,
    /// Set by a LostBlind fault: the call being served is applied, and its answer is a 502.
    pub(super) lose_blind: bool,
    /// After a LostBlind fault: every GetAlias fails until `World::heal`.
    pub(super) blind: bool,
    pub functions: HashMap<String, Func>,
    /// ECR: repository → images (digest, tags).
    pub images: HashMap<String, Vec<(String, Vec<String>)>>,
    /// ECR `imagePushedAt` by (repository, digest): when the image was first pushed.
    pub pushed: HashMap<(String, String), std::time::SystemTime>,
    /// How many images one DescribeImages page lists (small, so that pagination is exercised).
    pub ecr_page: usize,
    /// ECR scans and managed-signing statuses, by (repository, digest).
    pub scans: ecr::Scans,
    pub signings: ecr::Signings,
    /// ECR manifests that are not plain images (indexes): digest → (media type, body).
    pub manifests: HashMap<String, (String, String)>,
    /// Where GetDownloadUrlForLayer sends every image config blob (a local server, e.g. the fake
    /// GitHub's `/blobs/config`); `None`: no blobs, as on moto, and the call fails.
    pub config_blob_url: Option<String>,
    pub calls: Vec<Call>,
    pub answers: HashMap<String, Answer>,
    /// EventBridge Scheduler: name → schedule (one group is enough for the deployer).
    pub schedules: std::collections::BTreeMap<String, Schedule>,
    /// CloudWatch: alarm name → state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    pub alarms: HashMap<String, String>,
    /// CloudWatch `AWS/Lambda` datapoints of alias traffic by version.
    pub metrics: Vec<Datapoint>,
    faults: Vec<(&'static str, usize, Fault)>,
    hooks: Vec<(&'static str, usize, Hook)>,
    pub now: ManualTimeSource,
    /// What the rules read the time from: `now`, or tokio's paused clock (see [`World::paused`]).
    clock: SharedTimeSource,
    /// Lambda's account-wide request rates, when a test turns them on.
    pub rate: Option<rate::Buckets>,
    revision_counter: u64,
    /// Asynchronous invocations of the deployer (fan-out): what was queued, what is refused.
    pub dispatch: dispatch::Dispatch,
}

impl WorldState {
    fn next_revision(&mut self) -> String {
        self.revision_counter += 1;
        format!("rev-{}", self.revision_counter)
    }

    /// Records the call, runs hooks, and returns the fault to inject, if any.
    fn begin(&mut self, mut call: Call) -> Option<Fault> {
        call.at = Some(self.t());
        let op = call.op;
        self.calls.push(call);
        let n = self.calls.iter().filter(|c| c.op == op).count();
        let mut hooks = std::mem::take(&mut self.hooks);
        for (hop, hn, hook) in hooks.iter_mut() {
            if *hop == op && *hn == n {
                hook(self);
            }
        }
        self.hooks = hooks;
        self.tick();
        if let Some(f) = self.rate_limited(op) {
            self.current_call().throttled = true;
            return Some(f);
        }
        let fault = self
            .faults
            .iter()
            .find(|(fop, fnth, _)| *fop == op && *fnth == n)
            .map(|(_, _, f)| *f);
        if self.blind && op == "GetAlias" {
            return Some(Fault::ServiceError);
        }
        if fault == Some(Fault::LostBlind) {
            self.lose_blind = true;
            self.blind = true;
            return None;
        }
        if fault == Some(Fault::Lost) {
            // The call is served (and applied) as usual; only its answer never arrives.
            self.lose_current = true;
            return None;
        }
        fault
    }

    /// The call being served (rules run under the lock, right after `begin` recorded it).
    fn current_call(&mut self) -> &mut Call {
        self.calls.last_mut().expect("begin recorded the call")
    }

    pub fn func(&mut self, name: &str) -> Option<&mut Func> {
        let name = name.rsplit(':').next().unwrap_or(name).to_owned();
        self.functions.get_mut(&name)
    }
}

#[derive(Clone)]
pub struct World {
    pub state: Arc<Mutex<WorldState>>,
    pub time: ManualTimeSource,
    /// Sleeps end at once and move `time` forward by their length: minutes pass in microseconds.
    pub sleep: InstantSleep,
    /// Set by [`World::paused`]: tokio's paused clock instead of `time` and `sleep`.
    paused: Option<time::TokioClock>,
}

impl World {
    pub fn new() -> Self {
        let (time, sleep) = instant_time_and_sleep(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let state = WorldState {
            timeout_next: Arc::new(AtomicBool::new(false)),
            lose_current: false,
            lose_blind: false,
            blind: false,
            functions: HashMap::new(),
            images: HashMap::new(),
            pushed: HashMap::new(),
            ecr_page: 2,
            scans: HashMap::new(),
            signings: HashMap::new(),
            manifests: HashMap::new(),
            config_blob_url: None,
            calls: Vec::new(),
            answers: HashMap::new(),
            schedules: Default::default(),
            alarms: HashMap::new(),
            metrics: Vec::new(),
            faults: Vec::new(),
            hooks: Vec::new(),
            now: time.clone(),
            clock: SharedTimeSource::new(time.clone()),
            rate: None,
            revision_counter: 0,
            dispatch: Default::default(),
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            time,
            sleep,
            paused: None,
        }
    }

    /// A world on tokio's paused clock (`#[tokio::test(start_paused = true)]`): sleeps end in
    /// order of their deadlines and time jumps only when every task waits, so runs that overlap
    /// in virtual time really overlap, as many invocations of the deployer do.
    pub fn paused() -> Self {
        let mut w = Self::new();
        let clock = time::TokioClock::start(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        w.lock().clock = SharedTimeSource::new(clock.clone());
        w.paused = Some(clock);
        w
    }

    /// The clock every client of this world reads.
    pub fn time_source(&self) -> SharedTimeSource {
        match &self.paused {
            Some(c) => SharedTimeSource::new(c.clone()),
            None => SharedTimeSource::new(self.time.clone()),
        }
    }

    /// How every client of this world sleeps.
    pub fn sleep_impl(&self) -> SharedAsyncSleep {
        match &self.paused {
            Some(_) => SharedAsyncSleep::new(TokioSleep::new()),
            None => SharedAsyncSleep::new(time::YieldingSleep(self.sleep.clone())),
        }
    }

    /// The world's time, paused or manual.
    pub fn now(&self) -> SystemTime {
        self.time_source().now()
    }

    pub fn lock(&self) -> MutexGuard<'_, WorldState> {
        self.state.lock().expect("world lock")
    }

    /// A function whose `$LATEST` runs `latest`, with no versions and no alias.
    pub fn add_function(&self, name: &str, latest: Code) -> &Self {
        let mut s = self.lock();
        let revision = s.next_revision();
        s.functions
            .insert(name.to_owned(), Func::new(latest, revision));
        drop(s);
        self
    }

    /// Publishes a version of the function's current `$LATEST` directly (setup, not a recorded call).
    pub fn publish(&self, name: &str, description: &str) -> u64 {
        let mut s = self.lock();
        let f = s.func(name).expect("function exists");
        let v = f.next_version;
        f.next_version += 1;
        let code = f.latest.clone();
        f.versions.insert(
            v,
            Snapshot {
                code,
                description: description.into(),
                state: LambdaState::Active,
            },
        );
        v
    }

    pub fn set_alias(&self, name: &str, alias: &str, version: &str) {
        let mut s = self.lock();
        let rev = s.next_revision();
        let f = s.func(name).expect("function exists");
        f.aliases.insert(
            alias.into(),
            Alias {
                version: version.into(),
                revision: rev,
                routing: HashMap::new(),
                description: String::new(),
                transition_until: None,
            },
        );
    }

    /// The usual starting point: `$LATEST` and version 1 run image `c`, alias `live` → 1.
    pub fn live_function(&self, name: &str, repo: &str, c: char) -> &Self {
        self.add_function(name, Code::of(repo, c));
        let v = self.publish(name, "initial");
        self.set_alias(name, "live", &v.to_string());
        self
    }

    /// What Invoke answers when it runs image `c` (by default: status 200).
    pub fn answer(&self, c: char, a: Answer) {
        self.lock().answers.insert(sha(c), a);
    }

    /// Answers the `nth` call of `op` (1-based) with `fault` instead of doing it.
    /// The end of the outage a LostBlind fault began: the alias can be read again, and no
    /// injected fault is still waiting for its call.
    pub fn heal(&self) {
        let mut s = self.lock();
        s.blind = false;
        s.faults.clear();
    }

    pub fn fault(&self, op: &'static str, nth: usize, fault: Fault) {
        self.lock().faults.push((op, nth, fault));
    }

    /// Runs `f` on the world just before the `nth` call of `op` is served.
    pub fn hook(
        &self,
        op: &'static str,
        nth: usize,
        f: impl FnMut(&mut WorldState) + Send + 'static,
    ) {
        self.lock().hooks.push((op, nth, Box::new(f)));
    }

    pub fn with_func<T>(&self, name: &str, f: impl FnOnce(&mut Func) -> T) -> T {
        let mut s = self.lock();
        f(s.func(name).expect("function exists"))
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}
