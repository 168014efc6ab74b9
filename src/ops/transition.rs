//! After an alias move, Lambda may show the old version at weight 1 for a while (it moves the
//! traffic, and provisioned concurrency with it, gradually: hashicorp/terraform-provider-aws#48116
//! met it in acceptance tests and added a waiter). A deployment is not reported complete while
//! that lasts: the deployer waits, bounded, and says so if it has not cleared.

use crate::ops::Ctx;
use crate::ops::wait::poll_interval;
use crate::types::{AliasName, Version};
use std::time::Duration;

/// How long to wait for Lambda's transition to clear: it lasts seconds to a minute or two.
pub const TRANSITION_WAIT: Duration = Duration::from_secs(120);

/// Waits until alias `alias` no longer shows Lambda's transition off `old`-to-`version` traffic.
/// `None`: cleared (or never seen); `Some(sentence)`: still moving when the wait ended, for the
/// report. Reads only; a read that fails ends the wait with the sentence saying so.
pub async fn until_traffic_moved(
    ctx: &Ctx,
    function: &str,
    alias: &AliasName,
    version: Version,
) -> Option<String> {
    let clock = ctx.clock();
    let start = clock.now();
    let bound = match ctx.time_left() {
        Some(left) => left.min(TRANSITION_WAIT),
        None => TRANSITION_WAIT,
    };
    let mut polls = 0u32;
    loop {
        let state = match ctx.lambda.get_alias(function, alias).await {
            Ok(Some(a)) => a,
            Ok(None) => return None,
            Err(e) => {
                return Some(format!(
                    "alias {alias} could not be read to see whether Lambda finished moving traffic to version {version}: {e}"
                ));
            }
        };
        let Some(old) = state.transition else {
            if polls > 0 {
                tracing::info!(function, %alias, %version, polls, "Lambda's traffic transition cleared");
            }
            return None;
        };
        let waited = clock.since(start);
        if waited >= bound {
            return Some(format!(
                "Lambda was still moving traffic from version {old} to {version} on alias {alias} after {} s (AdditionalVersionWeights {{{old}: 1}}): the alias points to {version}; traffic follows as Lambda completes the move",
                waited.as_secs()
            ));
        }
        clock.sleep(poll_interval(polls).min(bound - waited)).await;
        polls += 1;
    }
}
