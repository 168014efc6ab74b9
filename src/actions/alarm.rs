//! An alarm a rollout watches went to ALARM: every rollout it guards is rolled back at once, as a
//! failed gate would (CodeDeploy polls its alarms during a step; we are told).

use super::Deps;
use crate::config::Target;
use crate::input::AlarmStateChange;
use crate::plan::Home;
use crate::report::{ActionKind, Deployment, End, Report, RolloutInfo};
use crate::rollout::stop::{gate_failed, stop};

pub async fn on_alarm(deps: &Deps<'_>, ev: &AlarmStateChange) -> Report {
    if ev.state != "ALARM" {
        return Report::skipped(
            ActionKind::Advance,
            format!(
                "alarm {} went to {}: only ALARM acts on rollouts",
                ev.alarm_name, ev.state
            ),
        );
    }
    let home = own_home(deps);
    let named: Vec<_> = deps
        .config
        .targets
        .iter()
        .filter(|t| t.rollout.alarms.contains(&ev.alarm_name))
        .collect();
    let elsewhere = ev
        .region
        .as_ref()
        .filter(|r| home.as_ref().is_some_and(|h| h.region != **r));
    let targets: Vec<_> = named
        .iter()
        .copied()
        .filter(|t| same_account(ev, t, home.as_ref()))
        .filter(|_| elsewhere.is_none())
        .collect();
    if targets.is_empty() {
        let account = match (elsewhere.filter(|_| !named.is_empty()), ev.account.as_ref()) {
            (Some(r), _) => format!(" in region {r}"),
            (None, Some(a)) => format!(" in account {a}"),
            (None, None) => String::new(),
        };
        return Report::skipped(
            ActionKind::Advance,
            format!(
                "no target's rollout watches alarm {}{account}",
                ev.alarm_name
            ),
        );
    }
    let mut deployments = Vec::new();
    for t in targets {
        // A target in another account: its alias is read and rolled back with its role.
        let deps = &match deps.for_target(t).await {
            Ok(d) => d,
            Err(why) => {
                for function in &t.functions {
                    deployments.push(crate::ops::accounts::unreachable(
                        function.clone(),
                        t,
                        why.clone(),
                    ));
                }
                continue;
            }
        };
        for function in &t.functions {
            deployments.push(roll_back_rollout(deps, t, function, &ev.alarm_name).await);
        }
    }
    Report::new(ActionKind::Advance).with_deployments(deployments)
}

/// `alarm` went to ALARM: the rollout on `function`'s alias (if one is in progress) is rolled back
/// as a failed gate would roll it back.
async fn roll_back_rollout(
    deps: &Deps<'_>,
    t: &crate::config::Target,
    function: &crate::types::FunctionRef,
    alarm: &str,
) -> Deployment {
    let mut dep = Deployment::new(function.clone(), t.alias.clone());
    let current = deps.ctx.lambda.get_alias(function.as_str(), &t.alias).await;
    match current {
        Err(e) => dep.fail(
            crate::report::Step::Resolve,
            crate::report::FailureKind::from(e.kind),
            format!("alarm {alarm} went to ALARM, but the alias could not be read ({e})"),
        ),
        Ok(Some(current)) => match (current.target.version(), current.canary()) {
            (Some(stable), Some((new, weight))) => {
                dep.previous_version = Some(stable);
                dep.rollout = Some(RolloutInfo {
                    stable_version: stable,
                    new_version: new,
                    step: t.rollout.step_of(weight).unwrap_or(0),
                    steps: t.rollout.steps.clone(),
                    weight,
                    weight_changed: false,
                    next_check_at: None,
                    schedule: None,
                    error_rate: None,
                    check: None,
                });
                let why = gate_failed(format!("alarm {alarm} went to ALARM"));
                stop(
                    &deps.ctx,
                    &mut dep,
                    &current,
                    stable,
                    new,
                    why,
                    Some(&t.rollout),
                )
                .await
            }
            (v, _) => {
                dep.version = v;
                dep.end(End::skipped(format!(
                    "no rollout is in progress on alias {}",
                    t.alias
                )))
            }
        },
        Ok(None) => dep.end(End::skipped(format!("alias {} does not exist", t.alias))),
    };
    dep
}

/// The deployer's own account and region: told by the runtime, else read from its function ARN
/// (which every rollout needs, so a CLI that never asked STS still knows them).
fn own_home(deps: &Deps<'_>) -> Option<Home> {
    deps.home.cloned().or_else(|| {
        deps.config
            .scheduler
            .function_arn
            .as_deref()
            .and_then(Home::from_function_arn)
    })
}

/// Does the alarm live where `t`'s alarms do: the account of its role, else the deployer's own?
/// Unknown on either side (an event without an account, a deployer that cannot tell its own):
/// the name decides, as before.
fn same_account(ev: &AlarmStateChange, t: &Target, home: Option<&Home>) -> bool {
    let Some(from) = ev.account.as_ref() else {
        return true;
    };
    let theirs = match t.assume_role_arn {
        Some(_) => t.role_account(),
        None => home.map(|h| h.account.as_str()),
    };
    theirs.is_none_or(|a| a == from.as_str())
}
