//! Lambda's account-wide request rates, as Lambda enforces them: a token bucket per quota in
//! virtual time, shared by every client of the world (every run of the deployer, whoever else
//! calls), answering 429 `TooManyRequestsException` with `Retry-After` (`retryAfterSeconds`)
//! beyond it. Off unless a test turns it on with [`World::rate_limit`].

use super::faults::Fault;
use super::{World, WorldState};
use std::time::SystemTime;

/// The control-plane operations the model serves that count against the 15-per-second quota
/// (GetFunction has its own; Invoke is not a control-plane call).
const CONTROL_PLANE: &[&str] = &[
    "GetAlias",
    "UpdateFunctionCode",
    "PublishVersion",
    "UpdateAlias",
    "CreateAlias",
    "ListVersionsByFunction",
    "ListAliases",
    "DeleteFunction",
    "ListTags",
    "TagResource",
    // Read before every alias move (provisioned concurrency): a control-plane call like the rest.
    "GetProvisionedConcurrencyConfig",
];

/// Requests per second: Lambda's documented quotas by default.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub control_plane: f64,
    pub get_function: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            control_plane: 15.0,
            get_function: 100.0,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Option<SystemTime>,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            tokens: rate,
            at: None,
        }
    }

    /// A token now, or how many whole seconds until one (at least 1, as Lambda says).
    fn take(&mut self, now: SystemTime) -> Result<(), u32> {
        let elapsed = self
            .at
            .and_then(|at| now.duration_since(at).ok())
            .unwrap_or_default();
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.rate);
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err((((1.0 - self.tokens) / self.rate).ceil() as u32).max(1))
    }
}

#[derive(Debug)]
pub struct Buckets {
    control_plane: Bucket,
    get_function: Bucket,
    /// 429s answered, by quota.
    pub throttled_control_plane: usize,
    pub throttled_get_function: usize,
}

impl WorldState {
    /// The 429 to answer `op` with, when its quota has no token left now.
    pub fn rate_limited(&mut self, op: &str) -> Option<Fault> {
        let now = self.t();
        let b = self.rate.as_mut()?;
        if op == "GetFunction" {
            let secs = b.get_function.take(now).err()?;
            b.throttled_get_function += 1;
            return Some(Fault::RateExceeded(secs));
        }
        if CONTROL_PLANE.contains(&op) {
            let secs = b.control_plane.take(now).err()?;
            b.throttled_control_plane += 1;
            return Some(Fault::RateExceeded(secs));
        }
        None
    }
}

impl World {
    /// Enforces `limits` across every client of this world from now on.
    pub fn rate_limit(&self, limits: RateLimits) {
        self.lock().rate = Some(Buckets {
            control_plane: Bucket::new(limits.control_plane),
            get_function: Bucket::new(limits.get_function),
            throttled_control_plane: 0,
            throttled_get_function: 0,
        });
    }

    /// 429s the rate limits answered: (control plane, GetFunction).
    pub fn throttled(&self) -> (usize, usize) {
        self.lock().rate.as_ref().map_or((0, 0), |b| {
            (b.throttled_control_plane, b.throttled_get_function)
        })
    }

    /// Calls served (not throttled) that count against the control-plane quota.
    pub fn control_plane_calls(&self) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| !c.throttled && CONTROL_PLANE.contains(&c.op))
            .count()
    }
}
