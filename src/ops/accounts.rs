//! Targets in other accounts: the deployer assumes a target's `assume_role_arn` (STS) and makes
//! that target's Lambda, ECR and CloudWatch calls (its alarms and its functions' metrics live
//! there) with those credentials. EventBridge Scheduler, SNS and the deployer's own metrics and
//! events stay in the deployer's account. One AssumeRole per role per engine
//! (a warm Lambda container keeps them) until they are about to expire: a fan-out to many
//! functions of one account must not ask STS once per function.

use crate::config::Target;
use crate::gateway::cloudwatch::CloudWatch;
use crate::gateway::sts::{Assumed, Sts};
use crate::gateway::{Lambda, ecr::Ecr};
use crate::ops::Ctx;
use crate::report::{Deployment, FailureKind, Step};
use crate::types::FunctionRef;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Credentials closer than this to expiring are renewed before a run uses them: a deployment
/// (update, wait, smoke test) must not outlive them.
const RENEW_BEFORE: Duration = Duration::from_secs(15 * 60);

/// A role's credentials and the clients that sign with them.
#[derive(Clone, Debug)]
struct Signed {
    assumed: Assumed,
    lambda: Lambda,
    ecr: Ecr,
    cloudwatch: Option<CloudWatch>,
}

/// The roles assumed so far, shared by every run of one engine.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    sts: Option<Sts>,
    cache: Arc<tokio::sync::Mutex<HashMap<String, Signed>>>,
}

impl Accounts {
    pub fn new(sts: Option<Sts>) -> Self {
        Self {
            sts,
            cache: Default::default(),
        }
    }
}

/// The context for `target`'s calls: `ctx` itself, or a copy whose Lambda, ECR and CloudWatch
/// sign with the target's role. `Err` is a sentence for the report (STS refused, or no STS client).
pub async fn ctx_for(ctx: &Ctx, target: &Target) -> Result<Ctx, String> {
    let Some(role) = target.assume_role_arn.as_deref() else {
        return Ok(ctx.clone());
    };
    let accounts = &ctx.accounts;
    let Some(sts) = accounts.sts.as_ref() else {
        return Err(format!(
            "the target's role {role} cannot be assumed: this deployer has no STS client"
        ));
    };
    // Held across AssumeRole: functions of one role deployed side by side wait for one answer
    // instead of each asking STS.
    let mut cache = accounts.cache.lock().await;
    let now = ctx.clock().now();
    let fresh = cache
        .get(role)
        .filter(|s| s.assumed.expires.duration_since(now).unwrap_or_default() > RENEW_BEFORE)
        .cloned();
    let signed = match fresh {
        Some(s) => s,
        None => {
            let assumed = sts
                .assume_role(role, &ctx.run_id)
                .await
                .map_err(|e| format!("the target's role {role} could not be assumed: {e}"))?;
            tracing::info!(role, access_key_id = %assumed.access_key_id, "assumed the target's role");
            let signed = Signed {
                lambda: ctx.lambda.with_credentials(&assumed),
                ecr: ctx.ecr.with_credentials(&assumed),
                cloudwatch: ctx
                    .rollouts
                    .cloudwatch
                    .as_ref()
                    .map(|c| c.with_credentials(&assumed)),
                assumed,
            };
            cache.insert(role.to_owned(), signed.clone());
            signed
        }
    };
    let mut rollouts = ctx.rollouts.clone();
    rollouts.cloudwatch = signed.cloudwatch;
    Ok(Ctx {
        lambda: signed.lambda,
        ecr: signed.ecr,
        rollouts,
        ..ctx.clone()
    })
}

/// A deployment that never started: the target's account could not be reached.
pub fn unreachable(function: FunctionRef, target: &Target, why: String) -> Deployment {
    tracing::warn!(function = %function, reason = %why, "deployment failed");
    let mut dep = Deployment::new(function, target.alias.clone());
    dep.fail(Step::Resolve, FailureKind::AccessDenied, why);
    dep
}
