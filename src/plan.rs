//! Which functions an ECR event deploys to, or why it deploys nothing. Pure: no AWS here.

use crate::config::{Config, Target};
use crate::event::EcrImageAction;
use crate::types::{FunctionRef, ImageRef};

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

pub fn plan<'a>(config: &'a Config, ev: &EcrImageAction) -> Plan<'a> {
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
        let p = plan(&c, &push("api", Some("dev-42")));
        assert_eq!(names(&p), ["dev-a", "dev-b"]);
        let Plan::Deploy { image, .. } = p else {
            unreachable!()
        };
        assert!(
            image
                .uri()
                .ends_with(&format!("/api@sha256:{}", "a".repeat(64)))
        );
        assert_eq!(names(&plan(&c, &push("api", Some("v1.0")))), ["prod"]);
    }

    #[test]
    fn skips_say_why() {
        let c = config(r#"[{"repository":"api","functions":["f"],"tags":["v*"]}]"#);
        let mut e = push("api", Some("v1"));
        e.action_type = "DELETE".into();
        assert_eq!(
            skip_reason(plan(&c, &e)),
            "action-type is \"DELETE\": only pushes are deployed"
        );
        let mut e = push("api", Some("v1"));
        e.result = "FAILURE".into();
        assert_eq!(
            skip_reason(plan(&c, &e)),
            "result is \"FAILURE\": only successful pushes are deployed"
        );
        assert_eq!(
            skip_reason(plan(&c, &push("other", Some("v1")))),
            "no target is configured for repository \"other\""
        );
        assert!(
            skip_reason(plan(&c, &push("api", Some("latest"))))
                .contains("tag \"latest\" matches none")
        );
        assert!(skip_reason(plan(&c, &push("api", None))).contains("allow_untagged"));
    }

    #[test]
    fn untagged_pushes_deploy_only_when_allowed() {
        let c = config(r#"[{"repository":"api","functions":["f"],"allow_untagged":true}]"#);
        assert_eq!(names(&plan(&c, &push("api", None))), ["f"]);
    }
}
