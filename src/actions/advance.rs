//! `advance`: a rollout check, brought by its schedule. The state machine is [`crate::rollout::check`].

use super::Deps;
use crate::input::{AdvanceRequest, InputError};
use crate::report::{ActionKind, Deployment, End, Report};
use crate::rollout::check::check;

pub async fn on_advance(deps: &Deps<'_>, a: &AdvanceRequest) -> Result<Report, InputError> {
    let r = crate::ops::reach_or_return!(deps, &a.function, ActionKind::Advance);
    let mut dep = Deployment::new(r.function.clone(), a.alias.clone());
    dep.previous_version = Some(a.stable_version);
    dep.version = Some(a.stable_version);
    if a.alias != r.target.alias {
        // Rollouts run only on the target's alias: a check naming another was never scheduled
        // by this deployer, and whatever that alias is (or is not), it is not ours to touch.
        dep.end(End::skipped(format!(
            "superseded: no rollout of this deployer runs on alias {} (the target's alias is {})",
            a.alias, r.target.alias
        )));
    } else {
        check(&r.deps.ctx, r.target, &r.function, a, &mut dep).await;
    }
    let mut report = Report::new(ActionKind::Advance).with_deployments(vec![dep]);
    report.repository = Some(r.target.repository.to_string());
    Ok(report)
}
