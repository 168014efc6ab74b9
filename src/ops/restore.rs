//! After a failure: put `$LATEST` back on the image production runs, but only after looking at
//! what it runs now. Never overwrites a change someone else made in the meantime.

use crate::ops::wait::until_settled;
use crate::ops::{FailureKind, Latest, Run, StepError};
use crate::report::{Restore, Step};
use crate::types::Digest;

/// `None` when `$LATEST` runs what production runs (we never changed it, or our change never took
/// effect: looked at, not assumed); otherwise whether it was put back, and why not.
pub async fn restore_latest(run: &mut Run<'_>, ours: &Digest) -> Option<Restore> {
    if run.latest == Latest::Untouched {
        return None;
    }
    let ctx = run.ctx;
    let f = run.function();
    let image = run.restore_image.clone();
    let not = |detail: String| {
        Some(Restore {
            restored: false,
            image_uri: image.clone(),
            detail: format!("not restored: {detail}"),
        })
    };
    let now = match ctx.lambda.get_function(&f, None).await {
        Ok(s) => s,
        Err(e) => {
            return not(format!(
                "$LATEST could not be read ({e}), so it may run the new image"
            ));
        }
    };
    let live_digest = image.as_deref().and_then(Digest::from_image_uri);
    if !now.runs(ours) {
        if live_digest.as_ref().is_some_and(|d| now.runs(d)) {
            return None;
        }
        return not(format!(
            "someone else changed the function during the deployment ($LATEST runs {}), and their change was left in place",
            now.image_uri.as_deref().unwrap_or(&now.code_sha256)
        ));
    }
    if now.is_settling() {
        return not("the update is still in progress, so $LATEST may run the new image".into());
    }
    let (Some(uri), Some(live_digest)) = (image.clone(), live_digest) else {
        return not("there is no earlier image to go back to".into());
    };
    let revision = now.revision_id.clone();
    let res = run
        .step(Step::RestoreLatest, async {
            if let Err(e) = ctx.lambda.update_code(&f, &uri, revision.as_ref()).await {
                // As for our own update: an error may hide a call that went through.
                let again = ctx.lambda.get_function(&f, None).await?;
                if !again.runs(&live_digest) {
                    return Err(StepError::from(e));
                }
            }
            let s = until_settled(&ctx.lambda, &f, None, ctx.wait_budget()).await?;
            match s.state.update_failure() {
                Some(why) => Err(StepError::of(FailureKind::UpdateFailed, why)),
                None if !s.state.runs(&live_digest) => Err(StepError::of(
                    FailureKind::Conflict,
                    "someone else changed the function while it was being restored",
                )),
                None => Ok(()),
            }
        })
        .await;
    match res {
        Ok(()) => Some(Restore {
            restored: true,
            image_uri: image,
            detail: "$LATEST runs the live image again".to_owned(),
        }),
        Err(f) => {
            tracing::error!(reason = %f.reason, "could not restore $LATEST");
            not(f.reason)
        }
    }
}
