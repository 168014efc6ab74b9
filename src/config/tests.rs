use super::*;
use crate::types::Tag;

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

/// Each bad configuration and the exact error it gets.
#[test]
fn bad_configurations_name_the_variable_field_and_problem() {
    let f = r#""functions":["f"]"#;
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
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
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (ALIAS_VAR, "$LATEST".into())], "DEPLOYER_ALIAS: \"$LATEST\" is not an alias name"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TOPIC_VAR, "my-topic".into())], "DEPLOYER_TOPIC_ARN: \"my-topic\" is not an SNS topic ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "ten".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: \"ten\" is not a whole number"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (TIMEOUT_VAR, "0".into())], "DEPLOYER_UPDATE_TIMEOUT_SECS: 0 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "0".into())], "DEPLOYER_MAX_PARALLEL: 0 is out of range"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (PARALLEL_VAR, "-1".into())], "DEPLOYER_MAX_PARALLEL: \"-1\" is not a whole number"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (DRY_RUN_VAR, "yes".into())], "DEPLOYER_DRY_RUN: \"yes\" is not a boolean"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (KEEP_VERSIONS_VAR, "1".into())], "DEPLOYER_KEEP_VERSIONS: must be 0 (never prune) or at least 2"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_VAR, "off".into())], "DEPLOYER_METRICS: \"off\" is not a boolean: use true or false"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "".into())], "DEPLOYER_METRICS_NAMESPACE: is empty: name a CloudWatch namespace, e.g. SelfDeployer"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "AWS/Lambda".into())], "DEPLOYER_METRICS_NAMESPACE: \"AWS/Lambda\" starts with \"AWS/\", which is reserved for AWS's own metrics"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "deploys$".into())], "DEPLOYER_METRICS_NAMESPACE: \"deploys$\" contains '$': a CloudWatch namespace has only letters, digits, spaces and . - _ / # :"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (METRICS_NAMESPACE_VAR, "n".repeat(256))], "DEPLOYER_METRICS_NAMESPACE: is 256 characters long: a CloudWatch namespace has at most 255"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "my bus".into())], "DEPLOYER_EVENT_BUS: \"my bus\" is not an event bus name (at most 256 of A-Z a-z 0-9 . - _ /; \"default\" is the account's default bus) or ARN"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "arn:aws:sns:eu-west-1:123456789012:deploys".into())], "DEPLOYER_EVENT_BUS: \"arn:aws:sns:eu-west-1:123456789012:deploys\" is not an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"),
        (vec![(TARGETS_VAR, format!(r#"[{{"repository":"api",{f}}}]"#)), (EVENT_BUS_VAR, "arn:aws:events:eu-west-1:123456789012:rule/deploys".into())], "DEPLOYER_EVENT_BUS: \"arn:aws:events:eu-west-1:123456789012:rule/deploys\" is not an event bus ARN"),
    ];
    for (vars, expected) in cases {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = load(&vars).expect_err(expected).to_string();
        assert!(
            err.starts_with(expected),
            "expected {expected:?}\n     got {err:?}"
        );
    }
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
