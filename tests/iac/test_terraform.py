"""terraform/: formatted, checkov-clean, and equal to template.yaml on everything that matters."""

import json

from iac import ROOT, load_hcl, load_template, terraform_module, tf_resource, translate
from tools import run, tool


def test_terraform_is_formatted():
    res = run([tool("terraform", "TERRAFORM_BIN", ".venv"), "fmt", "-check", "-recursive", "-diff", "terraform"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_checkov_finds_nothing_in_terraform_and_the_template():
    checkov = tool("checkov", "CHECKOV_BIN", ".venv-checkov")
    for args in (["-d", "terraform", "--framework", "terraform"], ["-f", "template.yaml", "--framework", "cloudformation"]):
        res = run([checkov, *args, "--skip-download", "-o", "json"])
        report = json.loads(res.stdout)
        reports = report if isinstance(report, list) else [report]
        for r in reports:
            summary = r["summary"]
            failed = [f"{c['check_id']} {c['resource']}" for c in r["results"]["failed_checks"]]
            assert summary["failed"] == 0, failed
            assert summary["passed"] > 0
            for skipped in r["results"]["skipped_checks"]:
                reason = (skipped.get("check_result") or {}).get("suppress_comment") or skipped.get("suppress_comment")
                assert reason, f"{skipped['check_id']} skipped without a reason"


def test_the_module_pins_the_aws_provider():
    tf = terraform_module()
    providers = tf["terraform"][0]["required_providers"][0]["aws"]
    assert providers["source"] == "hashicorp/aws"
    assert "<" in providers["version"], "an upper bound keeps a major release from changing the system"


def test_the_example_uses_the_module_and_leaves_the_alias_to_the_deployer():
    ex = load_hcl(ROOT / "terraform" / "examples" / "basic" / "main.tf")
    module = ex["module"][0]["self_deployer"]
    assert module["source"] == "../../modules/self-deployer"
    alias = next(b["aws_lambda_alias"]["live"] for b in ex["resource"] if "aws_lambda_alias" in b)
    assert alias["lifecycle"][0]["ignore_changes"] == ["function_version"]


def _strip(v):
    """python-hcl2 keeps string quotes in some versions."""
    return v.strip('"') if isinstance(v, str) else v


def test_sam_and_terraform_define_the_same_system():
    sam = translate()
    tf = terraform_module()
    sam_fn = sam["Resources"]["DeployerFunction"]["Properties"]
    tf_fn = tf_resource(tf, "aws_lambda_function", "deployer")

    # runtime, architecture, handler, timeout, concurrency, log format
    assert _strip(tf_fn["runtime"]) == sam_fn["Runtime"]
    assert [_strip(a) for a in tf_fn["architectures"]] == sam_fn["Architectures"]
    assert _strip(tf_fn["handler"]) == sam_fn["Handler"]
    assert tf_fn["timeout"] == sam_fn["Timeout"]
    assert tf_fn["reserved_concurrent_executions"] == sam_fn["ReservedConcurrentExecutions"]
    assert _strip(tf_fn["logging_config"][0]["log_format"]) == sam_fn["LoggingConfig"]["LogFormat"]

    # environment variables
    assert set(tf_fn["environment"][0]["variables"]) == set(sam_fn["Environment"]["Variables"])

    # retries, event age, on-failure destination
    sam_cfg = sam["Resources"]["DeployerFunctionEventInvokeConfig"]["Properties"]
    tf_cfg = tf_resource(tf, "aws_lambda_function_event_invoke_config", "deployer")
    assert tf_cfg["maximum_retry_attempts"] == sam_cfg["MaximumRetryAttempts"]
    assert tf_cfg["maximum_event_age_in_seconds"] == sam_cfg["MaximumEventAgeInSeconds"]
    assert "on_failure" in tf_cfg["destination_config"][0] and "OnFailure" in sam_cfg["DestinationConfig"]

    # the event pattern, repository list aside (a parameter in SAM, derived from targets in Terraform)
    sam_pattern = load_template()["Resources"]["DeployerFunction"]["Properties"]["Events"]["EcrPush"]["Properties"]["Pattern"]
    tf_rule = tf_resource(tf, "aws_cloudwatch_event_rule", "ecr_push")["event_pattern"]
    tf_text = json.dumps(tf_rule)
    for key in ("source", "detail-type", "action-type", "result", "repository-name"):
        assert key in tf_text, f"Terraform's pattern lacks {key}"
    for value in (*sam_pattern["source"], *sam_pattern["detail-type"], *sam_pattern["detail"]["action-type"], *sam_pattern["detail"]["result"]):
        assert value in tf_text, f"Terraform's pattern lacks {value}"
    sam_retry = load_template()["Resources"]["DeployerFunction"]["Properties"]["Events"]["EcrPush"]["Properties"]["RetryPolicy"]
    tf_retry = tf_resource(tf, "aws_cloudwatch_event_target", "deployer")["retry_policy"][0]
    assert tf_retry["maximum_retry_attempts"] == sam_retry["MaximumRetryAttempts"]
    assert tf_retry["maximum_event_age_in_seconds"] == sam_retry["MaximumEventAgeInSeconds"]

    # IAM: the same statements with the same actions
    sam_statements = {s["Sid"]: s for s in sam["Resources"]["DeployerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    tf_text = json.dumps(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])
    for sid, st in sam_statements.items():
        assert sid in tf_text, f"Terraform has no statement {sid}"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            assert a in tf_text, f"Terraform's {sid} lacks {a}"
    tf_actions = {a for a in _actions_in(tf_text)}
    sam_actions = {a for st in sam_statements.values() for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert tf_actions == sam_actions


def _actions_in(text: str) -> list[str]:
    import re

    return re.findall(r'"((?:lambda|ecr|sns|sqs|logs|events|kms):[A-Za-z]+)"', text.replace('\\"', '"'))
