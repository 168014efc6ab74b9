//! Promote a stage: the digest the earlier stage (`after.function`) runs goes to the later
//! target's functions through the full pipeline, once the earlier stage has served it for the bake
//! and its alarms are quiet. A scheduled check of a `manual` stage only says it is ready.

use super::Deps;
use crate::config::{After, Target, stage::target_of};
use crate::fanout::{Push, deploy_set};
use crate::gateway::cloudwatch::is_alarm;
use crate::gateway::{AliasState, FunctionState};
use crate::input::{InputError, PromoteStageRequest};
use crate::ops::Ctx;
use crate::ops::accounts::ctx_for;
use crate::ops::resolve::{Live, resolve};
use crate::plan::HOME_UNKNOWN;
use crate::record::VersionRecord;
use crate::report::{ActionKind, Outcome, Report, StageInfo};
use crate::stages;
use crate::types::{Digest, FunctionRef, ImageRef, Tag};

pub async fn on_promote_stage(
    deps: &Deps<'_>,
    r: &PromoteStageRequest,
) -> Result<Report, InputError> {
    let (later, after) = later_target(deps, r)?;
    let (from, earlier) = earlier_target(deps, later, after)?;
    let mut info = StageInfo {
        from: from.to_string(),
        to: later.functions.iter().map(|f| f.to_string()).collect(),
        from_version: None,
        bake_secs: after.bake_secs,
        baked_secs: None,
        manual: after.manual,
        scheduled: r.is_scheduled(),
        command: None,
    };
    let mut report = match promote(deps, r, &from, earlier, later, after, &mut info).await {
        Ok(report) => report,
        Err((outcome, why)) => Report {
            outcome,
            reason: Some(why),
            ..Report::new(ActionKind::PromoteStage)
        },
    };
    if report.repository.is_none() {
        report.repository = Some(later.repository.to_string());
    }
    if report.image_digest.is_none() {
        report.image_digest = r.digest.as_ref().map(|d| d.to_string());
    }
    report.stage = Some(info);
    report.request_reason = r.reason.clone();
    Ok(report)
}

/// What stops a promotion before it deploys: the outcome and the sentence for the report.
type Stop = (Outcome, String);

async fn promote(
    deps: &Deps<'_>,
    r: &PromoteStageRequest,
    from: &FunctionRef,
    earlier: &Target,
    later: &Target,
    after: &After,
    info: &mut StageInfo,
) -> Result<Report, Stop> {
    let failed = |why: String| (Outcome::Failed, why);
    let Some(home) = deps.home else {
        return Err(failed(HOME_UNKNOWN.to_owned()));
    };
    // 1. What the earlier stage runs now (in its own account, if it has one).
    let ectx = ctx_for(&deps.ctx, earlier).await.map_err(failed)?;
    let (alias, code, running) = earlier_runs(&ectx, r, from, earlier, info).await?;
    // 2. The bake: since the alias moved to this version (the deployer's record of the move).
    baked(deps, r, from, after, info, &alias, &running)?;
    // 3. The earlier stage's alarms (its rollout.alarms) must be quiet.
    if let Some(why) = alarm_blocks(&ectx, earlier, from).await {
        return Err(failed(format!(
            "blocked: {why}; {} was not promoted to {}",
            running.short(),
            info.to.join(", ")
        )));
    }
    // 4. A manual stage: a person promotes (the scheduled check says so, with the command).
    let to = &later.functions[0];
    if after.manual && r.is_scheduled() {
        let cmd = stages::command(from, to);
        let payload = stages::payload(from, to, Some(&running), None);
        info.command = Some(cmd.clone());
        let mut report = Report::ready_to_promote(format!(
            "ready to promote {} from {from} to {} (baked {} s); to promote: {cmd} (or invoke the deployer with {})",
            running.short(),
            info.to.join(", "),
            info.baked_secs.unwrap_or_default(),
            json_now(payload)
        ));
        report.repository = Some(later.repository.to_string());
        report.image_digest = Some(running.to_string());
        return Ok(report);
    }
    // 5. The same digest, from the later target's registry (registry_account, else ours), through
    // the full pipeline. Its tag patterns are not applied: the earlier stage chose the image.
    let record = VersionRecord::parse(&code.description);
    let image = ImageRef {
        account: later
            .registry_account
            .clone()
            .unwrap_or_else(|| home.account.clone()),
        region: home.region.clone(),
        repository: later.repository.clone(),
        digest: running,
        tag: record
            .as_ref()
            .and_then(|rec| rec.tag.as_deref())
            .and_then(|t| Tag::parse(t).ok()),
        // The digest a version runs is always a plain image: Lambda runs nothing else.
        manifest: crate::types::ManifestKind::Image,
    };
    // A scheduled check keeps the push time, so stale-event protection holds on the later stage
    // too (a rollback there is not undone by an older image); a person's promotion is deliberate.
    let pushed = if r.is_scheduled() {
        record.and_then(|rec| rec.pushed)
    } else {
        None
    };
    let jobs = later.functions.iter().map(|f| (f.clone(), later)).collect();
    // More functions than DEPLOYER_INLINE_MAX are dispatched, as a push to them would be.
    let push = Push {
        image: &image,
        pushed,
        reason: r.reason.as_ref(),
        dry_run: false,
    };
    let mut report = Box::pin(deploy_set(deps, push, jobs)).await;
    report.action = ActionKind::PromoteStage;
    Ok(report)
}

/// Step 1: what the earlier stage's alias serves now, and its image's digest; a rollout in
/// progress there, or a digest other than the one this check was for, supersedes the check.
async fn earlier_runs(
    ectx: &Ctx,
    r: &PromoteStageRequest,
    from: &FunctionRef,
    earlier: &Target,
    info: &mut StageInfo,
) -> Result<(AliasState, FunctionState, Digest), Stop> {
    let failed = |why: String| (Outcome::Failed, why);
    let skipped = |why: String| (Outcome::Skipped, why);
    let live = resolve(&ectx.lambda, from.as_str(), &earlier.alias)
        .await
        .map_err(|e| failed(format!("{from} could not be read: {}", e.message)))?;
    let Live {
        alias: Some(alias),
        code: Some(code),
        canary,
    } = live
    else {
        return Err(skipped(format!(
            "{from} has no alias {}: nothing to promote",
            earlier.alias
        )));
    };
    let version = alias.target.version();
    info.from_version = version;
    if let Some((v, _)) = canary {
        return Err(skipped(format!(
            "superseded: {from} is rolling out version {v}; its promotion check follows when the rollout finishes"
        )));
    }
    let Some(running) = code.digest() else {
        return Err(failed(format!(
            "cannot tell which image {from} runs (alias {} serves {})",
            earlier.alias,
            alias.describe()
        )));
    };
    if let Some(wanted) = r.digest.as_ref().filter(|d| **d != running) {
        return Err(skipped(format!(
            "superseded: {from} now runs {} (version {}), not {} this check was for",
            running.short(),
            version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "$LATEST".into()),
            wanted.short()
        )));
    }
    Ok((alias, code, running))
}

/// Step 2: the digest has served the earlier stage for the bake (unless promoted `now`).
fn baked(
    deps: &Deps<'_>,
    r: &PromoteStageRequest,
    from: &FunctionRef,
    after: &After,
    info: &mut StageInfo,
    alias: &AliasState,
    running: &Digest,
) -> Result<(), Stop> {
    let skipped = |why: String| (Outcome::Skipped, why);
    let version = alias.target.version();
    let now = deps.ctx.clock().now_utc();
    let since = alias
        .record()
        .filter(|rec| Some(rec.to) == version)
        .map(|rec| rec.moved);
    if let Some(t) = since {
        info.baked_secs = Some((now - t).num_seconds().max(0) as u64);
    }
    if !r.now {
        match info.baked_secs {
            None => {
                return Err(skipped(format!(
                    "cannot tell since when {from} serves version {} (its alias was not moved by the deployer): promote with --now (\"now\": true) if it has baked",
                    version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "$LATEST".into()),
                )));
            }
            Some(baked) if baked < after.bake_secs => {
                return Err(skipped(format!(
                    "not baked yet: {from} has served {} for {baked} s of the {} s bake; promote later, or with --now (\"now\": true)",
                    running.short(),
                    after.bake_secs
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The payload of a promotion by hand, as one line.
fn json_now(mut payload: serde_json::Value) -> String {
    payload["now"] = serde_json::Value::Bool(true);
    payload.to_string()
}

/// Why the earlier stage's alarms forbid a promotion now, if they do. `ectx` signs with the
/// earlier stage's role: its alarms live in its own account.
async fn alarm_blocks(ectx: &Ctx, earlier: &Target, from: &FunctionRef) -> Option<String> {
    let alarms = &earlier.rollout.alarms;
    if alarms.is_empty() {
        return None;
    }
    let Some(cw) = ectx.rollouts.cloudwatch.as_ref() else {
        return Some(format!(
            "{from}'s alarms cannot be read: this deployer has no CloudWatch client"
        ));
    };
    match cw.alarm_states(alarms).await {
        Err(e) => Some(format!("{from}'s alarms could not be read ({e})")),
        Ok(states) => states.into_iter().find_map(|(name, state)| match state {
            None => Some(format!(
                "alarm {name} of {from} does not exist, so it cannot vouch for the image"
            )),
            Some(s) if is_alarm(&s) => Some(format!("alarm {name} of {from} is in ALARM")),
            Some(_) => None,
        }),
    }
}

/// The target `r.to` belongs to, which must follow `r.from`.
fn later_target<'a>(
    deps: &Deps<'a>,
    r: &PromoteStageRequest,
) -> Result<(&'a Target, &'a After), InputError> {
    let targets = &deps.config.targets;
    let holds = |t: &Target| t.functions.iter().any(|f| stages::names(&r.to, f));
    let Some(t) = targets.iter().find(|t| {
        holds(t)
            && t.after
                .as_ref()
                .is_some_and(|a| stages::names(&r.from, &a.function))
    }) else {
        let follow: Vec<String> = targets
            .iter()
            .filter_map(|t| {
                let a = t.after.as_ref()?;
                Some(format!("{} after {}", t.functions[0], a.function))
            })
            .collect();
        let which = if follow.is_empty() {
            "no target has \"after\"".to_owned()
        } else {
            format!("configured stages: {}", follow.join("; "))
        };
        return Err(InputError::new(
            "payload.to",
            format!(
                "{:?} is not a function of a target that follows {:?} ({which})",
                r.to.as_str(),
                r.from.as_str()
            ),
        ));
    };
    let after = t
        .after
        .as_ref()
        .ok_or_else(|| InputError::new("payload.to", "the target has no \"after\"".to_owned()))?;
    Ok((t, after))
}

/// The earlier stage's configured function reference and its target.
fn earlier_target<'a>(
    deps: &Deps<'a>,
    later: &Target,
    after: &After,
) -> Result<(FunctionRef, &'a Target), InputError> {
    let (_, t) = target_of(
        &deps.config.targets,
        &after.function,
        Some(&later.repository),
    )
    .ok_or_else(|| {
        InputError::new(
            "payload.from",
            format!(
                "{:?} is not a function of any target",
                after.function.as_str()
            ),
        )
    })?;
    let f = t
        .functions
        .iter()
        .find(|f| stages::names(&after.function, f))
        .cloned()
        .unwrap_or_else(|| after.function.clone());
    Ok((f, t))
}
