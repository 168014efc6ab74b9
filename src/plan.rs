//! Which functions an ECR event deploys to, or why it deploys nothing. Pure: no AWS here.

use crate::config::{Config, Target};
use crate::event::EcrImageAction;
use crate::types::{FunctionRef, ImageRef};

/// Where this deployer runs: images are taken only from this account's registry (or a target's
/// `registry_account`) in this region, whatever an event claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub account: String,
    pub region: String,
}

impl Home {
    /// From the deployer's own function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
    pub fn from_function_arn(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", region, account, "function", ..]
                if crate::types::is_account(account) =>
            {
                Some(Self {
                    account: (*account).to_owned(),
                    region: (*region).to_owned(),
                })
            }
            _ => None,
        }
    }

    /// Why `target` must not take an image from `account`/`region`, if it must not.
    pub fn refuses(
        home: Option<&Home>,
        target: &Target,
        account: &str,
        region: &str,
    ) -> Option<String> {
        let Some(home) = home else {
            return Some("this deployer's own account and region are unknown, so the image's registry cannot be checked".into());
        };
        let expected = target.registry_account.as_deref().unwrap_or(&home.account);
        if account != expected {
            return Some(format!(
                "the image is in account {account}'s registry, not {expected}'s (set registry_account on the target to deploy from a central registry)"
            ));
        }
        if region != home.region {
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

#[derive(Debug)]
pub enum Plan<'a> {
    /// Nothing to do, and why. Not an error: EventBridge sends every push of the account's rule.
    Skip(String),
    Deploy {
        image: ImageRef,
        jobs: Vec<Job<'a>>,
    },
}

pub fn plan<'a>(config: &'a Config, ev: &EcrImageAction, home: Option<&Home>) -> Plan<'a> {
    if ev.action_type != "PUSH" {
        return Plan::Skip(format!(
            "action-type is {:?}: only pushes are deployed",
            ev.action_type
        ));
    }
    if ev.result != "SUCCESS" {
        return Plan::Skip(format!(
            "result is {:?}: only successful pushes are deployed",
            ev.result
        ));
    }
    let Some(digest) = ev.digest.clone() else {
        // The parser rejects a successful push without a digest; this is only a second lock.
        return Plan::Skip("the event names no image digest".into());
    };
    let targets: Vec<&Target> = config.targets_for(&ev.repository);
    if targets.is_empty() {
        return Plan::Skip(format!(
            "no target is configured for repository {:?}",
            ev.repository
        ));
    }
    let mut jobs = Vec::new();
    let mut mismatches = Vec::new();
    for t in targets {
        if let Some(why) = Home::refuses(home, t, &ev.account, &ev.region) {
            mismatches.push(why);
            continue;
        }
        match t.tag_mismatch(ev.tag.as_deref()) {
            None => jobs.extend(t.functions.iter().map(|f| Job {
                target: t,
                function: f.clone(),
            })),
            Some(why) => mismatches.push(why),
        }
    }
    if jobs.is_empty() {
        return Plan::Skip(mismatches.join("; "));
    }
    Plan::Deploy {
        image: ImageRef {
            account: ev.account.clone(),
            region: ev.region.clone(),
            repository: ev.repository.clone(),
            digest,
            tag: ev.tag.clone(),
        },
        jobs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Digest;
    use chrono::TimeZone;

    fn home() -> Home {
        Home {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
        }
    }

    fn config(targets: &str) -> Config {
        Config::from_lookup(|k| (k == "DEPLOYER_TARGETS").then(|| targets.to_owned())).unwrap()
    }

    fn push(repo: &str, tag: Option<&str>) -> EcrImageAction {
        EcrImageAction {
            action_type: "PUSH".into(),
            result: "SUCCESS".into(),
            repository: repo.into(),
            digest: Some(Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap()),
            tag: tag.map(str::to_owned),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            time: chrono::Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap(),
        }
    }

    fn names(p: &Plan) -> Vec<String> {
        match p {
            Plan::Deploy { jobs, .. } => {
                jobs.iter().map(|j| j.function.name().to_owned()).collect()
            }
            Plan::Skip(why) => panic!("skipped: {why}"),
        }
    }

    fn skip_reason(p: Plan) -> String {
        match p {
            Plan::Skip(why) => why,
            Plan::Deploy { .. } => panic!("expected a skip"),
        }
    }

    #[test]
    fn a_push_fans_out_to_every_function_of_matching_targets() {
        let c = config(
            r#"[{"repository":"api","functions":["dev-a","dev-b"],"tags":["dev-*"]},
                {"repository":"api","functions":["prod"],"tags":["v*"]},
                {"repository":"web","functions":["web"]}]"#,
        );
        let p = plan(&c, &push("api", Some("dev-42")), Some(&home()));
        assert_eq!(names(&p), ["dev-a", "dev-b"]);
        let Plan::Deploy { image, .. } = p else {
            unreachable!()
        };
        assert!(
            image
                .uri()
                .ends_with(&format!("/api@sha256:{}", "a".repeat(64)))
        );
        assert_eq!(
            names(&plan(&c, &push("api", Some("v1.0")), Some(&home()))),
            ["prod"]
        );
    }

    #[test]
    fn skips_say_why() {
        let c = config(r#"[{"repository":"api","functions":["f"],"tags":["v*"]}]"#);
        let mut e = push("api", Some("v1"));
        e.action_type = "DELETE".into();
        assert_eq!(
            skip_reason(plan(&c, &e, Some(&home()))),
            "action-type is \"DELETE\": only pushes are deployed"
        );
        let mut e = push("api", Some("v1"));
        e.result = "FAILURE".into();
        assert_eq!(
            skip_reason(plan(&c, &e, Some(&home()))),
            "result is \"FAILURE\": only successful pushes are deployed"
        );
        assert_eq!(
            skip_reason(plan(&c, &push("other", Some("v1")), Some(&home()))),
            "no target is configured for repository \"other\""
        );
        assert!(
            skip_reason(plan(&c, &push("api", Some("latest")), Some(&home())))
                .contains("tag \"latest\" matches none")
        );
        assert!(
            skip_reason(plan(&c, &push("api", None), Some(&home()))).contains("allow_untagged")
        );
    }

    #[test]
    fn images_come_only_from_our_own_or_the_configured_registry() {
        let c = config(
            r#"[{"repository":"api","functions":["f"]},{"repository":"central","functions":["g"],"registry_account":"210987654321"}]"#,
        );
        let mut e = push("api", Some("v1"));
        e.account = "999999999999".into();
        assert!(
            skip_reason(plan(&c, &e, Some(&home())))
                .contains("account 999999999999's registry, not 123456789012's")
        );
        let mut e = push("api", Some("v1"));
        e.region = "us-east-1".into();
        assert!(
            skip_reason(plan(&c, &e, Some(&home())))
                .contains("region us-east-1, not this deployer's eu-west-1")
        );
        assert!(
            skip_reason(plan(&c, &push("api", Some("v1")), None))
                .contains("own account and region are unknown")
        );
        let mut e = push("central", Some("v1"));
        e.account = "210987654321".into();
        assert_eq!(names(&plan(&c, &e, Some(&home()))), ["g"]);
        let e = push("central", Some("v1"));
        assert!(skip_reason(plan(&c, &e, Some(&home()))).contains("not 210987654321's"));
        assert_eq!(
            Home::from_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:self-deployer"),
            Some(home())
        );
        assert_eq!(Home::from_function_arn("nonsense"), None);
    }

    #[test]
    fn untagged_pushes_deploy_only_when_allowed() {
        let c = config(r#"[{"repository":"api","functions":["f"],"allow_untagged":true}]"#);
        assert_eq!(names(&plan(&c, &push("api", None), Some(&home()))), ["f"]);
    }
}
