//! Virtual time: updates and versions settle when their time has come, and sleeps end at once
//! while moving the clock forward.

use super::WorldState;
use aws_sdk_lambda::types::{LastUpdateStatus, State as LambdaState};
use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep};
use aws_smithy_async::test_util::InstantSleep;
use std::time::{Duration, SystemTime};

impl WorldState {
    pub(super) fn t(&self) -> SystemTime {
        self.clock.now()
    }

    /// Settles updates and versions whose time has come.
    pub(super) fn tick(&mut self) {
        let now = self.t();
        let mut finished = Vec::new();
        for (name, f) in self.functions.iter_mut() {
            if f.status == LastUpdateStatus::InProgress && f.done_at.is_some_and(|d| now >= d) {
                finished.push(name.clone());
            }
        }
        for name in finished {
            let rev = self.next_revision();
            let f = self.functions.get_mut(&name).expect("listed above");
            f.status = f.pending_outcome.clone();
            if f.status == LastUpdateStatus::Failed {
                f.status_reason = Some("ImageAccessDenied: Lambda could not pull the image".into());
            }
            f.done_at = None;
            // Lambda gives the function a new RevisionId when an update completes.
            f.revision = rev;
        }
        for f in self.functions.values_mut() {
            let done: Vec<u64> = f
                .version_active_at
                .iter()
                .filter(|(_, at)| now >= **at)
                .map(|(v, _)| *v)
                .collect();
            for v in done {
                f.version_active_at.remove(&v);
                if let Some(s) = f.versions.get_mut(&v) {
                    s.state = LambdaState::Active;
                }
            }
        }
    }
}

/// Instant sleep that still yields to other tasks, so that functions deployed side by side really
/// interleave. (Concurrent sleeps add up on the shared virtual clock; only the concurrency test
/// runs several functions at once.)
#[derive(Debug, Clone)]
pub(super) struct YieldingSleep(pub(super) InstantSleep);

impl AsyncSleep for YieldingSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let inner = self.0.sleep(duration);
        Sleep::new(async move {
            inner.await;
            tokio::task::yield_now().await;
        })
    }
}

/// Tokio's clock as wall time: under `start_paused` it moves only when every task sleeps, to the
/// next deadline.
#[derive(Debug, Clone)]
pub(super) struct TokioClock {
    base: SystemTime,
    start: tokio::time::Instant,
}

impl TokioClock {
    pub(super) fn start(base: SystemTime) -> Self {
        Self {
            base,
            start: tokio::time::Instant::now(),
        }
    }
}

impl aws_smithy_async::time::TimeSource for TokioClock {
    fn now(&self) -> SystemTime {
        self.base + self.start.elapsed()
    }
}
