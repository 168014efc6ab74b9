//! One file per thing the deployer can be asked to do. Each takes a validated request and what it
//! needs ([`Deps`]) and returns a report; none of them talks to AWS except through the gateway.

pub mod advance;
pub mod alarm;
pub mod deploy;
pub mod dispatch;
pub mod history;
pub mod promote;
pub mod promote_stage;
pub mod reconcile;
pub mod rollback;
pub mod status;

use crate::config::{Config, Target};
use crate::input::InputError;
use crate::pipeline::Ctx;
use crate::plan::Home;
use crate::types::{FunctionRef, Repository};

/// What an action needs from the engine for one invocation.
pub struct Deps<'a> {
    pub config: &'a Config,
    pub ctx: Ctx,
    /// This deployer's account and region; `None` when they could not be learned.
    pub home: Option<&'a Home>,
}

impl Deps<'_> {
    /// Only functions named in DEPLOYER_TARGETS can be touched, whatever a payload says. Returns
    /// the configured reference (the API is always called with what the operator configured) and
    /// its target: the one for `repository` when one is named (a function may take images from
    /// several repositories, each with its own settings). An ARN must match a configured ARN
    /// exactly; a name matches by name.
    pub fn allowed(
        &self,
        requested: &FunctionRef,
        repository: Option<&Repository>,
    ) -> Result<(FunctionRef, &Target), InputError> {
        let hit = |f: &FunctionRef| {
            if requested.is_arn() {
                f == requested
            } else {
                f.name() == requested.name()
            }
        };
        let mut found: Vec<(FunctionRef, &Target)> = Vec::new();
        for t in &self.config.targets {
            for f in t.functions.iter().filter(|f| hit(f)) {
                found.push((f.clone(), t));
            }
        }
        if found.is_empty() {
            let configured: Vec<&str> = self
                .config
                .targets
                .iter()
                .flat_map(|t| t.functions.iter().map(FunctionRef::name))
                .collect();
            return Err(InputError::new(
                "payload.function",
                format!(
                    "{:?} is not a function this deployer manages (DEPLOYER_TARGETS names: {})",
                    requested.as_str(),
                    configured.join(", ")
                ),
            ));
        }
        let mut functions: Vec<&FunctionRef> = found.iter().map(|(f, _)| f).collect();
        functions.dedup();
        if functions.len() > 1 && functions.iter().any(|f| *f != functions[0]) {
            return Err(InputError::new(
                "payload.function",
                format!(
                    "{:?} names functions in several accounts: give the full ARN",
                    requested.name()
                ),
            ));
        }
        match repository {
            None => Ok(found.swap_remove(0)),
            Some(repo) => {
                let repos: Vec<&str> = found.iter().map(|(_, t)| t.repository.as_str()).collect();
                let repos = repos.join(", ");
                found
                    .into_iter()
                    .find(|(_, t)| &t.repository == repo)
                    .ok_or_else(|| {
                        InputError::new(
                            "payload.image_uri",
                            format!(
                                "repository {:?} is not configured for function {:?} (its repositories: {repos})",
                                repo.as_str(),
                                requested.name(),
                            ),
                        )
                    })
            }
        }
    }
}

impl<'a> Deps<'a> {
    /// The same, with `target`'s role's credentials when it names one (a target in another
    /// account); `Err` says why that role could not be assumed.
    pub async fn for_target(&self, target: &Target) -> Result<Deps<'a>, String> {
        Ok(Deps {
            config: self.config,
            ctx: crate::accounts::ctx_for(&self.ctx, target).await?,
            home: self.home,
        })
    }
}
