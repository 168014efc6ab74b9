//! Flags and payloads make equal requests; bad flags get the same checks; --help is complete.

use super::*;
use crate::input::*;
use serde_json::{Value, json};

fn flags(args: &[&str]) -> Request {
    let mut argv = vec!["self-deployer"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv)
        .expect("valid flags")
        .command
        .request()
        .expect("a request")
}

fn payload(v: Value) -> Request {
    crate::input::parse_request(&v, chrono::Utc::now()).expect("valid payload")
}

#[test]
fn flags_and_payloads_make_equal_requests() {
    let image = format!(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
        "a".repeat(64)
    );
    let cases = [
        (
            flags(&[
                "rollback",
                "--function",
                "api",
                "--to",
                "3",
                "--alias",
                "prod",
                "--reason",
                "bad\u{202E} release",
                "--dry-run",
                "--force",
            ]),
            payload(
                json!({"action": "rollback", "function": "api", "version": "3", "alias": "prod", "reason": "bad\u{202E} release", "dry_run": true, "force": true}),
            ),
        ),
        (
            flags(&["rollback", "--function", "api"]),
            payload(json!({"action": "rollback", "function": "api"})),
        ),
        (
            flags(&[
                "deploy",
                "--function",
                "api",
                "--image",
                &image,
                "--reason",
                "hotfix",
            ]),
            payload(
                json!({"action": "deploy", "function": "api", "image_uri": image, "reason": "hotfix"}),
            ),
        ),
        (
            flags(&["deploy", "--repository", "api", "--tag", "v2", "--dry-run"]),
            payload(json!({"action": "deploy", "repository": "api", "tag": "v2", "dry_run": true})),
        ),
        (
            flags(&["status", "--function", "api"]),
            payload(json!({"action": "status", "function": "api"})),
        ),
        (
            flags(&["status", "--json"]),
            payload(json!({"action": "status"})),
        ),
        (
            flags(&["history", "--function", "api"]),
            payload(json!({"action": "history", "function": "api"})),
        ),
        (
            flags(&["history", "--function", "api", "--limit", "5", "--json"]),
            payload(json!({"action": "history", "function": "api", "limit": 5})),
        ),
        (
            flags(&["history", "--function", "api", "--dora"]),
            payload(json!({"action": "history", "function": "api", "dora_days": 30})),
        ),
        (
            flags(&["history", "--function", "api", "--dora", "--days", "7"]),
            payload(json!({"action": "history", "function": "api", "dora_days": 7})),
        ),
        (
            flags(&["--metrics", "history", "--function", "api"]),
            payload(json!({"action": "history", "function": "api"})),
        ),
        (
            flags(&["rollback", "--function", "api", "--metrics"]),
            payload(json!({"action": "rollback", "function": "api"})),
        ),
    ];
    for (from_flags, from_payload) in cases {
        assert_eq!(from_flags, from_payload);
    }
}

#[test]
fn bad_flags_are_refused_by_the_same_checks_as_payloads() {
    let err = |args: &[&str]| {
        let mut argv = vec!["self-deployer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap_err().to_string()
    };
    assert!(
        err(&["rollback", "--function", "api", "--to", "$LATEST"])
            .contains("is not a published version number")
    );
    assert!(err(&["rollback", "--function", "a b"]).contains("is not a function name"));
    assert!(
        err(&["deploy", "--function", "f", "--image", "api:v1"])
            .contains("is not pinned by digest")
    );
    assert!(
        err(&["deploy", "--repository", "API", "--tag", "v1"])
            .contains("is not an ECR repository name")
    );
    assert!(
        err(&["history", "--function", "api", "--limit", "0"])
            .contains("0 is out of range: it must be between 1 and 1000")
    );
    assert!(
        err(&["history", "--function", "api", "--limit", "x"])
            .contains("\"x\" is not a whole number")
    );
    assert!(err(&["history"]).contains("--function"));
    assert!(
        err(&["history", "--function", "api", "--dora", "--days", "400"])
            .contains("400 is out of range: it must be between 1 and 365")
    );
    assert!(err(&["history", "--function", "api", "--days", "7"]).contains("--dora"));
}

#[test]
fn metrics_are_an_opt_in_flag_anywhere_on_the_line() {
    let parse = |args: &[&str]| {
        let mut argv = vec!["self-deployer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("valid flags").metrics
    };
    assert!(!parse(&["status"]));
    assert!(parse(&["--metrics", "status"]));
    assert!(parse(&[
        "deploy",
        "--repository",
        "api",
        "--tag",
        "v1",
        "--metrics"
    ]));
}

#[test]
fn help_lists_every_variable() {
    let help = long_about();
    for (name, _) in VARIABLES {
        assert!(help.contains(name), "{name} missing from --help");
    }
    for var in [
        crate::config::TARGETS_VAR,
        crate::config::ALIAS_VAR,
        crate::config::TOPIC_VAR,
        crate::config::TIMEOUT_VAR,
        crate::config::API_TIMEOUT_VAR,
        crate::config::PARALLEL_VAR,
        crate::config::DRY_RUN_VAR,
        crate::config::NOTIFY_SKIPPED_VAR,
        crate::config::KEEP_VERSIONS_VAR,
        crate::config::ROLLOUT_VAR,
        crate::config::SCHEDULER_ROLE_VAR,
        crate::config::SCHEDULE_GROUP_VAR,
        crate::config::FUNCTION_ARN_VAR,
        crate::config::METRICS_VAR,
        crate::config::METRICS_NAMESPACE_VAR,
        crate::config::EVENT_BUS_VAR,
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[test]
fn reconcile_flags_and_payloads_make_equal_requests_and_status_check_is_a_read_only_sweep() {
    assert_eq!(
        flags(&["reconcile"]),
        payload(json!({"action": "reconcile"}))
    );
    assert_eq!(
        flags(&["reconcile", "--dry-run"]),
        payload(json!({"action": "reconcile", "dry_run": true}))
    );
    assert_eq!(
        flags(&["status", "--check"]),
        Request::Reconcile(ReconcileRequest {
            dry_run: false,
            check: true
        })
    );
    // A check covers every function: --function would silently narrow what CI gates on.
    let argv = ["self-deployer", "status", "--check", "--function", "api"];
    assert!(Cli::try_parse_from(argv).is_err());
}

#[test]
fn promote_stage_flags_make_the_same_request_as_its_payload() {
    assert_eq!(
        flags(&[
            "promote-stage",
            "--from",
            "api-staging",
            "--to",
            "api-prod",
            "--now",
            "--reason",
            "approved by ops"
        ]),
        payload(
            json!({"action": "promote_stage", "from": "api-staging", "to": "api-prod",
                       "now": true, "reason": "approved by ops"})
        )
    );
    assert_eq!(
        flags(&["promote-stage", "--from", "a", "--to", "b"]),
        payload(json!({"action": "promote_stage", "from": "a", "to": "b"}))
    );
    let e = Cli::try_parse_from(["self-deployer", "promote-stage", "--from", "a"]).unwrap_err();
    assert!(e.to_string().contains("--to"), "{e}");
    let e = Cli::try_parse_from([
        "self-deployer",
        "promote-stage",
        "--from",
        "a b",
        "--to",
        "c",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("--from"), "{e}");
}

/// Subcommands that are no action of the registry: `handle` takes any payload.
const NOT_ACTIONS: [&str; 1] = ["handle"];

#[test]
fn every_action_with_a_cli_door_has_its_subcommand_and_nothing_else_does() {
    use clap::CommandFactory;
    let cli = Cli::command();
    let subcommands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    for a in crate::types::ACTIONS {
        if let Some(name) = a.cli {
            assert!(
                subcommands.contains(&name),
                "{:?} has no subcommand {name:?}",
                a.kind
            );
        }
    }
    for s in &subcommands {
        let known =
            NOT_ACTIONS.contains(s) || crate::types::ACTIONS.iter().any(|a| a.cli == Some(*s));
        assert!(known, "subcommand {s:?} is in no registry entry");
    }
}

#[test]
fn fleet_flags_and_payloads_make_equal_requests() {
    let digest = format!("sha256:{}", "b".repeat(64));
    assert_eq!(
        flags(&[
            "rollback",
            "--repository",
            "api",
            "--digest",
            &digest,
            "--dry-run"
        ]),
        payload(
            json!({"action": "rollback", "repository": "api", "digest": digest, "dry_run": true})
        )
    );
    assert_eq!(
        flags(&["rollback", "--repository", "api"]),
        payload(json!({"action": "rollback", "repository": "api"}))
    );
    assert_eq!(
        flags(&["status", "--repository", "api", "--digest", &digest]),
        payload(json!({"action": "status", "repository": "api", "digest": digest}))
    );
}

#[test]
fn fleet_flags_are_checked_before_anything_runs() {
    let err = |args: &[&str]| {
        let mut argv = vec!["self-deployer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap_err().to_string()
    };
    assert!(err(&["rollback"]).contains("--function"));
    assert!(
        err(&["rollback", "--repository", "api", "--function", "f"])
            .contains("cannot be used with")
    );
    assert!(err(&["rollback", "--repository", "api", "--to", "3"]).contains("cannot be used with"));
    let digest = format!("sha256:{}", "b".repeat(64));
    assert!(
        err(&["rollback", "--function", "f", "--digest", &digest]).contains("cannot be used with")
    );
    assert!(err(&["status", "--digest", &digest]).contains("--repository"));
    assert!(err(&["status", "--repository", "api", "--check"]).contains("cannot be used with"));
    assert!(
        err(&["status", "--repository", "api", "--digest", "sha256:zz"])
            .contains("is not a digest")
    );
}
