//! Which functions an image deploys to, or why it deploys nothing. Pure: no AWS here.

use crate::config::{Config, Target};
use crate::types::{Account, FunctionRef, ImageRef, Region, Repository};

pub const HOME_UNKNOWN: &str = "this deployer's own account and region are unknown (see the log), so the image's registry cannot be checked: nothing was deployed";

/// Where this deployer runs: images are taken only from this account's registry (or a target's
/// `registry_account`) in this region, whatever an event claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub account: Account,
    pub region: Region,
}

impl Home {
    /// From the deployer's own function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
    pub fn from_function_arn(arn: &str) -> Option<Self> {
        let arn: crate::types::FunctionArn = arn.parse().ok()?;
        Some(Self {
            account: Account::parse(arn.account()).ok()?,
            region: Region::parse(arn.region()).ok()?,
        })
    }

    /// Why `target` must not take an image from `account`/`region`, if it must not.
    pub fn refuses(&self, target: &Target, account: &Account, region: &Region) -> Option<String> {
        let home = self;
        let expected = target.registry_account.as_ref().unwrap_or(&home.account);
        if account != expected {
            return Some(format!(
                "the image is in account {account}'s registry, not {expected}'s (set registry_account on the target to deploy from a central registry)"
            ));
        }
        if *region != home.region {
            return Some(format!(
                "the image is in region {region}, not this deployer's {}",
                home.region
            ));
        }
        None
    }
}

/// One function to deploy, with the target settings that govern it.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub target: &'a Target,
    pub function: FunctionRef,
}

/// Why nothing goes to `repository`: no target names it (a push skipped, a payload refused).
pub fn no_target(repository: &Repository) -> String {
    format!(
        "no target is configured for repository {:?}",
        repository.as_str()
    )
}

/// Which functions `image` goes to: every function of every target of its repository whose tag
/// patterns match and whose registry is the image's. `Err` says why it goes nowhere (not an error:
/// EventBridge sends every push of the account's rule).
pub fn plan<'a>(config: &'a Config, image: &ImageRef, home: &Home) -> Result<Vec<Job<'a>>, String> {
    let targets: Vec<&Target> = config.targets_for(&image.repository);
    if targets.is_empty() {
        return Err(no_target(&image.repository));
    }
    let mut jobs = Vec::new();
    let mut mismatches = Vec::new();
    for t in targets {
        // A later stage takes only what the earlier stage ran well: never a push straight away.
        if let Some(after) = &t.after {
            mismatches.push(format!(
                "{} take{} images only by promotion from {} (after)",
                t.functions
                    .iter()
                    .map(FunctionRef::name)
                    .collect::<Vec<_>>()
                    .join(", "),
                if t.functions.len() == 1 { "s" } else { "" },
                after.function.name()
            ));
            continue;
        }
        if let Some(why) = home.refuses(t, &image.account, &image.region) {
            mismatches.push(why);
            continue;
        }
        match t.tag_mismatch(image.tag.as_ref()) {
            None => jobs.extend(t.functions.iter().map(|f| Job {
                target: t,
                function: f.clone(),
            })),
            Some(why) => mismatches.push(why),
        }
    }
    if jobs.is_empty() {
        return Err(mismatches.join("; "));
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> Home {
        Home {
            account: Account::parse("123456789012").unwrap(),
            region: Region::parse("eu-west-1").unwrap(),
        }
    }

    fn config(targets: &str) -> Config {
        Config::from_lookup(|k| (k == "DEPLOYER_TARGETS").then(|| targets.to_owned())).unwrap()
    }

    fn image(repo: &str, tag: Option<&str>) -> ImageRef {
        let mut i: ImageRef = format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{repo}@sha256:{}",
            "a".repeat(64)
        )
        .parse()
        .unwrap();
        i.tag = tag.map(|t| t.parse().unwrap());
        i
    }

    fn names(p: Result<Vec<Job>, String>) -> Vec<String> {
        p.expect("deploys")
            .iter()
            .map(|j| j.function.name().to_owned())
            .collect()
    }

    #[test]
    fn a_push_fans_out_to_every_function_of_matching_targets() {
        let c = config(
            r#"[{"repository":"api","functions":["dev-a","dev-b"],"tags":["dev-*"]},
                {"repository":"api","functions":["prod"],"tags":["v*"]},
                {"repository":"web","functions":["web"]}]"#,
        );
        assert_eq!(
            names(plan(&c, &image("api", Some("dev-42")), &home())),
            ["dev-a", "dev-b"]
        );
        assert_eq!(
            names(plan(&c, &image("api", Some("v1.0")), &home())),
            ["prod"]
        );
    }

    #[test]
    fn skips_say_why() {
        let c = config(r#"[{"repository":"api","functions":["f"],"tags":["v*"]}]"#);
        assert_eq!(
            plan(&c, &image("other", Some("v1")), &home()).unwrap_err(),
            "no target is configured for repository \"other\""
        );
        assert!(
            plan(&c, &image("api", Some("latest")), &home())
                .unwrap_err()
                .contains("tag \"latest\" matches none")
        );
        assert!(
            plan(&c, &image("api", None), &home())
                .unwrap_err()
                .contains("allow_untagged")
        );
    }

    #[test]
    fn images_come_only_from_our_own_or_the_configured_registry() {
        let c = config(
            r#"[{"repository":"api","functions":["f"]},{"repository":"central","functions":["g"],"registry_account":"210987654321"}]"#,
        );
        let mut e = image("api", Some("v1"));
        e.account = Account::parse("999999999999").unwrap();
        assert!(
            plan(&c, &e, &home())
                .unwrap_err()
                .contains("account 999999999999's registry, not 123456789012's")
        );
        let mut e = image("api", Some("v1"));
        e.region = Region::parse("us-east-1").unwrap();
        assert!(
            plan(&c, &e, &home())
                .unwrap_err()
                .contains("region us-east-1, not this deployer's eu-west-1")
        );
        let mut e = image("central", Some("v1"));
        e.account = Account::parse("210987654321").unwrap();
        assert_eq!(names(plan(&c, &e, &home())), ["g"]);
        assert!(
            plan(&c, &image("central", Some("v1")), &home())
                .unwrap_err()
                .contains("not 210987654321's")
        );
        assert_eq!(
            Home::from_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:self-deployer"),
            Some(home())
        );
        assert_eq!(Home::from_function_arn("nonsense"), None);
    }

    #[test]
    fn a_later_stage_never_takes_a_push() {
        // Stages need the scheduler's role (their promotion checks are schedules).
        let config = |t: &str| {
            let t = t.to_owned();
            Config::from_lookup(|k| match k {
                "DEPLOYER_TARGETS" => Some(t.clone()),
                "DEPLOYER_SCHEDULER_ROLE_ARN" => Some("arn:aws:iam::123456789012:role/s".into()),
                _ => None,
            })
            .unwrap()
        };
        let c = config(
            r#"[{"repository":"api","functions":["api-staging"]},
                {"repository":"api","functions":["api-prod"],"after":{"function":"api-staging","bake_secs":600}}]"#,
        );
        assert_eq!(
            names(plan(&c, &image("api", Some("v1")), &home())),
            ["api-staging"]
        );
        let c = config(
            r#"[{"repository":"api","functions":["api-staging"],"tags":["rc-*"]},
                {"repository":"api","functions":["api-prod"],"after":{"function":"api-staging","bake_secs":600}}]"#,
        );
        let why = plan(&c, &image("api", Some("v1")), &home()).unwrap_err();
        assert!(
            why.contains("api-prod takes images only by promotion from api-staging"),
            "{why}"
        );
    }

    #[test]
    fn untagged_pushes_deploy_only_when_allowed() {
        let c = config(r#"[{"repository":"api","functions":["f"],"allow_untagged":true}]"#);
        assert_eq!(names(plan(&c, &image("api", None), &home())), ["f"]);
    }
}
