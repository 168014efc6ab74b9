use super::*;
use crate::types::Tag;

const ROLE: &str = "arn:aws:iam::123456789012:role/scheduler";

fn tag(s: &str) -> Tag {
    Tag::parse(s).unwrap()
}
use std::collections::HashMap;

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_fill_everything_but_repository_and_functions() {
    let c = load(&[(
        TARGETS_VAR,
        r#"[{"repository":"api","functions":["api-dev"]}]"#,
    )])
    .unwrap();
    assert_eq!(c.alias.as_str(), "live");
    assert_eq!(c.update_timeout, Duration::from_secs(600));
    assert_eq!(c.provisioned_wait, Duration::from_secs(300));
    assert_eq!(c.max_parallel, 4);
    assert_eq!(c.topic_arn, None);
    let t = &c.targets[0];
    assert_eq!(t.tags, vec![crate::types::TagPattern::any()]);
    assert!(!t.allow_untagged);
    assert_eq!(t.alias.as_str(), "live");
    assert_eq!(t.keep_versions, 0);
    assert_eq!(t.smoke, Smoke::default());
    assert_eq!(t.smoke.payload["path"], "/api/v1/health");
    assert_eq!(t.smoke.expect_status, Some(vec![200]));
}

#[test]
fn explicit_values_are_kept() {
    let c = load(&[
        (
            TARGETS_VAR,
            r#"[{"repository":"team/api","functions":["arn:aws:lambda:eu-west-1:123456789012:function:a","b"],
                "tags":["v*","release-?"],"allow_untagged":true,"alias":"prod",
                "smoke":{"payload":{"ping":1},"expect_status":null},"keep_versions":5}]"#,
        ),
        (ALIAS_VAR, "current"),
        (TOPIC_VAR, "arn:aws:sns:eu-west-1:123456789012:deploys"),
        (TIMEOUT_VAR, "900"),
        (PARALLEL_VAR, "8"),
    ])
    .unwrap();
    let t = &c.targets[0];
    assert_eq!(c.alias.as_str(), "current");
    assert_eq!(t.alias.as_str(), "prod");
    assert_eq!(t.functions[0].name(), "a");
    assert_eq!(t.smoke.expect_status, None);
    assert_eq!(t.smoke.payload, serde_json::json!({"ping":1}));
    assert_eq!(t.keep_versions, 5);
    assert_eq!(c.update_timeout, Duration::from_secs(900));
    assert_eq!(c.max_parallel, 8);
    assert!(c.topic_arn.is_some());
    // Targets without their own settings inherit DEPLOYER_ALIAS and DEPLOYER_KEEP_VERSIONS.
    let c = load(&[
        (TARGETS_VAR, r#"[{"repository":"api","functions":["f"]},{"repository":"web","functions":["w"],"keep_versions":0}]"#),
        (ALIAS_VAR, "current"),
        (KEEP_VERSIONS_VAR, "10"),
    ])
    .unwrap();
    assert_eq!(c.targets[0].alias.as_str(), "current");
    assert_eq!(c.targets[0].keep_versions, 10);
    assert_eq!(
        c.targets[1].keep_versions, 0,
        "an explicit 0 wins over the default"
    );
}

#[test]
fn tag_matching_uses_globs_and_the_untagged_switch() {
    let c = load(&[(
        TARGETS_VAR,
        r#"[{"repository":"api","functions":["f"],"tags":["v*","rc-?"]}]"#,
    )])
    .unwrap();
    let t = &c.targets[0];
    assert_eq!(t.tag_mismatch(Some(&tag("v1.2.3"))), None);
    assert_eq!(t.tag_mismatch(Some(&tag("rc-1"))), None);
    assert!(
        t.tag_mismatch(Some(&tag("rc-12")))
            .unwrap()
            .contains("matches none")
    );
    assert!(t.tag_mismatch(Some(&tag("latest"))).is_some());
    assert!(t.tag_mismatch(None).unwrap().contains("allow_untagged"));
}

#[test]
fn image_checks_come_from_the_target_or_deployer_image_checks() {
    let targets = r#"[{"repository":"api","functions":["a"]},
        {"repository":"api","functions":["b"],"image_checks":{"max_findings":{"HIGH":3},"scan_wait_secs":0,
         "require_signature":{"signing_profile_arn":"arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod"}}},
        {"repository":"api","functions":["c"],"image_checks":{}}]"#;
    let c = load(&[(TARGETS_VAR, targets)]).unwrap();
    assert_eq!(
        c.targets[0].image_checks, None,
        "no checks unless configured"
    );
    let b = c.targets[1].image_checks.clone().unwrap();
    assert_eq!(b.scan_wait_secs, 0);
    assert!(!b.require_scan);
    assert_eq!(
        b.max_findings.unwrap().get(&crate::types::Severity::High),
        Some(&3)
    );
    assert_eq!(
        b.require_signature.unwrap().signing_profile_arn.as_str(),
        "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod"
    );
    let empty = c.targets[2].image_checks.clone().unwrap();
    assert_eq!(
        (empty.max_findings, empty.require_scan, empty.scan_wait_secs),
        (None, false, 300),
        "{{}} reports only"
    );
    let c = load(&[
        (TARGETS_VAR, targets),
        (
            IMAGE_CHECKS_VAR,
            r#"{"max_findings":{"CRITICAL":0},"require_scan":true}"#,
        ),
    ])
    .unwrap();
    let default = c.targets[0].image_checks.clone().unwrap();
    assert!(default.require_scan && default.scan_enforced());
    assert_eq!(
        c.targets[1].image_checks.as_ref().unwrap().scan_wait_secs,
        0,
        "the target's own wins"
    );
    assert!(!c.targets[2].image_checks.as_ref().unwrap().scan_enforced());
    // Empty, as SAM and Terraform set it when no default is given: none.
    let c = load(&[(TARGETS_VAR, targets), (IMAGE_CHECKS_VAR, " ")]).unwrap();
    assert_eq!(c.targets[0].image_checks, None);
}

/// Each bad configuration and the exact error it gets.
#[test]
fn bad_configurations_name_the_variable_field_and_problem() {
    let f = r#""functions":["f"]"#;
    let cases = [
        target_cases(f),
        setting_cases(f),
        rollout_cases(f),
        image_check_cases(f),
        signal_cases(f),
    ]
    .concat();
    for (vars, expected) in cases {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = load(&vars).expect_err(expected).to_string();
        assert!(
            err.starts_with(expected),
            "expected {expected:?}\n     got {err:?}"
        );
    }
}

/// DEPLOYER_TARGETS itself: the list, each target's fields.
// One case a line, as the table was: rustfmt would spread each over six.
#[rustfmt::skip]
fn target_cases(f: &str) -> Vec<(Vec<(&'static str, String)>, &'static str)> {
    vec![
        (vec![], "DEPLOYER_TARGETS: is not set"),
        (vec![(TARGETS_VAR, "".into())], "DEPLOYER_TARGETS: EOF while parsing"),
        (vec![(TARGETS_VAR, "{}".into())], "DEPLOYER_TARGETS: invalid type: map, expected a sequence"),
        (vec![(TARGETS_VAR, "[]".into())], "DEPLOYER_TARGETS: is an empty array"),
        (vec![(TARGETS_VAR, r#"[{"functions":["f"]}]"#.into())], "DEPLOYER_TARGETS[0]: missing field `repository`"),
        (vec![(TARGETS_VAR, r#"[{"repository":"api"}]"#.into())], "DEPLOYER_TARGETS[0]: missing field `functions`"),
        (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":[]}]"#.into())], "DEPLOYER_TARGETS[0].functions: must not be empty"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tag":["v*"]}}]"#))], "DEPLOYER_TARGETS[0].tag: unknown field `tag`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_stauts":[200]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_stauts: unknown field `expect_stauts`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":"200"}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: invalid type: string \"200\""),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":[]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: must not be empty"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"smoke":{{"expect_status":[99]}}}}]"#))], "DEPLOYER_TARGETS[0].smoke.expect_status: 99 is not an HTTP status code"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"keep_versions":1}}]"#))], "DEPLOYER_TARGETS[0].keep_versions: must be 0 (never prune) or at least 2"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"keep_versions":-3}}]"#))], "DEPLOYER_TARGETS[0].keep_versions: invalid value: integer `-3`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"Api",{f}}}]"#))], "DEPLOYER_TARGETS[0].repository: \"Api\" is not an ECR repository name"),
        (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["ok","bad name"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[1]: \"bad name\" is not a function name"),
        (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["arn:aws:lambda:eu-west-1:123456789012:function:f:live"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[0]: \"arn:aws:lambda:eu-west-1:123456789012:function:f:live\" is a qualified ARN"),
        (vec![(TARGETS_VAR, r#"[{"repository":"api","functions":["f","arn:aws:lambda:eu-west-1:123456789012:function:f"]}]"#.into())], "DEPLOYER_TARGETS[0].functions[1]: function \"f\" is listed more than once for repository \"api\""),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tags":[]}}]"#))], "DEPLOYER_TARGETS[0].tags: must not be empty"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"registry_account":"12345"}}]"#))], "DEPLOYER_TARGETS[0].registry_account: \"12345\" is not a 12-digit AWS account id"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"tags":["v 1"]}}]"#))], "DEPLOYER_TARGETS[0].tags[0]: \"v 1\" is not a tag pattern"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"alias":"1"}}]"#))], "DEPLOYER_TARGETS[0].alias: \"1\" is not an alias name: Lambda rejects all-digit alias names"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}},{{"repository":"web","functions":"f"}}]"#))], "DEPLOYER_TARGETS[1].functions: invalid type: string \"f\", expected a sequence"),
    ]
}

/// The deployer's other single settings.
// One case a line, as the table was: rustfmt would spread each over six.
#[rustfmt::skip]
fn setting_cases(f: &str) -> Vec<(Vec<(&'static str, String)>, &'static str)> {
    vec![
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ALIAS_VAR, "$LATEST".into())], "DEPLOYER_ALIAS: \"$LATEST\" is not an alias name"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TOPIC_VAR, "my-topic".into())], "DEPLOYER_TOPIC_ARN: \"my-topic\" is not an SNS topic ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "ten".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: \"ten\" is not a whole number"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "0".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: 0 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PROVISIONED_WAIT_VAR, "0".into())], "DEPLOYER_PROVISIONED_WAIT_SECS: 0 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PROVISIONED_WAIT_VAR, "5m".into())], "DEPLOYER_PROVISIONED_WAIT_SECS: \"5m\" is not a whole number"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "0".into())], "DEPLOYER_MAX_PARALLEL: 0 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "-1".into())], "DEPLOYER_MAX_PARALLEL: \"-1\" is not a whole number"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (DRY_RUN_VAR, "yes".into())], "DEPLOYER_DRY_RUN: \"yes\" is not a boolean"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (KEEP_VERSIONS_VAR, "1".into())], "DEPLOYER_KEEP_VERSIONS: must be 0 (never prune) or at least 2"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (SCHEDULER_ROLE_VAR, "my-role".into())], "DEPLOYER_SCHEDULER_ROLE_ARN: \"my-role\" is not an IAM role ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (SCHEDULE_GROUP_VAR, "a b".into())], "DEPLOYER_SCHEDULE_GROUP: \"a b\" is not a schedule group name"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (FUNCTION_ARN_VAR, "self-deployer".into())], "DEPLOYER_FUNCTION_ARN: \"self-deployer\" is not a function ARN"),
    ]
}

/// Rollouts, per target and DEPLOYER_ROLLOUT, and the scheduler role they need.
// One case a line, as the table was: rustfmt would spread each over six.
#[rustfmt::skip]
fn rollout_cases(f: &str) -> Vec<(Vec<(&'static str, String)>, &'static str)> {
    vec![
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[50,10]}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.steps: [50, 10] must be strictly ascending"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[0]}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.steps: 0 is not a percentage between 1 and 99"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[100]}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.steps: 100 is not a percentage between 1 and 99"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"interval_secs":59}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.interval_secs: 59 is out of range: it must be between 60 and 86400"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"interval_secs":120,"check_secs":180}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.check_secs: 180 is out of range: it must be between 60 and interval_secs (120)"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_error_rate":1.5}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_error_rate: 1.5 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"alarms":["a","b","c","d","e","f","g","h","i","j","k"]}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.alarms: names 11 alarms: at most 10"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"alarms":["api-5xx","p99","api-5xx"]}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.alarms: \"api-5xx\" is listed twice"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"stepz":[10]}}}}]"#))], "DEPLOYER_TARGETS[0].rollout.stepz: unknown field `stepz`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_wait_secs":86401}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_wait_secs: 86401 is out of range: it must be between 0 and 86400"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_wait_secs":-1}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_wait_secs: invalid value: integer `-1`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"on_inconclusive":"pass"}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.on_inconclusive: unknown variant `pass`, expected `rollback` or `proceed`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"synthetic":{{"max_per_check":0}}}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.synthetic.max_per_check: 0 is out of range: it must be between 1 and 100"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"synthetic":{{"max_per_check":101}}}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.synthetic.max_per_check: 101 is out of range: it must be between 1 and 100"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"synthetic":{{"payload":{{}}}}}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.synthetic: missing field `max_per_check`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"synthetic":{{"max_per_check":5,"rate":1}}}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.synthetic.rate: unknown field `rate`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_error_rate_increase":1.5}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_error_rate_increase: 1.5 is out of range: it must be between 0 and 1"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_p99_ms":0}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_p99_ms: 0 is out of range: it must be above 0 and at most 900000 (Lambda's 15 minutes)"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"max_latency_increase":0.9}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.max_latency_increase: 0.9 is out of range: it must be a ratio between 1 and 100 (1.25: at most 25 % slower)"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10],"report_only":"yes"}}}}]"#)), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_TARGETS[0].rollout.report_only: invalid type: string \"yes\", expected a boolean"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"max_wait_secs":90000}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.max_wait_secs: 90000 is out of range: it must be between 0 and 86400"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"on_inconclusive":"Proceed"}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.on_inconclusive: unknown variant `Proceed`, expected `rollback` or `proceed`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"synthetic":{"max_per_check":200}}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.synthetic.max_per_check: 200 is out of range: it must be between 1 and 100"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"max_error_rate_increase":-0.1}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.max_error_rate_increase: -0.1 is out of range: it must be between 0 and 1"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"max_p99_ms":1000000}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.max_p99_ms: 1000000 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"max_latency_increase":101}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.max_latency_increase: 101 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10],"report_only":1}"#.into()), (SCHEDULER_ROLE_VAR, ROLE.into())], "DEPLOYER_ROLLOUT.report_only: invalid type: integer `1`, expected a boolean"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"rollout":{{"steps":[10]}}}}]"#))], "DEPLOYER_SCHEDULER_ROLE_ARN: is not set, but DEPLOYER_TARGETS[0] rolls out in steps"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10]}"#.into())], "DEPLOYER_SCHEDULER_ROLE_ARN: is not set, but DEPLOYER_TARGETS[0] rolls out in steps"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ROLLOUT_VAR, r#"{"steps":[10,10]}"#.into())], "DEPLOYER_ROLLOUT.steps: [10, 10] must be strictly ascending"),
    ]
}

/// Image checks, per target and DEPLOYER_IMAGE_CHECKS.
// One case a line, as the table was: rustfmt would spread each over six.
#[rustfmt::skip]
fn image_check_cases(f: &str) -> Vec<(Vec<(&'static str, String)>, &'static str)> {
    vec![
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"max_findings":{{"URGENT":1}}}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.max_findings.URGENT: \"URGENT\" is not a finding severity: use CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL or UNDEFINED"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"max_findings":{{"HIGH":-1}}}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.max_findings.HIGH: invalid value: integer `-1`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"max_finding":{{}}}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.max_finding: unknown field `max_finding`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"require_scan":"yes"}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.require_scan: invalid type: string \"yes\", expected a boolean"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"scan_wait_secs":901}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.scan_wait_secs: 901 is out of range: it must be between 0 and 900"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}},{{"repository":"web","functions":["w"],"image_checks":{{"require_signature":{{}}}}}}]"#))], "DEPLOYER_TARGETS[1].image_checks.require_signature: missing field `signing_profile_arn`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":{{"require_signature":{{"signing_profile_arn":"prod"}}}}}}]"#))], "DEPLOYER_TARGETS[0].image_checks.require_signature.signing_profile_arn: \"prod\" is not a signing profile ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (IMAGE_CHECKS_VAR, r#"{"scan_wait_secs":1000}"#.into())], "DEPLOYER_IMAGE_CHECKS.scan_wait_secs: 1000 is out of range: it must be between 0 and 900"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (IMAGE_CHECKS_VAR, r#"{"max_findings":{"critical":0}}"#.into())], "DEPLOYER_IMAGE_CHECKS.max_findings.critical: \"critical\" is not a finding severity"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (IMAGE_CHECKS_VAR, r#"{"require_scan":true,"wait":1}"#.into())], "DEPLOYER_IMAGE_CHECKS.wait: unknown field `wait`"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (IMAGE_CHECKS_VAR, "[]".into())], "DEPLOYER_IMAGE_CHECKS: invalid type: sequence, expected an object with max_findings"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":[]}}]"#))], "DEPLOYER_TARGETS[0].image_checks: invalid type: sequence, expected an object"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f},"image_checks":true}}]"#))], "DEPLOYER_TARGETS[0].image_checks: invalid type: boolean `true`, expected an object"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (IMAGE_CHECKS_VAR, "{".into())], "DEPLOYER_IMAGE_CHECKS: EOF while parsing"),
    ]
}

/// DEPLOYER_METRICS*, DEPLOYER_EVENT_BUS: where metrics and events go.
// One case a line, as the table was: rustfmt would spread each over six.
#[rustfmt::skip]
fn signal_cases(f: &str) -> Vec<(Vec<(&'static str, String)>, &'static str)> {
    vec![
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_VAR, "off".into())], "DEPLOYER_METRICS: \"off\" is not a boolean: use true or false"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "".into())], "DEPLOYER_METRICS_NAMESPACE: is empty: name a CloudWatch namespace, e.g. SelfDeployer"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "AWS/Lambda".into())], "DEPLOYER_METRICS_NAMESPACE: \"AWS/Lambda\" starts with \"AWS/\", which is reserved for AWS's own metrics"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "deploys$".into())], "DEPLOYER_METRICS_NAMESPACE: \"deploys$\" contains '$': a CloudWatch namespace has only letters, digits, spaces and . - _ / # :"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "n".repeat(256))], "DEPLOYER_METRICS_NAMESPACE: is 256 characters long: a CloudWatch namespace has at most 255"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "my bus".into())], "DEPLOYER_EVENT_BUS: \"my bus\" is not an event bus name (at most 256 of A-Z a-z 0-9 . - _ /; \"default\" is the account's default bus) or ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "arn:aws:sns:eu-west-1:123456789012:deploys".into())], "DEPLOYER_EVENT_BUS: \"arn:aws:sns:eu-west-1:123456789012:deploys\" is not an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "arn:aws:events:eu-west-1:123456789012:rule/deploys".into())], "DEPLOYER_EVENT_BUS: \"arn:aws:events:eu-west-1:123456789012:rule/deploys\" is not an event bus ARN"),
    ]
}

#[test]
fn a_rollout_gets_defaults_and_targets_inherit_deployer_rollout() {
    let c = load(&[
        (TARGETS_VAR, r#"[{"repository":"api","functions":["f"]},{"repository":"web","functions":["w"],"rollout":{"steps":[]}}]"#),
        (ROLLOUT_VAR, r#"{"steps":[10,50],"alarms":["api-5xx"]}"#),
        (SCHEDULER_ROLE_VAR, ROLE),
    ])
    .unwrap();
    let r = &c.targets[0].rollout;
    assert_eq!(r.steps, vec![10, 50]);
    assert_eq!(
        (r.interval_secs, r.check_secs, r.min_invocations),
        (300, 60, 1)
    );
    assert_eq!(r.max_error_rate, None);
    assert_eq!(r.weight(2), Some(0.5));
    // Issue 26's defaults: an hour of grace past the interval, then roll back; nothing else on.
    assert_eq!(
        (r.max_wait_secs, r.on_inconclusive, r.report_only),
        (3600, crate::config::OnInconclusive::Rollback, false)
    );
    assert_eq!(
        (
            &r.synthetic,
            r.max_error_rate_increase,
            r.max_p99_ms,
            r.max_latency_increase
        ),
        (&None, None, None, None)
    );
    assert!(
        !c.targets[1].rollout.is_progressive(),
        "an explicit [] is all at once"
    );
    assert_eq!(c.scheduler.group, "default");
    assert_eq!(c.scheduler.role_arn.as_deref(), Some(ROLE));
}

#[test]
fn signals_default_to_metrics_on_and_no_events() {
    let targets = (TARGETS_VAR, r#"[{"repository":"api","functions":["f"]}]"#);
    let c = load(&[targets]).unwrap();
    assert_eq!(c.signals, SignalsConfig::default());
    assert!(c.signals.metrics);
    assert_eq!(c.signals.metrics_namespace, "SelfDeployer");
    assert_eq!(c.signals.event_bus, None);
    let c = load(&[targets, (METRICS_VAR, ""), (EVENT_BUS_VAR, "")]).unwrap();
    assert!(c.signals.metrics, "empty is the default");
    assert_eq!(c.signals.event_bus, None, "empty is none");
    let c = load(&[
        targets,
        (METRICS_VAR, "false"),
        (METRICS_NAMESPACE_VAR, "Team/Deploys #1: api"),
        (EVENT_BUS_VAR, "default"),
    ])
    .unwrap();
    assert!(!c.signals.metrics);
    assert_eq!(c.signals.metrics_namespace, "Team/Deploys #1: api");
    assert_eq!(c.signals.event_bus.as_deref(), Some("default"));
    for bus in [
        "deployments",
        "aws.partner/example.com/123/x",
        "arn:aws:events:eu-west-1:123456789012:event-bus/deployments",
        "arn:aws-cn:events:cn-north-1:123456789012:event-bus/default",
    ] {
        let c = load(&[targets, (EVENT_BUS_VAR, bus)]).unwrap();
        assert_eq!(c.signals.event_bus.as_deref(), Some(bus));
    }
}

#[test]
fn inline_max_defaults_to_8_and_must_be_a_whole_number_of_at_least_1() {
    let targets = (TARGETS_VAR, r#"[{"repository":"api","functions":["f"]}]"#);
    assert_eq!(load(&[targets]).unwrap().inline_max, 8);
    assert_eq!(
        load(&[targets, (INLINE_MAX_VAR, "50")]).unwrap().inline_max,
        50
    );
    assert_eq!(
        load(&[targets, (INLINE_MAX_VAR, "0")])
            .unwrap_err()
            .to_string(),
        "DEPLOYER_INLINE_MAX: 0 is out of range: it must be between 1 and 10000"
    );
    assert_eq!(
        load(&[targets, (INLINE_MAX_VAR, "many")])
            .unwrap_err()
            .to_string(),
        "DEPLOYER_INLINE_MAX: \"many\" is not a whole number"
    );
}
