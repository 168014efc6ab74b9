//! Stages on the modelled world (issue 17): a push deploys to api-staging only; its deployment
//! schedules a promotion check at now + bake; the check (fired by hand, as EventBridge Scheduler
//! would, in virtual time) promotes the same digest to api-prod through the full pipeline, unless
//! staging moved on (superseded) or its alarm is in ALARM (blocked); a manual stage says "ready to
//! promote" and a person promotes; a target in another account is deployed with its own role's
//! credentials.

use crate::support;

use self_deployer::engine::{Engine, Invocation};
use self_deployer::input::{PromoteStageRequest, Request};
use self_deployer::report::{ActionKind, Outcome, Report};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::world::{Assumptions, Scan, Signers, World, access_key_of, digest, image_uri};
use support::{IntoReport, TestEngine, push};

use support::{DEPLOYER_ARN as SELF, SCHEDULER_ROLE as ROLE};
const PROD_ROLE: &str = "arn:aws:iam::210987654321:role/deployer-prod";
const BAKE: u64 = 1800;

fn targets(manual: bool, prod_role: bool) -> Value {
    let mut prod = json!({"repository": "api", "functions": ["api-prod"],
                          "after": {"function": "api-staging", "bake_secs": BAKE, "manual": manual}});
    if prod_role {
        prod["assume_role_arn"] = json!(PROD_ROLE);
        // ECR calls too: the image checks read the scan with the target's credentials.
        prod["image_checks"] = json!({"max_findings": {"CRITICAL": 0}, "require_scan": true});
    }
    json!([{"repository": "api", "functions": ["api-staging"], "tags": ["v*"],
            "rollout": {"alarms": ["staging-5xx"]}},
           prod])
}

struct Stages {
    w: World,
    e: Engine,
    subjects: Arc<Mutex<Vec<String>>>,
    signers: Signers,
    ecr_signers: Signers,
    assumed: Assumptions,
}

impl Stages {
    fn new() -> Self {
        Self::with(false, false)
    }

    /// api-staging and api-prod both on version 1 (image a), staging's alarm OK.
    fn with(manual: bool, prod_role: bool) -> Self {
        Self::with_credentials_for(manual, prod_role, Duration::from_secs(3600))
    }

    fn with_credentials_for(manual: bool, prod_role: bool, valid_for: Duration) -> Self {
        let w = World::new();
        w.live_function("api-staging", "api", 'a');
        w.live_function("api-prod", "api", 'a');
        w.alarm("staging-5xx", "OK");
        let (rule, subjects) = support::sns_subjects();
        let (lambda, signers) = w.signed_client();
        let (ecr, ecr_signers) = w.signed_ecr_client();
        for c in ['b', 'c'] {
            w.scan("api", c, Scan::complete(&[("HIGH", 1)]));
        }
        let (sts, assumed) = w.sts_client(valid_for);
        let e = TestEngine::new(&w)
            .config(support::scheduling_config(targets(manual, prod_role)))
            .lambda(lambda)
            .ecr(ecr)
            .sns(&rule)
            .rollouts()
            .sts(sts)
            .build();
        Self {
            w,
            e,
            subjects,
            signers,
            ecr_signers,
            assumed,
        }
    }

    async fn push(&self, c: char) -> Report {
        self.e
            .handle(&push("api", c, Some(&format!("v{c}"))))
            .await
            .report()
    }

    /// What EventBridge Scheduler does at the schedule's time: deletes it and invokes us with its
    /// input.
    async fn fire(&self) -> Report {
        let s = self.w.only_schedule();
        self.fire_payload(&s.payload(), s.at()).await
    }

    async fn fire_payload(&self, payload: &Value, at: std::time::SystemTime) -> Report {
        self.w.advance_to(at);
        self.w.lock().schedules.clear();
        self.e.handle(payload).await.report()
    }

    async fn by_hand(&self, now: bool) -> Report {
        let r = Request::PromoteStage(PromoteStageRequest {
            from: "api-staging".parse().unwrap(),
            to: "api-prod".parse().unwrap(),
            digest: None,
            due: None,
            now,
            reason: None,
        });
        self.e
            .run(r, Invocation::default())
            .await
            .map(|r| r.into_report().expect("a report"))
            .expect("a valid request")
    }

    fn prod(&self) -> (String, String) {
        let v = self.w.alias_version("api-prod", "live").expect("alias");
        let image = self.w.with_func("api-prod", |f| {
            f.versions[&v.parse::<u64>().unwrap()]
                .code
                .image_uri
                .clone()
        });
        (v, image)
    }

    fn prod_calls(&self) -> usize {
        self.w
            .calls()
            .iter()
            .filter(|c| c.function == "api-prod")
            .count()
    }

    fn subjects(&self) -> Vec<String> {
        std::mem::take(&mut *self.subjects.lock().unwrap())
    }
}

#[tokio::test]
async fn a_push_reaches_prod_only_by_promotion_after_the_bake() {
    let s = Stages::new();
    let r = s.push('b').await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let names: Vec<&str> = r.deployments.iter().map(|d| d.function.name()).collect();
    assert_eq!(names, ["api-staging"], "the push skips the later stage");
    assert_eq!(s.prod_calls(), 0, "api-prod is not even read");
    // The deployment scheduled the promotion check at now + bake, with the digest it deployed.
    assert_eq!(r.promotion_checks.len(), 1, "{r:#?}");
    let check = &r.promotion_checks[0];
    assert_eq!(
        (check.from.as_str(), check.to.clone()),
        ("api-staging", vec!["api-prod".to_owned()])
    );
    assert_eq!(check.digest, digest('b'));
    assert!(check.error.is_none() && !check.manual);
    let sched = s.w.only_schedule();
    assert_eq!(Some(&sched.name), check.schedule.as_ref());
    assert_eq!(
        (sched.target_arn.as_str(), sched.role_arn.as_str()),
        (SELF, ROLE)
    );
    assert!(sched.delete_after && sched.flexible_off);
    let moved = s.w.calls().into_iter().rfind(|c| c.op == "UpdateAlias");
    let deployed_at = moved.unwrap().at.unwrap();
    let bake = sched.at().duration_since(deployed_at).unwrap().as_secs();
    assert!(
        (BAKE..BAKE + 2).contains(&bake),
        "due {bake} s after the deployment"
    );
    assert_eq!(
        sched.payload(),
        json!({"action": "promote_stage", "from": "api-staging", "to": "api-prod",
               "digest": digest('b'), "due": check.due})
    );
    s.subjects();

    // The check: the same digest to api-prod, through the full pipeline (smoke test, publish).
    let r = s.fire().await;
    assert_eq!(r.action, ActionKind::PromoteStage);
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let stage = r.stage.as_ref().expect("the stage it came from");
    assert_eq!(stage.from, "api-staging");
    assert_eq!(stage.from_version.map(|v| v.to_string()), Some("2".into()));
    assert!(stage.scheduled && stage.baked_secs.unwrap() >= BAKE);
    assert_eq!(r.image_uri.as_deref(), Some(image_uri("api", 'b').as_str()));
    assert_eq!(
        r.image_tag.as_deref(),
        Some("vb"),
        "the tag staging recorded"
    );
    let d = &r.deployments[0];
    assert_eq!(d.function.name(), "api-prod");
    assert!(d.smoke_test.as_ref().unwrap().passed);
    assert_eq!(s.prod(), ("2".into(), image_uri("api", 'b')));
    let desc = s.w.version_description("api-prod", 2);
    assert!(desc.contains(&format!("digest={}", digest('b'))), "{desc}");
    assert!(
        desc.contains("tag=vb") && desc.contains("pushed="),
        "{desc}"
    );
    assert_eq!(s.subjects(), ["DEPLOYED api-prod v2 (vb)"]);
    assert!(s.w.schedules().is_empty(), "nothing follows api-prod");
}

#[tokio::test]
async fn a_check_for_a_digest_staging_moved_on_from_is_superseded() {
    let s = Stages::new();
    s.push('b').await;
    let old = s.w.only_schedule();
    // A newer push replaces the pending check with its own.
    let r = s.push('c').await;
    assert_eq!(r.outcome, Outcome::Deployed);
    let new = s.w.only_schedule();
    assert_ne!(new.name, old.name, "the older check is deleted");
    assert_eq!(new.payload()["digest"], digest('c'));
    // The older check still fires (it was already on its way): it finds staging on c.
    let r = s.fire_payload(&old.payload(), old.at()).await;
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    let why = r.reason.unwrap();
    assert!(
        why.starts_with("superseded: api-staging now runs sha256:"),
        "{why}"
    );
    assert!(r.deployments.is_empty());
    assert_eq!(
        s.prod(),
        ("1".into(), image_uri("api", 'a')),
        "prod untouched"
    );
    // Staging rolled back to b: the check for c is superseded too, and b is not promoted.
    s.w.set_alias("api-staging", "live", "2");
    let r = s.fire_payload(&new.payload(), new.at()).await;
    assert_eq!(r.outcome, Outcome::Skipped);
    assert!(r.reason.unwrap().starts_with("superseded:"));
    assert_eq!(s.prod().0, "1");
}

#[tokio::test]
async fn an_alarm_on_staging_blocks_the_promotion() {
    let s = Stages::new();
    s.push('b').await;
    s.w.alarm("staging-5xx", "ALARM");
    s.subjects();
    let r = s.fire().await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    let why = r.reason.clone().unwrap();
    assert!(
        why.starts_with("blocked: alarm staging-5xx of api-staging is in ALARM;"),
        "{why}"
    );
    assert_eq!(r.image_digest.as_deref(), Some(digest('b').as_str()));
    assert_eq!(s.prod(), ("1".into(), image_uri("api", 'a')));
    assert_eq!(s.prod_calls(), 0, "prod is not touched");
    assert_eq!(
        s.subjects(),
        ["FAILED api (sha256:bbbbbbbbbbbb)"],
        "people hear of it"
    );
    // Once the alarm is quiet, a person promotes it.
    s.w.alarm("staging-5xx", "OK");
    let r = s.by_hand(false).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(s.prod().1, image_uri("api", 'b'));
}

#[tokio::test]
async fn a_manual_stage_says_ready_and_a_person_promotes() {
    let s = Stages::with(true, false);
    let r = s.push('b').await;
    assert!(r.promotion_checks[0].manual);
    s.subjects();
    let r = s.fire().await;
    assert_eq!(r.outcome, Outcome::ReadyToPromote, "{r:#?}");
    let why = r.reason.clone().unwrap();
    assert!(
        why.contains("self-deployer promote-stage --from api-staging --to api-prod --now"),
        "{why}"
    );
    assert!(why.contains(r#""action":"promote_stage""#), "{why}");
    assert_eq!(
        r.stage.as_ref().unwrap().command.as_deref(),
        Some("self-deployer promote-stage --from api-staging --to api-prod --now")
    );
    assert_eq!(
        s.prod(),
        ("1".into(), image_uri("api", 'a')),
        "nothing deployed"
    );
    assert_eq!(s.prod_calls(), 0);
    let subjects = s.subjects();
    assert_eq!(subjects.len(), 1);
    assert!(
        subjects[0].starts_with("READY TO PROMOTE api"),
        "{subjects:?}"
    );
    // The person runs the command: the bake is over, so --now is not even needed.
    let r = s.by_hand(false).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert!(!r.stage.as_ref().unwrap().scheduled);
    assert_eq!(s.prod(), ("2".into(), image_uri("api", 'b')));
}

#[tokio::test]
async fn by_hand_the_bake_is_required_unless_now() {
    let s = Stages::new();
    s.push('b').await;
    s.w.time.advance(Duration::from_secs(600));
    let r = s.by_hand(false).await;
    assert_eq!(r.outcome, Outcome::Skipped, "{r:#?}");
    let why = r.reason.unwrap();
    assert!(
        why.starts_with("not baked yet: api-staging has served sha256:bbbbbbbbbbbb for 60"),
        "{why}"
    );
    assert!(why.contains("of the 1800 s bake"), "{why}");
    assert_eq!(s.prod().0, "1");
    let r = s.by_hand(true).await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(s.prod(), ("2".into(), image_uri("api", 'b')));
}

#[tokio::test]
async fn a_promotion_to_a_stage_that_does_not_follow_is_refused_before_any_call() {
    let s = Stages::new();
    let r = Request::PromoteStage(PromoteStageRequest {
        from: "api-prod".parse().unwrap(),
        to: "api-staging".parse().unwrap(),
        digest: None,
        due: None,
        now: true,
        reason: None,
    });
    let e = s.e.run(r, Invocation::default()).await.unwrap_err();
    assert_eq!(e.field, "payload.to");
    assert!(
        e.problem.contains("\"api-staging\" is not a function of a target that follows \"api-prod\" (configured stages: api-prod after api-staging)"),
        "{e}"
    );
    assert!(s.w.calls().is_empty());
}

#[tokio::test]
async fn a_target_in_another_account_is_deployed_with_its_roles_credentials() {
    let s = Stages::with(false, true);
    s.push('b').await;
    assert!(
        s.assumed.lock().unwrap().is_empty(),
        "staging needs no role"
    );
    let r = s.fire().await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let assumed = s.assumed.lock().unwrap().clone();
    assert_eq!(assumed.len(), 1, "{assumed:?}");
    assert_eq!(assumed[0].0, PROD_ROLE);
    assert!(assumed[0].1.starts_with("self-deployer-"), "{assumed:?}");
    assert!(assumed[0].1.len() <= 64);
    // Every call about api-prod went out signed with the prod role's key; staging's with ours.
    let prod_key = access_key_of(PROD_ROLE);
    let signers = s.signers.lock().unwrap().clone();
    let prod: Vec<&String> = signers
        .iter()
        .filter(|(p, _)| p.contains("/functions/api-prod"))
        .map(|(_, k)| k)
        .collect();
    assert!(
        prod.len() >= 6,
        "resolve, update, wait, smoke, publish, alias: {signers:?}"
    );
    assert!(prod.iter().all(|k| **k == prod_key), "{signers:?}");
    assert!(
        signers
            .iter()
            .filter(|(p, _)| p.contains("/functions/api-staging"))
            .all(|(_, k)| *k != prod_key),
        "{signers:?}"
    );
    // ECR too: the prod target's image checks read the scan, and its deployment the image's
    // labels, with the prod role's key (staging's deployment read them with ours).
    let ecr = s.ecr_signers.lock().unwrap().clone();
    let scans: Vec<_> = ecr
        .iter()
        .filter(|(op, _)| op.ends_with("DescribeImageScanFindings"))
        .collect();
    assert!(!scans.is_empty(), "{ecr:?}");
    assert!(scans.iter().all(|(_, k)| *k == prod_key), "{ecr:?}");
    let labels: Vec<&String> = ecr
        .iter()
        .filter(|(op, _)| op.ends_with("BatchGetImage"))
        .map(|(_, k)| k)
        .collect();
    assert_eq!(labels.len(), 2, "staging's read, then prod's: {ecr:?}");
    assert_eq!(*labels[1], prod_key, "{ecr:?}");
    assert_eq!(
        r.deployments[0]
            .image_checks
            .as_ref()
            .map(|c| c.scan_status.as_str()),
        Some("COMPLETE")
    );
    // The next promotion reuses the credentials: one AssumeRole per role per engine.
    s.push('c').await;
    let r = s.fire().await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(s.assumed.lock().unwrap().len(), 1);
    assert_eq!(s.prod().1, image_uri("api", 'c'));
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_fails_that_target_only_and_says_why() {
    let s = Stages::with(false, true);
    // An engine without STS: the role cannot be assumed.
    let e = TestEngine::new(&s.w)
        .config(support::scheduling_config(targets(false, true)))
        .rollouts()
        .build();
    e.handle(&push("api", 'b', Some("vb"))).await.report();
    let sched = s.w.only_schedule();
    s.w.advance_to(sched.at());
    let r = e.handle(&sched.payload()).await.report();
    assert_eq!(r.outcome, Outcome::Failed, "{r:#?}");
    let d = &r.deployments[0];
    assert_eq!(d.function.name(), "api-prod");
    assert!(
        d.reason.as_deref().unwrap().contains(
            "the target's role arn:aws:iam::210987654321:role/deployer-prod cannot be assumed"
        ),
        "{d:#?}"
    );
    assert_eq!(s.prod_calls(), 0);
}

#[tokio::test]
async fn credentials_near_their_expiry_are_renewed_for_the_run_that_needs_them() {
    // Valid for 20 minutes: the next promotion, a bake (30 minutes) later, needs new ones.
    let s = Stages::with_credentials_for(false, true, Duration::from_secs(1200));
    s.push('b').await;
    assert_eq!(s.fire().await.outcome, Outcome::Deployed);
    s.push('c').await;
    let r = s.fire().await;
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    let assumed = s.assumed.lock().unwrap().clone();
    assert_eq!(assumed.len(), 2, "{assumed:?}");
    assert_ne!(
        assumed[0].1, assumed[1].1,
        "each session names the run that asked"
    );
}

#[tokio::test]
async fn a_rollout_that_finishes_on_staging_schedules_the_promotion_of_its_digest() {
    let w = World::new();
    w.live_function("api-staging", "api", 'a');
    w.live_function("api-prod", "api", 'a');
    let targets = json!([
        {"repository": "api", "functions": ["api-staging"],
         "rollout": {"steps": [50], "interval_secs": 60, "check_secs": 60}},
        {"repository": "api", "functions": ["api-prod"],
         "after": {"function": "api-staging", "bake_secs": BAKE}}]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    let mut r = e.handle(&push("api", 'b', Some("vb"))).await.report();
    assert_eq!(r.outcome, Outcome::RollingOut, "{r:#?}");
    assert!(
        r.promotion_checks.is_empty(),
        "not yet: only part of the traffic"
    );
    for _ in 0..5 {
        let s = w.only_schedule();
        if s.payload()["action"] == "promote_stage" {
            break;
        }
        w.advance_to(s.at());
        w.lock().schedules.remove(&s.name);
        r = e.handle(&s.payload()).await.report();
    }
    assert_eq!(
        (r.action, r.outcome),
        (ActionKind::Advance, Outcome::Deployed),
        "{r:#?}"
    );
    assert_eq!(r.promotion_checks.len(), 1, "{r:#?}");
    assert_eq!(r.promotion_checks[0].digest, digest('b'));
    assert_eq!(w.only_schedule().payload()["digest"], digest('b'));
}

#[tokio::test]
async fn a_rollback_of_a_target_in_another_account_uses_its_role_too() {
    let s = Stages::with(false, true);
    s.push('b').await;
    assert_eq!(s.fire().await.outcome, Outcome::Deployed);
    s.w.ecr_image("api", 'a', None);
    s.signers.lock().unwrap().clear();
    s.ecr_signers.lock().unwrap().clear();
    let r =
        s.e.handle(&json!({"action": "rollback", "function": "api-prod"}))
            .await
            .report();
    assert_eq!(r.outcome, Outcome::RolledBack, "{r:#?}");
    assert_eq!(s.prod(), ("1".into(), image_uri("api", 'a')));
    let signers = s.signers.lock().unwrap().clone();
    assert!(!signers.is_empty());
    assert!(
        signers.iter().all(|(_, k)| *k == access_key_of(PROD_ROLE)),
        "{signers:?}"
    );
    let ecr = s.ecr_signers.lock().unwrap().clone();
    assert!(
        ecr.iter().any(|(op, _)| op.ends_with("DescribeImages")),
        "the image check: {ecr:?}"
    );
    assert!(
        ecr.iter().all(|(_, k)| *k == access_key_of(PROD_ROLE)),
        "{ecr:?}"
    );
    assert_eq!(s.assumed.lock().unwrap().len(), 1, "the cached credentials");
}

#[tokio::test]
async fn a_promotion_that_ends_deployed_schedules_the_next_stage() {
    let w = World::new();
    for f in ["api-dev", "api-staging", "api-prod"] {
        w.live_function(f, "api", 'a');
    }
    let targets = json!([
        {"repository": "api", "functions": ["api-dev"]},
        {"repository": "api", "functions": ["api-staging"],
         "after": {"function": "api-dev", "bake_secs": 600}},
        {"repository": "api", "functions": ["api-prod"],
         "after": {"function": "api-staging", "bake_secs": 3600, "manual": true}}]);
    let e = TestEngine::new(&w)
        .config(support::scheduling_config(targets))
        .rollouts()
        .build();
    e.handle(&push("api", 'b', Some("vb"))).await.report();
    let to_staging = w.only_schedule();
    assert_eq!(to_staging.payload()["to"], "api-staging");
    w.advance_to(to_staging.at());
    w.lock().schedules.clear();
    let r = e.handle(&to_staging.payload()).await.report();
    assert_eq!(r.outcome, Outcome::Deployed, "{r:#?}");
    assert_eq!(w.alias_version("api-staging", "live").as_deref(), Some("2"));
    assert_eq!(w.alias_version("api-prod", "live").as_deref(), Some("1"));
    // The promotion to staging scheduled prod's check, an hour on, for the same digest.
    let to_prod = w.only_schedule();
    let p = to_prod.payload();
    assert_eq!(
        (p["from"].as_str(), p["to"].as_str()),
        (Some("api-staging"), Some("api-prod"))
    );
    assert_eq!(p["digest"], digest('b'));
    assert!(r.promotion_checks[0].manual);
    let wait = to_prod
        .at()
        .duration_since(to_staging.at())
        .unwrap()
        .as_secs();
    assert!((3600..3610).contains(&wait), "{wait}");
}
