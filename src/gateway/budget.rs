//! The deployer's own share of Lambda's control-plane rate, and what it does when throttled.
//!
//! Lambda allows 15 control-plane requests per second per account and Region, for every caller
//! together (GetFunction has its own 100 per second; Invoke is not counted). A fan-out runs many
//! of our runs at once, so each run paces itself at its share of `DEPLOYER_CONTROL_PLANE_RPS`
//! (the budget divided by the number of runs sharing it), and the sum stays under the budget
//! without the runs talking to each other. A throttle (429 `TooManyRequestsException`) still
//! happens when someone else uses the account's rate: the run waits what Lambda's
//! `Retry-After` (`retryAfterSeconds`) says (longer each time the same call is throttled again)
//! and tries again while the invocation has time; it is counted, never a failure on its own.
//!
//! The pacer is a token bucket on the client's clock (virtual in tests): a burst of up to one
//! second's share, then one call per `1 / rate`. Tokens may go negative: a caller that finds
//! none reserves the next slot and sleeps until it, so callers are served in the order they came.

use super::Clock;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// GetFunction's own quota is 100 per second; polls of many functions at once take at most half
/// of it, split across runs as the control-plane budget is.
pub const GET_FUNCTION_RPS: f64 = 50.0;

/// A call throttled more than once waits at least this, doubling, as well as what Lambda asks.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// How long throttles may hold one call when the run has no deadline (the CLI): long enough for any
/// burst of other callers to pass, short enough that a run never hangs on a saturated account.
const NO_DEADLINE_LIMIT: Duration = Duration::from_secs(300);

/// Which of Lambda's quotas a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Every control-plane call but GetFunction (GetAlias, UpdateFunctionCode, PublishVersion,
    /// UpdateAlias, listings, deletes, tags).
    ControlPlane,
    GetFunction,
}

#[derive(Debug)]
struct Bucket {
    /// Calls per second.
    rate: f64,
    /// Most tokens held: one second's worth, at least one.
    burst: f64,
    tokens: f64,
    at: Option<SystemTime>,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        let burst = rate.max(1.0);
        Self {
            rate,
            burst,
            tokens: burst,
            at: None,
        }
    }

    /// Takes a token at `now`; returns how long to wait for it.
    fn take(&mut self, now: SystemTime) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }

    /// Nobody calls before `now + wait`: Lambda said the account is saturated until then.
    fn hold(&mut self, now: SystemTime, wait: Duration) {
        self.refill(now);
        self.tokens = self.tokens.min(-wait.as_secs_f64() * self.rate);
    }

    fn refill(&mut self, now: SystemTime) {
        let elapsed = match self.at {
            Some(at) => now.duration_since(at).unwrap_or_default(),
            None => Duration::ZERO,
        };
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        self.at = Some(now);
    }
}

/// One run's share of the rate, shared by every call the run makes (all its functions).
#[derive(Debug, Clone)]
pub struct Budget {
    control: Arc<Mutex<Bucket>>,
    get_function: Arc<Mutex<Bucket>>,
    throttles: Arc<AtomicU32>,
    deadline: Option<SystemTime>,
}

impl Budget {
    /// `rps` for the deployer, split evenly across `runs` running at once. Throttles are waited
    /// out only until `deadline` (the caller keeps its own reserve before the invocation's end).
    pub fn new(rps: u32, runs: usize, deadline: Option<SystemTime>) -> Self {
        let runs = runs.max(1) as f64;
        let share = f64::from(rps.max(1)) / runs;
        Self {
            control: Arc::new(Mutex::new(Bucket::new(share))),
            get_function: Arc::new(Mutex::new(Bucket::new(GET_FUNCTION_RPS / runs))),
            throttles: Arc::new(AtomicU32::new(0)),
            deadline,
        }
    }

    /// Throttles this run has met so far.
    pub fn throttles(&self) -> u32 {
        self.throttles.load(Ordering::Relaxed)
    }

    fn bucket(&self, quota: Quota) -> &Mutex<Bucket> {
        match quota {
            Quota::ControlPlane => &self.control,
            Quota::GetFunction => &self.get_function,
        }
    }

    async fn take(&self, quota: Quota, clock: &Clock) {
        let wait = {
            // A poisoned lock only means another call panicked mid-update; the numbers are still
            // usable, and pacing must not take the run down with it.
            let mut b = self.bucket(quota).lock().unwrap_or_else(|p| p.into_inner());
            b.take(clock.now())
        };
        if !wait.is_zero() {
            clock.sleep(wait).await;
        }
    }

    /// May the run still wait `wait` and try again? Not past the deadline.
    fn may_wait(&self, waited: Duration, wait: Duration, clock: &Clock) -> bool {
        match self.deadline {
            Some(deadline) => {
                let left = deadline.duration_since(clock.now()).unwrap_or_default();
                left > wait
            }
            None => waited + wait <= NO_DEADLINE_LIMIT,
        }
    }

    /// `call` at this run's pace; throttles waited out and retried while the run has time. The
    /// last throttle is returned when time is up.
    pub async fn paced<T, E, F, Fut>(
        &self,
        quota: Quota,
        clock: &Clock,
        mut call: F,
    ) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let mut waited = Duration::ZERO;
        let mut backoff = FIRST_BACKOFF;
        loop {
            self.take(quota, clock).await;
            let res = call().await;
            let Err(e) = &res else { return res };
            if !is_throttle(e) {
                return res;
            }
            self.throttles.fetch_add(1, Ordering::Relaxed);
            // Lambda's rate limit says when to come back (and `ThrottlesToTheBudget` keeps the
            // SDK from sending it again first). A throttle that does not is the SDK's to retry,
            // and reaches us with its retries used up: it stays a failure of the call, as before.
            let Some(after) = retry_after(e) else {
                return res;
            };
            // The first wait is what Lambda asked; a call throttled again waits longer each time,
            // so that runs throttled together do not keep coming back together.
            let wait = if waited.is_zero() {
                after
            } else {
                after.max(backoff)
            };
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if !self.may_wait(waited, wait, clock) {
                return res;
            }
            tracing::info!(
                code = e.code().unwrap_or_default(),
                wait_secs = wait.as_secs_f64(),
                "throttled; waiting as Lambda asks"
            );
            {
                let mut b = self.bucket(quota).lock().unwrap_or_else(|p| p.into_inner());
                b.hold(clock.now(), wait);
            }
            waited += wait;
            // The hold makes the next take() wait `wait`; the loop sleeps there.
        }
    }
}

/// Leaves Lambda's rate-limit answers (429 with `Retry-After`) to the [`Budget`]: the SDK's own
/// retries would send them again at once, unpaced and blind to when Lambda said to come back.
/// Every other error is the SDK's to retry as configured (a 429 without `Retry-After` included).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThrottlesToTheBudget;

impl aws_sdk_lambda::config::retry::ClassifyRetry for ThrottlesToTheBudget {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_lambda::config::interceptors::InterceptorContext,
    ) -> aws_sdk_lambda::config::retry::RetryAction {
        use aws_sdk_lambda::config::retry::RetryAction;
        match ctx.response() {
            Some(r) if r.status().as_u16() == 429 && r.headers().contains_key("retry-after") => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "ThrottlesToTheBudget"
    }
}

/// A throttle by its error code (the codes [`super::ErrorKind::Throttled`] classifies).
fn is_throttle<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    super::is_throttle_code(e.code())
}

/// Lambda's `retryAfterSeconds`, which it sends as the `Retry-After` header: whole seconds.
fn retry_after<E>(e: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let raw = e.raw_response()?.headers().get("retry-after")?;
    let secs: f64 = raw.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(900.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(1_000.0 + secs)
    }

    #[test]
    fn a_bucket_serves_a_burst_of_one_second_then_one_call_per_interval_in_order() {
        let mut b = Bucket::new(2.0);
        assert_eq!(b.take(at(0.0)), Duration::ZERO);
        assert_eq!(b.take(at(0.0)), Duration::ZERO);
        assert_eq!(b.take(at(0.0)), Duration::from_millis(500));
        assert_eq!(b.take(at(0.0)), Duration::from_secs(1));
        // Tokens come back at the rate, never above one second's worth.
        let mut b = Bucket::new(2.0);
        b.take(at(0.0));
        assert_eq!(b.take(at(100.0)), Duration::ZERO);
        assert_eq!(b.take(at(100.0)), Duration::ZERO);
        assert_eq!(b.take(at(100.0)), Duration::from_millis(500));
    }

    #[test]
    fn a_share_below_one_call_per_second_still_has_one_token() {
        let mut b = Bucket::new(0.25);
        assert_eq!(b.take(at(0.0)), Duration::ZERO);
        assert_eq!(b.take(at(0.0)), Duration::from_secs(4));
    }

    #[test]
    fn a_hold_keeps_every_caller_back_until_it_ends() {
        let mut b = Bucket::new(10.0);
        b.hold(at(0.0), Duration::from_secs(3));
        let w = b.take(at(0.0));
        assert!(w >= Duration::from_secs(3), "{w:?}");
        assert!(w < Duration::from_millis(3200), "{w:?}");
    }

    #[test]
    fn the_budget_is_split_across_runs() {
        let share = |b: Budget| b.control.lock().unwrap().rate;
        assert_eq!(share(Budget::new(10, 8, None)), 1.25);
        assert_eq!(share(Budget::new(10, 1, None)), 10.0);
        assert_eq!(share(Budget::new(10, 0, None)), 10.0);
    }
}
