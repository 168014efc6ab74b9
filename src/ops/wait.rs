//! Waiting for Lambda to finish applying a change.
//!
//! Not the SDK waiter: `wait_until_function_updated_v2` backs off exponentially up to 300 s
//! between polls, so an update that finishes after four minutes can sit unnoticed for minutes.
//! This poller asks quickly at first (most image updates finish within seconds) and then once a
//! second, so completion is noticed within a second at any duration, for about one request per
//! second. It polls GetFunction rather than GetFunctionConfiguration because GetFunction has its
//! own, much higher, request quota: polling many functions at once must not throttle the account's
//! other control-plane calls.

use crate::gateway::{FunctionState, Lambda};
use crate::ops::StepError;
use std::time::Duration;

/// Delay before poll number `n + 1` (0-based): 250 ms, 500 ms, then 1 s for as long as it takes.
pub fn poll_interval(n: u32) -> Duration {
    match n {
        0 => Duration::from_millis(250),
        1 => Duration::from_millis(500),
        _ => Duration::from_secs(1),
    }
}

/// A settled function (nothing in progress), and what it took to get there.
#[derive(Debug, Clone)]
pub struct Settled {
    pub state: FunctionState,
    pub polls: u32,
    pub waited: Duration,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PollError {
    #[error("still {status} after {}s ({polls} polls); the timeout is {}s", .waited.as_secs(), .timeout.as_secs())]
    Timeout {
        status: String,
        waited: Duration,
        polls: u32,
        timeout: Duration,
    },
    #[error("GetFunction failed after {polls} polls: {message}")]
    Api { message: String, polls: u32 },
}

impl From<PollError> for StepError {
    fn from(e: PollError) -> Self {
        StepError::new(e.to_string())
    }
}

/// Polls `function` (at `qualifier`, `$LATEST` when `None`) until no change is in progress.
/// Failed updates settle too: deciding what a `Failed` status means is the caller's job.
pub async fn until_settled(
    lambda: &Lambda,
    function: &str,
    qualifier: Option<&str>,
    timeout: Duration,
) -> Result<Settled, PollError> {
    until(lambda, function, qualifier, timeout, |s| !s.is_settling()).await
}

/// As [`until_settled`], and until `$LATEST` can run: an `Inactive` function reactivated by an
/// update goes `Pending` then `Active` on its own schedule, which can outlast the update itself
/// (LastUpdateStatus `Successful`, State not yet `Active`). Invoking it before then fails.
pub async fn until_runnable(
    lambda: &Lambda,
    function: &str,
    timeout: Duration,
) -> Result<Settled, PollError> {
    until(lambda, function, None, timeout, |s| {
        !s.is_settling() && !s.is_inactive()
    })
    .await
}

async fn until(
    lambda: &Lambda,
    function: &str,
    qualifier: Option<&str>,
    timeout: Duration,
    done: impl Fn(&FunctionState) -> bool,
) -> Result<Settled, PollError> {
    let clock = lambda.clock();
    let start = clock.now();
    let mut polls = 0u32;
    loop {
        polls += 1;
        let state: FunctionState = lambda
            .get_function(function, qualifier)
            .await
            .map_err(|e| PollError::Api {
                message: e.message,
                polls,
            })?;
        let waited = clock.since(start);
        if done(&state) {
            return Ok(Settled {
                state,
                polls,
                waited,
            });
        }
        if waited >= timeout {
            let status = match (&state.last_update_status, &state.state) {
                (Some(s), _) if s.as_str() == "InProgress" => {
                    "LastUpdateStatus InProgress".to_owned()
                }
                (_, Some(s)) => format!("State {}", s.as_str()),
                _ => "settling".to_owned(),
            };
            return Err(PollError::Timeout {
                status,
                waited,
                polls,
                timeout,
            });
        }
        // Never sleep past the deadline: the last poll lands on it.
        let remaining = timeout - waited;
        clock.sleep(poll_interval(polls - 1).min(remaining)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_starts_fast_and_never_exceeds_a_second() {
        assert_eq!(poll_interval(0), Duration::from_millis(250));
        assert_eq!(poll_interval(1), Duration::from_millis(500));
        for n in 2..10_000 {
            assert_eq!(poll_interval(n), Duration::from_secs(1));
        }
    }
}
