//! Synthetic traffic (issue 26): when real traffic is too thin to judge a canary, the deployer
//! invokes the new version itself, by its version number (never the alias: the stable version's
//! users must not get test requests, and the answer must come from the new code), and judges each
//! answer as the smoke test does.

use crate::config::Target;
use crate::ops::Ctx;
use crate::ops::smoke;
use crate::types::Version;
use futures_util::StreamExt;
use std::time::Duration;

/// At most this many invocations in flight: enough to finish 100 within a check, few enough not
/// to take the function's concurrency from its real users.
pub const CONCURRENCY: usize = 4;

/// What this check's synthetic invocations showed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Made {
    /// Invocations that got an answer from the new version: evidence.
    pub invoked: u64,
    /// Of those, answers the smoke test's rules reject (FunctionError, `expect_status`).
    pub failed: u64,
    /// Invocations not made or not answered (an API error, the invocation's deadline): no
    /// evidence either way, so they count for nothing.
    pub not_made: u64,
}

enum One {
    Passed,
    Failed,
    NotMade,
}

/// Invokes `version` of `function` up to `n` times with the rollout's synthetic payload (else the
/// target's smoke payload), `CONCURRENCY` at a time, each allowed the smoke test's timeout but
/// never past the invocation's deadline reserve.
pub async fn invoke(ctx: &Ctx, target: &Target, function: &str, version: Version, n: u64) -> Made {
    let Some(cfg) = target.rollout.synthetic.as_ref() else {
        return Made::default();
    };
    let payload = cfg.payload.as_ref().unwrap_or(&target.smoke.payload);
    let body = serde_json::to_vec(payload).unwrap_or_else(|_| b"null".to_vec());
    let expect = target.smoke.expect_status.as_deref();
    let qualifier = version.to_string();
    let per_call = Duration::from_secs(target.smoke.timeout_secs);
    let one = |_| {
        let body = body.clone();
        let qualifier = qualifier.clone();
        async move {
            // Within the deadline: a call that could not finish before the reserve is not started.
            let timeout = match ctx.time_left() {
                Some(left) if left < Duration::from_secs(1) => return One::NotMade,
                Some(left) => per_call.min(left),
                None => per_call,
            };
            match ctx.lambda.invoke(function, &qualifier, body, timeout).await {
                Ok(out) => {
                    let r = smoke::judge(out.function_error.as_deref(), &out.payload, expect);
                    if r.passed { One::Passed } else { One::Failed }
                }
                Err(e) => {
                    tracing::warn!(function, version = %qualifier, error = %e, "synthetic invocation not made");
                    One::NotMade
                }
            }
        }
    };
    let results: Vec<One> = futures_util::stream::iter(0..n)
        .map(one)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut made = Made::default();
    for r in results {
        match r {
            One::Passed => made.invoked += 1,
            One::Failed => {
                made.invoked += 1;
                made.failed += 1;
            }
            One::NotMade => made.not_made += 1,
        }
    }
    made
}
