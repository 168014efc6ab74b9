//! The binary as a user runs it: exit codes, errors on stderr, the report on stdout. No AWS
//! endpoint is reachable here (it points at a closed loopback port), so these runs also prove that
//! invalid input and skipped events never call AWS.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_self-deployer");
const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        // Port 9 (discard) on loopback: nothing listens, any AWS call fails at once.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        // An empty value removes the variable.
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn push(repo: &str) -> String {
    serde_json::json!({
        "version": "0", "id": "1", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-26T07:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": repo, "image-digest": DIGEST, "action-type": "PUSH", "image-tag": "v1"}
    })
    .to_string()
}

const TARGETS: &str = r#"[{"repository":"api","functions":["api-dev"]}]"#;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn missing_configuration_exits_2_and_names_the_variable() {
    let o = run(&["handle", "-"], &[], &push("api"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: invalid configuration: DEPLOYER_TARGETS: is not set"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn a_config_typo_exits_2_with_its_path() {
    let bad = r#"[{"repository":"api","functions":["f"],"smoke":{"expect_stauts":[200]}}]"#;
    let o = run(&["handle"], &[("DEPLOYER_TARGETS", bad)], &push("api"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("DEPLOYER_TARGETS[0].smoke.expect_stauts: unknown field `expect_stauts`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_payload_that_is_not_json_exits_2() {
    let o = run(
        &["handle", "-"],
        &[("DEPLOYER_TARGETS", TARGETS)],
        "{not json",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: invalid payload: not JSON: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_invalid_payload_is_reported_before_any_aws_setup() {
    // No region, no credentials, no IMDS switch-off: loading the AWS configuration would warn about
    // the metadata service. The payload is refused first, so stderr is one line.
    let o = run(
        &["handle", "-"],
        &[
            ("DEPLOYER_TARGETS", TARGETS),
            ("AWS_REGION", ""),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_EC2_METADATA_DISABLED", ""),
        ],
        r#"{"action":"rollback"}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: invalid payload: payload: missing field `function`\n"
    );
}

#[test]
fn a_missing_region_is_named_not_a_confusing_refusal_later() {
    let o = run(
        &["status", "--json"],
        &[("DEPLOYER_TARGETS", TARGETS), ("AWS_REGION", "")],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: no AWS region: set AWS_REGION"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn an_event_from_the_future_is_invalid_input() {
    let future = push("api").replace("2026-11-26T07:00:00Z", "2099-01-01T00:00:00Z");
    let o = run(&["handle", "-"], &[("DEPLOYER_TARGETS", TARGETS)], &future);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: invalid payload: payload.time: 2099-01-01T00:00:00Z is "),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("EventBridge never sends events from the future"));
}

#[test]
fn an_invalid_event_exits_2_and_names_the_field() {
    let bad = push("api").replace(DIGEST, "sha256:nope");
    let o = run(&["handle"], &[("DEPLOYER_TARGETS", TARGETS)], &bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid payload: payload.detail.image-digest:"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_payload_file_exits_2() {
    let o = run(
        &["handle", "/nonexistent/event.json"],
        &[("DEPLOYER_TARGETS", TARGETS)],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read the payload from /nonexistent/event.json"));
}

#[test]
fn a_skipped_event_exits_0_with_a_report_and_no_aws_call() {
    let dir = std::env::temp_dir().join(format!("sd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, push("web")).unwrap();
    let o = run(
        &["handle", file.to_str().unwrap()],
        &[("DEPLOYER_TARGETS", TARGETS)],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is the report JSON");
    assert_eq!(report["outcome"], "skipped");
    assert_eq!(
        report["reason"],
        "no target is configured for repository \"web\""
    );
    assert_eq!(report["deployments"], serde_json::json!([]));
}

#[test]
fn an_unreachable_aws_fails_with_exit_1_and_deploys_nothing() {
    // STS cannot say which account this is, so no image can be trusted: a failure, not a skip.
    let o = run(&["handle"], &[("DEPLOYER_TARGETS", TARGETS)], &push("api"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["outcome"], "failed");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("own account and region are unknown")
    );
    assert_eq!(report["deployments"], serde_json::json!([]));
    assert!(
        stderr(&o).contains("STS GetCallerIdentity failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_documents_the_handle_command_and_exit_codes() {
    let o = run(&["--help"], &[], "");
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("handle"), "{out}");
    assert!(out.contains("Exit codes: 0 deployed"), "{out}");
}

#[test]
fn deeply_nested_or_huge_payloads_exit_2_without_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let o = run(&["handle"], &[("DEPLOYER_TARGETS", TARGETS)], &deep);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("payload: not JSON: recursion limit exceeded"),
        "{}",
        stderr(&o)
    );

    let huge =
        serde_json::json!({"action": "rollback", "function": "f".repeat(5_000_000)}).to_string();
    let o = run(&["handle"], &[("DEPLOYER_TARGETS", TARGETS)], &huge);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).len() < 1000,
        "a bounded message, got {} bytes",
        stderr(&o).len()
    );
}
