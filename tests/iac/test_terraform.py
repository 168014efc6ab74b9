"""terraform/: formatted, checkov-clean, and equal to template.yaml on everything that matters."""

import json

import re

from iac import ROOT, engine_env_vars, hcl_value, load_hcl, load_template, terraform_module, tf_resource, translate
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
    # concurrency: a parameter on each side, with the same default (test_fanout_iac.py)
    assert (tf_fn["reserved_concurrent_executions"], sam_fn["ReservedConcurrentExecutions"]) == (
        "${var.reserved_concurrency}", {"Ref": "ReservedConcurrency"})
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

    # IAM: the same statements with the same actions (the role's one policy on each side)
    sam_role = sam["Resources"]["DeployerRole"]["Properties"]
    assert len(sam_role["Policies"]) == 1
    # The separate policies: sts:AssumeRole of the stages' roles, and the GitHub token's secret, each
    # only when configured (compared with Terraform's in test_stages_iac.py and test_github_iac.py).
    assert [n for n, r in sam["Resources"].items() if r["Type"] == "AWS::IAM::Policy"] == ["GitHubTokenPolicy", "StageRolesPolicy"]
    sam_statements = {s["Sid"]: s for s in sam_role["Policies"][0]["PolicyDocument"]["Statement"]}
    tf_text = json.dumps(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])
    for sid, st in sam_statements.items():
        assert sid in tf_text, f"Terraform has no statement {sid}"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            assert a in tf_text, f"Terraform's {sid} lacks {a}"
    tf_actions = {a for st in hcl_value(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])["Statement"]
                  for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert tf_actions >= set(_actions_in(tf_text)) - {"iam:PassedToService"}, "an action outside any Action field?"
    sam_actions = {a for st in sam_statements.values() for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert tf_actions == sam_actions


def _actions_in(text: str) -> list[str]:
    import re

    return re.findall(r'"((?:lambda|ecr|sns|sqs|logs|events|kms|scheduler|cloudwatch|iam):[A-Za-z]+)"', text.replace('\\"', '"'))


# The same thing as each side names it, for comparing the rollout pieces. The deployer, its group
# and its stack share one name: the stack's in SAM, var.name in Terraform (checked below).
_SAM_NAMES = {
    "${AWS::Partition}": "<partition>", "${AWS::Region}": "<region>", "${AWS::AccountId}": "<account>",
    "${AWS::StackName}": "<name>",
}
_TF_NAMES = {
    "${data.aws_partition.current.partition}": "<partition>", "${data.aws_region.current.name}": "<region>",
    "${data.aws_caller_identity.current.account_id}": "<account>", "${var.name}": "<name>",
    "${aws_scheduler_schedule_group.rollouts.name}": "<name>",
}
_DEPLOYER_ARN = "arn:<partition>:lambda:<region>:<account>:function:<name>"
_SAM_REFS = {
    json.dumps({"Ref": "AWS::AccountId"}): "<account>",
    json.dumps({"Ref": "AWS::StackName"}): "<name>",
    json.dumps({"Fn::GetAtt": ["SchedulerRole", "Arn"]}): "<scheduler role arn>",
    json.dumps({"Fn::GetAtt": ["DeployerFunction", "Arn"]}): _DEPLOYER_ARN,
    json.dumps({"Ref": "RolloutAlarmArns"}): "<rollout alarm arns>",
    json.dumps({"Ref": "RolloutJson"}): "<rollout json>",
}
_TF_REFS = {
    "data.aws_caller_identity.current.account_id": "<account>",
    "aws_scheduler_schedule_group.rollouts.name": "<name>",
    "aws_iam_role.scheduler.arn": "<scheduler role arn>",
    "aws_lambda_function.deployer.arn": _DEPLOYER_ARN,
    "local.rollout_alarm_arns": "<rollout alarm arns>",
    "local.rollout_json": "<rollout json>",
}


def _sam_sym(v):
    """A SAM value with its intrinsics (the ones the rollout pieces use) in the common notation."""
    if isinstance(v, dict):
        if json.dumps(v) in _SAM_REFS:
            return _SAM_REFS[json.dumps(v)]
        if set(v) == {"Fn::Sub"} and isinstance(v["Fn::Sub"], str):
            s = v["Fn::Sub"]
            for k, sym in _SAM_NAMES.items():
                s = s.replace(k, sym)
            assert "${" not in s, f"unmapped in {s}"
            return s
        assert not any(k.startswith(("Fn::", "Ref")) for k in v), f"unmapped intrinsic {v}"
        return {k: _sam_sym(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_sam_sym(x) for x in v]
    return v


def _tf_sym(v):
    """A Terraform value (as hcl_value reads it) in the common notation."""
    if isinstance(v, dict):
        return {k: _tf_sym(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_tf_sym(x) for x in v]
    if isinstance(v, str):
        if v in _TF_REFS:
            return _TF_REFS[v]
        if v.startswith("${") and v.endswith("}") and v[2:-1] in _TF_REFS:
            return _TF_REFS[v[2:-1]]
        for k, sym in _TF_NAMES.items():
            v = v.replace(k, sym)
        assert "${" not in v and not re.fullmatch(r"(local|var|aws_\w+|data)\.[\w.]+", v), f"unmapped in {v}"
    return v


def test_sam_and_terraform_roll_out_the_same_way():
    """The rollout pieces, compared value by value: schedule group, scheduler role, the deployer's
    new grants, its environment, the alarm rule, its target and permission, and when they exist."""
    sam = translate()
    res = sam["Resources"]
    tf = terraform_module()

    # One name for the deployer, its group (and SAM's stack): Terraform's var.name.
    tf_fn = tf_resource(tf, "aws_lambda_function", "deployer")
    assert tf_fn["function_name"] == "${var.name}"
    assert tf_resource(tf, "aws_scheduler_schedule_group", "rollouts")["name"] == "${var.name}"
    assert _sam_sym(res["RolloutScheduleGroup"]["Properties"]["Name"]) == "<name>"

    # The environment that names them
    sam_env = res["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    tf_env = tf_fn["environment"][0]["variables"]
    for var in ("DEPLOYER_ROLLOUT", "DEPLOYER_SCHEDULER_ROLE_ARN", "DEPLOYER_SCHEDULE_GROUP"):
        assert _tf_sym(tf_env[var]) == _sam_sym(sam_env[var]), var
    assert set(tf_env) <= engine_env_vars(), f"the engine reads no {set(tf_env) - engine_env_vars()}"

    # The deployer's rollout statements, whole
    sam_st = {s["Sid"]: s for s in sam["Resources"]["DeployerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    tf_st = {s["Sid"]: s for s in hcl_value(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])["Statement"]}
    assert sorted(sam_st) == sorted(tf_st)
    for sid in ("ScheduleRolloutChecks", "FindRolloutChecks", "PassSchedulerRole", "ReadRolloutMetrics", "ReadRolloutAlarms"):
        assert _tf_sym(tf_st[sid]) == _sam_sym(sam_st[sid]), sid

    # The scheduler role, whole
    sam_role = res["SchedulerRole"]["Properties"]
    assert _tf_sym(hcl_value(tf_resource(tf, "aws_iam_role", "scheduler")["assume_role_policy"])) == _sam_sym(sam_role["AssumeRolePolicyDocument"])
    tf_policy = tf_resource(tf, "aws_iam_role_policy", "scheduler")
    assert tf_policy["role"] == "${aws_iam_role.scheduler.id}"
    assert [tf_policy["name"]] == [p["PolicyName"] for p in sam_role["Policies"]]
    assert _tf_sym(hcl_value(tf_policy["policy"])) == _sam_sym(sam_role["Policies"][0]["PolicyDocument"])

    # The alarm rule, its target, its permission
    sam_rule = res["RolloutAlarmRule"]["Properties"]
    tf_rule = tf_resource(tf, "aws_cloudwatch_event_rule", "rollout_alarms")
    assert _tf_sym(hcl_value(tf_rule["event_pattern"])) == _sam_sym(sam_rule["EventPattern"])
    assert tf_rule["description"] == sam_rule["Description"]
    tf_target = tf_resource(tf, "aws_cloudwatch_event_target", "rollout_alarms")
    assert tf_target["rule"] == "${aws_cloudwatch_event_rule.rollout_alarms[0].name}"
    assert [_tf_sym(tf_target["arn"])] == [_sam_sym(x["Arn"]) for x in sam_rule["Targets"]]
    retry = tf_target["retry_policy"][0]
    assert {"MaximumEventAgeInSeconds": retry["maximum_event_age_in_seconds"],
            "MaximumRetryAttempts": retry["maximum_retry_attempts"]} == sam_rule["Targets"][0]["RetryPolicy"]
    tf_perm = tf_resource(tf, "aws_lambda_permission", "rollout_alarms")
    sam_perm = res["RolloutAlarmPermission"]["Properties"]
    assert (tf_perm["action"], tf_perm["principal"]) == (sam_perm["Action"], sam_perm["Principal"])
    assert tf_perm["source_arn"] == "${aws_cloudwatch_event_rule.rollout_alarms[0].arn}"
    assert sam_perm["SourceArn"] == {"Fn::GetAtt": ["RolloutAlarmRule", "Arn"]}

    # The rule, its target and permission exist only when some alarm is configured (SAM: the
    # HasRolloutAlarms condition); the DescribeAlarms grant always does (a target may name alarms).
    for rtype, name in (("aws_cloudwatch_event_rule", "rollout_alarms"), ("aws_cloudwatch_event_target", "rollout_alarms"),
                        ("aws_lambda_permission", "rollout_alarms")):
        assert tf_resource(tf, rtype, name)["count"] == "${local.has_rollout_alarms ? 1 : 0}", f"{rtype}.{name}"
    assert sorted(n for n, r in res.items() if r.get("Condition") == "HasRolloutAlarms") == ["RolloutAlarmPermission", "RolloutAlarmRule"]
    for name in ("RolloutScheduleGroup", "SchedulerRole"):
        assert "Condition" not in res[name], "rollouts may be set per target: always there"


def test_terraform_renders_the_rollout_configuration_the_engine_reads():
    """Terraform writes only the fields set (unset optional attributes are null, which the engine
    would read as values), and takes its alarm list from every rollout it renders."""
    tf = terraform_module()
    locals_ = {k: v for b in tf["locals"] for k, v in b.items()}
    assert locals_["rollout_json"] == '${var.rollout == null ? "" : jsonencode({for k, v in var.rollout : k => v if v != null})}'
    assert "for ik, iv in v : ik => iv if iv != null" in locals_["targets_json"]
    assert "smoke = t.smoke, rollout = t.rollout, after = t.after" in locals_["targets_json"]
    assert "concat([var.rollout], [for t in var.targets : t.rollout])" in locals_["rollout_alarm_names"]
    assert locals_["rollout_alarms"] == "${distinct(local.rollout_alarm_names)}"
    assert locals_["has_rollout_alarms"] == "${length(local.rollout_alarm_names) > 0}"
    # Both the target's and the default rollout know the fields of src/config/rollout.rs.
    rollout_rs = (ROOT / "src" / "config" / "rollout.rs").read_text()
    struct = rollout_rs[rollout_rs.index("pub struct Rollout {"):]
    fields = set(re.findall(r"pub (\w+):", struct[:struct.index("\n}")]))
    variables = {k: v for b in tf["variable"] for k, v in b.items()}
    default_fields = set(re.findall(r"(\w+)\s*=\s*optional", variables["rollout"]["type"]))
    assert default_fields == fields, default_fields ^ fields
    target_type = variables["targets"]["type"]
    target_rollout = target_type[target_type.index("rollout"):]
    assert set(re.findall(r"(\w+)\s*=\s*optional", target_rollout)) >= fields
