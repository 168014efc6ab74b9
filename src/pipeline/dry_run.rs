//! What a real run would do, from reads only.

use super::pin::check_image_package;
use crate::gateway::{AliasState, FunctionState};
use crate::ops::{Failure, Run};
use crate::report::{End, Step};
use crate::types::{AliasTarget, ImageRef};

/// Already live, or which alias would move from where. The alias stays where it is.
pub async fn verdict(
    run: &mut Run<'_>,
    alias_state: Option<&AliasState>,
    live_code: Option<&FunctionState>,
    image: &ImageRef,
) -> Result<End, Failure> {
    let ctx = run.ctx;
    let f = run.function();
    let alias = run.dep.alias.clone();
    let latest = run
        .step(Step::WaitReady, async {
            let state = ctx.lambda.get_function(&f, None).await?;
            check_image_package(&state)?;
            Ok(state)
        })
        .await?;
    let previous = alias_state.and_then(|a| a.target.version());
    run.dep.previous_version = previous;
    run.dep.version = previous;
    let pinned = alias_state.is_some_and(|a| a.target == AliasTarget::Latest);
    if !pinned && live_code.is_some_and(|c| c.runs(&image.digest)) {
        return Ok(End::already_live(format!(
            "alias {alias} already runs {}",
            image.digest
        )));
    }
    let from = match (alias_state.map(|a| a.target), previous) {
        (None, _) => format!("create alias {alias}"),
        (Some(AliasTarget::Latest), _) => {
            format!("pin alias {alias} (now on $LATEST) to a version first, then move it")
        }
        (_, Some(v)) => format!("move alias {alias} from version {v}"),
        _ => format!("move alias {alias}"),
    };
    let busy = if latest.is_settling() {
        " after the update in progress"
    } else {
        ""
    };
    Ok(End::would_deploy(format!(
        "dry run: would update $LATEST to {}{busy}, smoke test it, publish a version and {from}",
        image.uri()
    )))
}
