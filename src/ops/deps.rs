//! What a door hands every action for one invocation ([`Deps`]), and the checks every action that
//! names a function makes first: only configured functions, reached with their target's role.

/// `deps.reach(function, None, kind)` in an action returning `Result<Report, InputError>`: the
/// reached function, or an early return of the report that says its account could not be reached.
macro_rules! reach_or_return {
    ($deps:expr, $function:expr, $kind:expr) => {
        match $deps.reach($function, None, $kind).await? {
            Ok(reached) => reached,
            Err(unreachable) => return Ok(unreachable),
        }
    };
}
pub(crate) use reach_or_return;

use super::ctx::Ctx;
use crate::config::{Config, Target};
use crate::input::InputError;
use crate::plan::Home;
use crate::report::{ActionKind, Report};
use crate::types::{FunctionRef, Repository};

/// What an action needs from the engine for one invocation.
pub struct Deps<'a> {
    pub config: &'a Config,
    pub ctx: Ctx,
    /// This deployer's account and region; `None` when they could not be learned.
    pub home: Option<&'a Home>,
}

impl<'a> Deps<'a> {
    /// The targets of the repository a payload names; none configured is the payload's error.
    pub fn targets_of(&self, repository: &Repository) -> Result<Vec<&'a Target>, InputError> {
        let targets = self.config.targets_for(repository);
        if targets.is_empty() {
            let why = crate::plan::no_target(repository);
            return Err(InputError::new("payload.repository", why));
        }
        Ok(targets)
    }

    /// Only functions named in DEPLOYER_TARGETS can be touched, whatever a payload says. Returns
    /// the configured reference (the API is always called with what the operator configured) and
    /// its target: the one for `repository` when one is named (a function may take images from
    /// several repositories, each with its own settings). An ARN must match a configured ARN
    /// exactly; a name matches by name.
    pub fn allowed(
        &self,
        requested: &FunctionRef,
        repository: Option<&Repository>,
    ) -> Result<(FunctionRef, &'a Target), InputError> {
        let config: &'a Config = self.config;
        let hit = |f: &FunctionRef| {
            if requested.is_arn() {
                f == requested
            } else {
                f.name() == requested.name()
            }
        };
        let mut found: Vec<(FunctionRef, &'a Target)> = Vec::new();
        for t in &config.targets {
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

    /// The same, with `target`'s role's credentials when it names one (a target in another
    /// account); `Err` says why that role could not be assumed.
    pub async fn for_target(&self, target: &Target) -> Result<Deps<'a>, String> {
        Ok(Deps {
            config: self.config,
            ctx: super::accounts::ctx_for(&self.ctx, target).await?,
            home: self.home,
        })
    }
}

/// A configured function, reached: its configured reference, its target, and the [`Deps`] that
/// sign with the target's role.
pub struct Reached<'a> {
    pub function: FunctionRef,
    pub target: &'a Target,
    pub deps: Deps<'a>,
}

impl<'a> Deps<'a> {
    /// The preamble of every action that names one function: [`Deps::allowed`], then
    /// [`Deps::for_target`]. `Err(InputError)` for a function this deployer does not manage;
    /// `Ok(Err(report))` when the target's account could not be reached (the report says why).
    pub async fn reach(
        &self,
        requested: &FunctionRef,
        repository: Option<&Repository>,
        action: ActionKind,
    ) -> Result<Result<Reached<'a>, Report>, InputError> {
        let (function, target) = self.allowed(requested, repository)?;
        Ok(match self.for_target(target).await {
            Ok(deps) => Ok(Reached {
                function,
                target,
                deps,
            }),
            Err(why) => {
                let dep = super::accounts::unreachable(function, target, why);
                Err(Report::new(action).with_deployments(vec![dep]))
            }
        })
    }
}
