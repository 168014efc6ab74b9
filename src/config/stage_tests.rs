//! `after` and `assume_role_arn`: what is accepted, and what each mistake says.

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/scheduler";

fn load(targets: &str) -> Result<Config, ConfigError> {
    let targets = targets.to_owned();
    Config::from_lookup(|k| match k {
        TARGETS_VAR => Some(targets.clone()),
        SCHEDULER_ROLE_VAR => Some(ROLE.to_owned()),
        _ => None,
    })
}

fn problem(targets: &str) -> String {
    load(targets).unwrap_err().to_string()
}

#[test]
fn a_stage_names_the_function_it_follows_and_may_assume_a_role() {
    let c = load(
        r#"[{"repository":"api","functions":["api-staging"]},
            {"repository":"api","functions":["api-prod"],
             "after":{"function":"api-staging","bake_secs":1800,"manual":true},
             "assume_role_arn":"arn:aws:iam::210987654321:role/deployer-prod"}]"#,
    )
    .unwrap();
    let prod = &c.targets[1];
    let after = prod.after.as_ref().unwrap();
    assert_eq!(after.function.as_str(), "api-staging");
    assert_eq!(after.bake_secs, 1800);
    assert!(after.manual);
    assert_eq!(
        prod.assume_role_arn.as_deref(),
        Some("arn:aws:iam::210987654321:role/deployer-prod")
    );
    assert!(c.targets[0].after.is_none());
    assert!(c.targets[0].assume_role_arn.is_none());
}

#[test]
fn after_must_name_a_configured_function() {
    assert_eq!(
        problem(
            r#"[{"repository":"api","functions":["api-staging"]},
                {"repository":"api","functions":["api-prod"],"after":{"function":"api-stagin","bake_secs":600}}]"#
        ),
        "DEPLOYER_TARGETS[1].after.function: \"api-stagin\" is not a function of any target (configured: api-staging, api-prod)"
    );
}

#[test]
fn after_may_name_by_arn_a_function_configured_by_name() {
    let c = load(
        r#"[{"repository":"api","functions":["api-staging"]},
            {"repository":"api","functions":["api-prod"],
             "after":{"function":"arn:aws:lambda:eu-west-1:123456789012:function:api-staging","bake_secs":600}}]"#,
    )
    .unwrap();
    let after = c.targets[1].after.as_ref().unwrap();
    assert!(crate::stages::names(
        &after.function,
        &c.targets[0].functions[0]
    ));
    // Two ARNs still have to be the same function.
    assert!(
        problem(
            r#"[{"repository":"api","functions":["arn:aws:lambda:eu-west-1:111122223333:function:api-staging"]},
                {"repository":"api","functions":["api-prod"],
                 "after":{"function":"arn:aws:lambda:eu-west-1:123456789012:function:api-staging","bake_secs":600}}]"#
        )
        .ends_with("is not a function of any target (configured: api-staging, api-prod)")
    );
}

#[test]
fn a_loop_of_stages_is_named() {
    assert_eq!(
        problem(
            r#"[{"repository":"api","functions":["a"],"after":{"function":"c","bake_secs":600}},
                {"repository":"api","functions":["b"],"after":{"function":"a","bake_secs":600}},
                {"repository":"api","functions":["c"],"after":{"function":"b","bake_secs":600}}]"#
        ),
        "DEPLOYER_TARGETS[0].after: the stages form a loop: a → b → c → a (a digest would be promoted around it forever)"
    );
    assert!(
        problem(
            r#"[{"repository":"api","functions":["a"],"after":{"function":"a","bake_secs":600}}]"#
        )
        .contains("[0].after: the stages form a loop: a → a")
    );
}

#[test]
fn bad_stage_fields_name_the_field() {
    let cases = [
        (
            r#"[{"repository":"api","functions":["a"]},{"repository":"api","functions":["b"],"after":{"function":"a","bake_secs":5}}]"#,
            "DEPLOYER_TARGETS[1].after.bake_secs: 5 is out of range: it must be between 60 and 2592000 (30 days)",
        ),
        (
            r#"[{"repository":"api","functions":["a"]},{"repository":"api","functions":["b"],"after":{"function":"a"}}]"#,
            "DEPLOYER_TARGETS[1].after: missing field `bake_secs`",
        ),
        (
            r#"[{"repository":"api","functions":["a"]},{"repository":"api","functions":["b"],"after":{"function":"a","bake_secs":60,"manaul":true}}]"#,
            "DEPLOYER_TARGETS[1].after.manaul: unknown field `manaul`",
        ),
        (
            r#"[{"repository":"api","functions":["a"],"assume_role_arn":"arn:aws:iam::123:role/x"}]"#,
            "DEPLOYER_TARGETS[0].assume_role_arn: \"arn:aws:iam::123:role/x\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        ),
        (
            r#"[{"repository":"api","functions":["a"],"assume_role_arn":"arn:aws:iam::123456789012:user/x"}]"#,
            "DEPLOYER_TARGETS[0].assume_role_arn: \"arn:aws:iam::123456789012:user/x\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        ),
    ];
    for (targets, want) in cases {
        let got = problem(targets);
        assert!(got.starts_with(want), "{got}\n  wanted {want}");
    }
    assert!(stage::check_role_arn("arn:aws:iam::123456789012:role/path/deployer").is_ok());
    assert!(stage::check_role_arn("arn:aws-cn:iam::123456789012:role/d").is_ok());
}

#[test]
fn a_stage_needs_the_scheduler_role_for_its_checks() {
    let e = Config::from_lookup(|k| {
        (k == TARGETS_VAR).then(|| {
            r#"[{"repository":"api","functions":["a"]},{"repository":"api","functions":["b"],"after":{"function":"a","bake_secs":600}}]"#.to_owned()
        })
    })
    .unwrap_err();
    assert_eq!(e.variable, SCHEDULER_ROLE_VAR);
    assert!(
        e.problem
            .contains("DEPLOYER_TARGETS[1] follows another stage (after)"),
        "{e}"
    );
}
