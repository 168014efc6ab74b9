"""IAM in template.yaml and terraform/ is no broader than the engine needs: no wildcard action, no
`*` resource except for the few actions listed in ON_STAR (each with the reason), and every action
is one the engine calls (src/ is searched for the SDK call). The rollout's grants are checked one by
one."""

import json
import re

import pytest

from iac import PARAMS, hcl_value, src_text, terraform_module, tf_resource, translate
from tools import ROOT

# Each IAM action and the SDK call in src/ that needs it (the proof that it is used).
NEEDED = {
    "lambda:GetAlias": ".get_alias()",
    "lambda:GetFunction": ".get_function()",
    "lambda:UpdateFunctionCode": ".update_function_code()",
    "lambda:InvokeFunction": ".invoke()",
    "lambda:PublishVersion": ".publish_version()",
    "lambda:UpdateAlias": ".update_alias()",
    "lambda:CreateAlias": ".create_alias()",
    "lambda:ListVersionsByFunction": ".list_versions_by_function()",
    "lambda:ListAliases": ".list_aliases()",
    "lambda:DeleteFunction": ".delete_function()",
    # Issue 24: an alias's provisioned concurrency, waited for after a move.
    "lambda:GetProvisionedConcurrencyConfig": ".get_provisioned_concurrency_config()",
    # Reconcile: rejected images and notified drift are tags on the function.
    "lambda:ListTags": ".list_tags()",
    "lambda:TagResource": ".tag_resource()",
    "ecr:DescribeImages": ".describe_images()",
    "ecr:DescribeImageScanFindings": ".describe_image_scan_findings()",
    "ecr:DescribeImageSigningStatus": ".describe_image_signing_status()",
    # Lambda requires them of the caller of UpdateFunctionCode for an image; we read image
    # indexes, and GitHub deployments read the image's revision label, through them.
    "ecr:BatchGetImage": ".batch_get_image()",
    "ecr:GetDownloadUrlForLayer": ".get_download_url_for_layer()",
    # GitHub deployments: the token's secret.
    "secretsmanager:GetSecretValue": ".get_secret_value()",
    "sns:Publish": ".publish()",
    "events:PutEvents": ".put_events()",
    # Used by SNS on our behalf: the topic is encrypted with a key of its own (see template.yaml).
    "kms:GenerateDataKey": None,
    "kms:Decrypt": None,
    # Used by the Lambda service on our behalf: the on-failure destination and our logs.
    "sqs:SendMessage": None,
    "logs:CreateLogStream": None,
    "logs:PutLogEvents": None,
    # Rollouts: the next check is a one-time schedule, found again by name prefix to delete it.
    "scheduler:CreateSchedule": ".create_schedule()",
    "scheduler:DeleteSchedule": ".delete_schedule()",
    "scheduler:ListSchedules": ".list_schedules()",
    # Not called by us: CreateSchedule requires it of its caller for the schedule's role.
    "iam:PassRole": ".role_arn(",
    # Rollout gates: alarm states and the new version's Errors / Invocations.
    "cloudwatch:DescribeAlarms": ".describe_alarms()",
    "cloudwatch:GetMetricData": ".get_metric_data()",
    # Stages: a target in another account is reached through its assume_role_arn.
    "sts:AssumeRole": ".assume_role()",
}

# The only actions granted on "*", each alone in its statement, and why "*" is the only resource that works.
ON_STAR = {
    # The Service Authorization Reference lists no resource type (nor a narrowing condition key).
    "cloudwatch:GetMetricData": "metrics have no ARN",
    # The Service Authorization Reference lists no resource type.
    "scheduler:ListSchedules": "lists a group's schedules, but the group is a request parameter, not a resource",
    # IAM accepts alarm ARNs, but DescribeAlarms returns composite alarms only to a caller allowed it
    # on "*" (CloudWatch API Reference, DescribeAlarms). The engine asks for the gates' metric and
    # composite alarms: scoped, every rollout gated on a composite alarm would roll back. Read-only.
    "cloudwatch:DescribeAlarms": "composite alarms are returned only when it is allowed on *",
}


def _src() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.rs"))


def _list(v) -> list:
    return v if isinstance(v, list) else [v]


def _check(statements: list[dict], where: str) -> None:
    src = _src()
    for st in statements:
        actions = _list(st["Action"])
        resources = _list(st["Resource"])
        assert st.get("Effect", "Allow") == "Allow", f"{where} {st.get('Sid')}: only Allow statements"
        for a in actions:
            assert "*" not in a, f"{where} {st.get('Sid')}: wildcard action {a}"
            assert a in NEEDED, f"{where} {st.get('Sid')}: {a} is not something the engine needs"
            if NEEDED[a]:
                assert NEEDED[a] in src, f"{a} is granted but src/ never calls {NEEDED[a]}"
        for r in resources:
            text = json.dumps(r)
            if text == '"*"':
                scoped = [a for a in actions if a not in ON_STAR]
                assert not scoped, f"{where} {st.get('Sid')}: resource * for {scoped}, which must be scoped"
                continue
            assert not re.search(r':\*"$|/\*"$', text) or text.endswith(':*"'), f"{where}: {text}"
        for a in actions:
            if a in ON_STAR:
                assert actions == [a] and resources == ["*"], \
                    f"{where} {st.get('Sid')}: {a} is granted on * only, in a statement of its own"


def _sam_statements(t: dict | None = None) -> list[dict]:
    """Every statement the deployer's role gets in template.yaml (inline and attached policies)."""
    t = t or translate()
    res = t["Resources"]
    statements = [s for p in res["DeployerRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for r in res.values():
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": "DeployerRole"} in r["Properties"]["Roles"]:
            statements += r["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _tf_statements(tf: dict | None = None) -> list[dict]:
    """Every statement of the deployer's role in the module, as written (references as text)."""
    tf = tf or terraform_module()
    statements = []
    for block in tf.get("resource", []):
        for name, r in block.get("aws_iam_role_policy", {}).items():
            if r["role"] == "${aws_iam_role.deployer.id}":
                statements += hcl_value(r["policy"])["Statement"]
    return statements


def _by_action(statements: list[dict], action: str) -> list[dict]:
    return [s for s in statements if action in _list(s["Action"])]


def test_the_sam_policy_is_least_privilege():
    role = translate()["Resources"]["DeployerRole"]["Properties"]
    _check(_sam_statements(), "template.yaml")
    assert "ManagedPolicyArns" not in role, "no managed policy: they grant on *"


def test_the_terraform_policy_is_least_privilege():
    statements = _tf_statements()
    assert {s["Sid"] for s in statements} >= {"DeployTargetFunctions", "ScheduleRolloutChecks", "ReadRolloutAlarms"}
    _check(statements, "terraform")
    tf = terraform_module()
    for block in tf.get("resource", []):
        assert "aws_iam_role_policy_attachment" not in block, "no managed policy: they grant on *"


@pytest.mark.parametrize("where", ["template.yaml", "terraform"])
def test_the_rollout_grants_are_exactly_what_a_rollout_calls(where):
    statements = _sam_statements() if where == "template.yaml" else _tf_statements()
    sam = where == "template.yaml"

    # Schedules: create and delete in the deployer's own group, only the names the engine gives.
    (sched,) = _by_action(statements, "scheduler:CreateSchedule")
    assert sorted(_list(sched["Action"])) == ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
    assert _by_action(statements, "scheduler:DeleteSchedule") == [sched]
    group = "${AWS::StackName}" if sam else "${aws_scheduler_schedule_group.rollouts.name}"
    resource = sched["Resource"]["Fn::Sub"] if sam else sched["Resource"]
    assert resource.endswith(f":schedule/{group}/sd-*"), resource
    assert ":scheduler:" in resource and "*" not in resource[:-1]
    assert 'format!("sd-{' in src_text("rollout", "schedule.rs"), "the engine's schedule names start with sd-"

    # ListSchedules, GetMetricData and DescribeAlarms: "*", each alone in its statement, and nothing
    # else on "*".
    for action in ON_STAR:
        (st,) = _by_action(statements, action)
        assert _list(st["Action"]) == [action] and st["Resource"] == "*" and "Condition" not in st
    on_star = {a for s in statements if "*" in _list(s["Resource"]) for a in _list(s["Action"])}
    assert on_star == set(ON_STAR)

    # PassRole: the scheduler role only, to EventBridge Scheduler only.
    (pass_role,) = _by_action(statements, "iam:PassRole")
    assert _list(pass_role["Action"]) == ["iam:PassRole"]
    assert pass_role["Resource"] == ({"Fn::GetAtt": ["SchedulerRole", "Arn"]} if sam else "aws_iam_role.scheduler.arn")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}

    # DescribeAlarms: on "*" (above), always, in the deployer's own policy: a target may name alarms
    # in its rollout whether or not any are configured for the alarm rule.
    (alarms,) = _by_action(statements, "cloudwatch:DescribeAlarms")
    assert alarms["Sid"] == "ReadRolloutAlarms"
    if sam:
        res = translate()["Resources"]
        assert alarms in res["DeployerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        separate = [n for n, r in res.items() if r["Type"] == "AWS::IAM::Policy"]
        assert separate == ["GitHubTokenPolicy", "StageRolesPolicy"], "no separate (conditional) policy but the stages' and GitHub's"
    else:
        policies = [n for b in terraform_module()["resource"] for n in b.get("aws_iam_role_policy", {})]
        assert sorted(policies) == ["deployer", "github", "scheduler", "stages"], "no separate (conditional) policy but the stages' and GitHub's"
    # The reason for "*": the engine asks for composite alarms too.
    cloudwatch_rs = src_text("gateway", "cloudwatch.rs")
    assert "AlarmType::CompositeAlarm" in cloudwatch_rs and "AlarmType::MetricAlarm" in cloudwatch_rs


def test_the_alarm_arns_are_alarms_of_this_account_and_region():
    """SAM takes the ARNs (CloudFormation cannot map names to ARNs); Terraform builds them."""
    for arn in PARAMS["RolloutAlarmArns"].split(","):
        assert re.fullmatch(r"arn:aws:cloudwatch:[a-z0-9-]+:\d{12}:alarm:[^*?]+", arn), arn
    locals_ = {k: v for b in terraform_module()["locals"] for k, v in b.items()}
    assert locals_["alarm_prefix"].endswith(":cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm")
    assert locals_["rollout_alarm_arns"] == '${[for a in local.rollout_alarms : "${local.alarm_prefix}:${a}"]}'


@pytest.mark.parametrize("where", ["template.yaml", "terraform"])
def test_the_scheduler_role_may_only_invoke_the_deployer(where):
    if where == "template.yaml":
        t = translate()
        role = t["Resources"]["SchedulerRole"]["Properties"]
        trust = role["AssumeRolePolicyDocument"]["Statement"]
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        attached = [r for r in t["Resources"].values() if r["Type"] == "AWS::IAM::Policy" and {"Ref": "SchedulerRole"} in r["Properties"]["Roles"]]
        assert not attached and "ManagedPolicyArns" not in role
        account = {"Ref": "AWS::AccountId"}
        deployer = {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}"}
        # That is the deployer's ARN: the function is named after the stack.
        assert t["Resources"]["DeployerFunction"]["Properties"]["FunctionName"] == {"Ref": "AWS::StackName"}
    else:
        tf = terraform_module()
        trust = hcl_value(tf_resource(tf, "aws_iam_role", "scheduler")["assume_role_policy"])["Statement"]
        policies = [r for b in tf["resource"] for r in b.get("aws_iam_role_policy", {}).values() if r["role"] == "${aws_iam_role.scheduler.id}"]
        assert len(policies) == 1
        statements = hcl_value(policies[0]["policy"])["Statement"]
        for block in tf["resource"]:
            for r in block.get("aws_iam_role_policy_attachment", {}).values():
                assert "scheduler" not in r["role"]
        account = "data.aws_caller_identity.current.account_id"
        deployer = "aws_lambda_function.deployer.arn"

    assert trust == [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }], "only EventBridge Scheduler of this account may assume it"
    assert statements == [{"Sid": "InvokeDeployer", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": deployer}]


def test_events_go_to_the_configured_bus_only():
    role = translate()["Resources"]["DeployerRole"]["Properties"]
    by_sid = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    st = by_sid["PutDeploymentEvents"]
    assert st["Action"] == "events:PutEvents"
    assert st["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"
    }
    assert [s for s in by_sid.values() if "events:" in json.dumps(s["Action"])] == [st]
    tf = json.dumps(tf_resource(terraform_module(), "aws_iam_role_policy", "deployer")["policy"])
    assert "local.event_bus_arn" in tf
    locals_ = {k: v for block in terraform_module()["locals"] for k, v in block.items()}
    assert locals_["event_bus_arn"].endswith(":event-bus/${var.event_bus_name}"), locals_["event_bus_arn"]


def test_the_check_rejects_a_wildcard():
    with pytest.raises(AssertionError, match="wildcard action"):
        _check([{"Sid": "bad", "Action": "lambda:*", "Resource": "arn:aws:lambda:eu-west-1:1:function:f"}], "test")
    with pytest.raises(AssertionError, match="resource"):
        _check([{"Sid": "bad", "Action": "sns:Publish", "Resource": "*"}], "test")
    # "*" is allowed for the ON_STAR actions only, each in a statement of its own.
    for action in ON_STAR:
        _check([{"Sid": "ok", "Action": action, "Resource": "*"}], "test")
    with pytest.raises(AssertionError, match="resource \\*"):
        _check([{"Sid": "bad", "Action": ["cloudwatch:GetMetricData", "sns:Publish"], "Resource": "*"}], "test")
    with pytest.raises(AssertionError, match="statement of its own"):
        _check([{"Sid": "bad", "Action": ["cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms"], "Resource": "*"}], "test")
    with pytest.raises(AssertionError, match="statement of its own"):
        _check([{"Sid": "bad", "Action": "cloudwatch:DescribeAlarms", "Resource": ["*", "arn:aws:cloudwatch:eu-west-1:1:alarm:a"]}], "test")
    with pytest.raises(AssertionError, match="resource \\*"):
        _check([{"Sid": "bad", "Action": "scheduler:CreateSchedule", "Resource": "*"}], "test")
    with pytest.raises(AssertionError, match="not something the engine needs"):
        _check([{"Sid": "bad", "Action": "scheduler:UpdateSchedule", "Resource": "arn:aws:scheduler:eu-west-1:1:schedule/g/sd-x"}], "test")


def test_the_terraform_reader_sees_what_is_written():
    """hcl_value, which the Terraform checks rely on, reads a policy as written."""
    text = '${jsonencode({Version = "2012-10-17", Statement = [{Sid = "A", Action = ["x:Y", "x:Z"], Resource = "*", ' \
           'Condition = {StringEquals = {"iam:PassedToService" = "s.amazonaws.com"}}}, ' \
           '{Sid = "B", Action = "x:W", Resource = concat([for f in local.f : "${local.p}:${f}"], ["a"])}]})}'
    assert hcl_value(text) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Action": ["x:Y", "x:Z"], "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "s.amazonaws.com"}}},
        {"Sid": "B", "Action": "x:W", "Resource": 'concat([for f in local.f : "${local.p}:${f}"], ["a"])'},
    ]}
