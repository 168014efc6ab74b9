//! A split with no check pending (its schedule deleted by hand, or never created): nobody would
//! ever look at it again. A sweep that writes schedules the check of the step the deployer's own
//! record says is set, counted from when it was set; a sweep that only looks (`status --check`,
//! report mode, a dry run) calls it stalled. A split the deployer did not record stays a person's.

use super::Sweep;
use super::finding::{Finding, done};
use crate::config::Target;
use crate::gateway::AliasState;
use crate::input::AdvanceRequest;
use crate::record::MoveKind;
use crate::report::{Deployment, End, FailureKind, Step};
use crate::rollout::{self, standing::standing};
use crate::types::FunctionRef;

pub(super) async fn stalled(
    sw: &Sweep<'_, '_>,
    mut dep: Deployment,
    function: &FunctionRef,
    target: &Target,
    a: &AliasState,
) -> Finding {
    let cfg = &target.rollout;
    let split = a.describe();
    let Some((new, weight)) = a.canary() else {
        return done(
            dep,
            End::rolling_out(format!("alias {} ({split}): left alone", target.alias)),
        );
    };
    let ours = a.target.version().and_then(|stable| {
        // A record written before steps were recorded: the step whose weight the alias sends.
        let old = a
            .record()
            .filter(|r| r.kind == MoveKind::Rollout)
            .and_then(|r| Some((cfg.step_of(weight)?, r.moved)));
        standing(a, stable, new, cfg, old).map(|st| (stable, st))
    });
    let stuck = rollout::may_still_send(function, &target.alias, new, weight);
    let Some((stable, st)) = ours else {
        // Told by whoever made it; every sweep only looks.
        dep.notified_before = true;
        return done(
            dep,
            End::rolling_out(format!(
                "stalled: alias {} ({split}) splits traffic as this deployer's record does not say, and no check is pending: left alone; {stuck}",
                target.alias
            )),
        );
    };
    if !sw.writes {
        dep.notified_before = true;
        return done(
            dep,
            End::rolling_out(format!(
                "stalled: the rollout on alias {} ({split}) is at step {} and no check is pending: the next sweep schedules it again; meanwhile {stuck}",
                target.alias, st.step
            )),
        );
    }
    let c = AdvanceRequest {
        function: function.clone(),
        alias: target.alias.clone(),
        version: new,
        stable_version: stable,
        step: st.step,
        started: st.since,
        tally: Default::default(),
    };
    match rollout::schedule_check(&sw.deps.ctx, &c, cfg).await {
        Ok((_, due)) => done(
            dep,
            End::rolling_out(format!(
                "stalled: the rollout on alias {} ({split}) had no check pending; step {}'s check was scheduled again, at {}",
                target.alias,
                st.step,
                due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )),
        ),
        Err(e) => {
            dep.fail(Step::Rollout, FailureKind::Other, format!(
                    "stalled: the rollout on alias {} ({split}) has no check pending, and none could be scheduled ({e}): {stuck}",
                    target.alias
                ));
            Finding::Done(Box::new(dep))
        }
    }
}
