"""template.yaml: linted after an offline SAM translation, validated by `sam validate --lint`,
created as a stack in the emulator, and its rules tested against real ECR and CloudWatch alarm events."""

import ast
import io
import json
import zipfile

import re

from iac import (ACCOUNT, PARAMS, PARAMS_NO_ALARMS, REGION, alarm_event, ecr_event, engine_env_vars, load_template,
                 src_text, translate)
from tools import ROOT, run, tool


def test_the_translated_template_is_lint_clean(tmp_path):
    # cfn-lint no longer expands SAM fully (it misses a bad Runtime or Architectures on the raw
    # template), so lint what SAM turns it into.
    out = tmp_path / "translated.json"
    out.write_text(json.dumps(translate(), indent=1))
    res = run([tool("cfn-lint", "CFN_LINT_BIN", ".venv"), str(out), str(ROOT / "template.yaml")])
    assert res.returncode == 0, res.stdout + res.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    """The check above can fail: a bad runtime in the translated template is reported."""
    t = translate()
    t["Resources"]["DeployerFunction"]["Properties"]["Runtime"] = "provided.al2099"
    out = tmp_path / "broken.json"
    out.write_text(json.dumps(t))
    res = run([tool("cfn-lint", "CFN_LINT_BIN", ".venv"), str(out)])
    assert res.returncode != 0 and "provided.al2099" in res.stdout


def test_sam_validate_lint():
    res = run([tool("sam", "SAM_BIN", ".venv-sam"), "validate", "--lint", "-t", "template.yaml", "--region", REGION])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "is a valid SAM Template" in res.stdout + res.stderr


def test_the_function_is_what_the_issue_asks():
    t = translate()
    f = t["Resources"]["DeployerFunction"]
    assert f["Metadata"]["BuildMethod"] == "rust-cargolambda"
    p = f["Properties"]
    assert (p["Runtime"], p["Handler"], p["Architectures"], p["Timeout"]) == ("provided.al2023", "bootstrap", ["arm64"], 900)
    assert p["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}  # see test_fanout_iac.py
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    cfg = t["Resources"]["DeployerFunctionEventInvokeConfig"]["Properties"]
    assert cfg["MaximumRetryAttempts"] == 0
    assert cfg["MaximumEventAgeInSeconds"] >= 3600
    assert cfg["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedInvocations", "Arn"]}
    assert t["Resources"]["DeployerLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert t["Resources"]["NotificationTopic"]["Properties"]["KmsMasterKeyId"]
    perm = t["Resources"]["DeployerFunctionEcrPushPermission"]["Properties"]
    assert perm["SourceArn"] == {"Fn::GetAtt": ["DeployerFunctionEcrPush", "Arn"]}, "invoke permission scoped to the rule"


def test_the_rollout_pieces_are_what_the_issue_asks():
    """Schedule group, scheduler role, alarm rule and permission, and the environment that names them."""
    t = translate()
    res = t["Resources"]
    env = res["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DEPLOYER_ROLLOUT"] == {"Ref": "RolloutJson"}
    assert env["DEPLOYER_SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    # The group is referred to by its name, the stack's: the two must stay the same.
    assert res["RolloutScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    assert res["RolloutScheduleGroup"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    assert env["DEPLOYER_SCHEDULE_GROUP"] == {"Ref": "AWS::StackName"}
    assert "RolloutScheduleGroup" in res["DeployerFunction"]["DependsOn"]
    assert res["DeployerFunction"]["Properties"]["FunctionName"] == {"Ref": "AWS::StackName"}

    params = load_template()["Parameters"]
    assert params["RolloutJson"]["Default"] == "", "no default rollout: all at once, as before"
    assert params["RolloutAlarmArns"]["Type"] == "CommaDelimitedList" and params["RolloutAlarmArns"]["Default"] == ""
    assert t["Conditions"]["HasRolloutAlarms"] == {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "RolloutAlarmArns"}]}, ""]}]}
    for name in ("RolloutAlarmRule", "RolloutAlarmPermission"):
        assert res[name]["Condition"] == "HasRolloutAlarms", f"{name} must not exist without alarms"

    rule = res["RolloutAlarmRule"]["Properties"]
    assert [x["Arn"] for x in rule["Targets"]] == [{"Fn::GetAtt": ["DeployerFunction", "Arn"]}]
    assert rule["Targets"][0]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 21600, "MaximumRetryAttempts": 10}
    assert rule.get("State", "ENABLED") == "ENABLED"
    perm = res["RolloutAlarmPermission"]["Properties"]
    assert perm == {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "DeployerFunction"},
                    "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["RolloutAlarmRule", "Arn"]}}


def test_the_alarm_rule_is_the_event_the_engine_reads():
    """The rule's source and detail-type are the ones src/input/alarm.rs accepts as an alarm event."""
    alarm_rs = src_text("input", "alarm.rs")
    source = re.search(r'pub const SOURCE: &str = "([^"]+)";', alarm_rs).group(1)
    detail_type = re.search(r'pub const DETAIL_TYPE: &str = "([^"]+)";', alarm_rs).group(1)
    pattern = translate()["Resources"]["RolloutAlarmRule"]["Properties"]["EventPattern"]
    assert pattern["source"] == [source]
    assert pattern["detail-type"] == [detail_type]
    # The engine acts on ALARM only (any other state is skipped): the rule does not wake it for those.
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    assert pattern["resources"] == {"Ref": "RolloutAlarmArns"}


def test_the_environment_is_what_the_engine_reads():
    env = translate()["Resources"]["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    unknown = set(env) - engine_env_vars()
    assert not unknown, f"the engine reads no {unknown} (src/config/mod.rs)"


def _stack(moto, name: str = "self-deployer", params: dict | None = None):
    """Creates the translated template as a stack in the emulator (once per session and name)."""
    params = PARAMS if params is None else params
    cfn = moto.client("cloudformation")
    if name in [s["StackName"] for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    s3 = moto.client("s3")
    if "self-deployer-artifacts" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="self-deployer-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "placeholder: the stack test checks resources, not the binary")
        s3.put_object(Bucket="self-deployer-artifacts", Key="bootstrap.zip", Body=buf.getvalue())
    stack_params = [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]
    stack_params.append({"ParameterKey": "NotificationEmail", "ParameterValue": "oncall@example.com"})
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(translate(params)), Parameters=stack_params,
                     Capabilities=["CAPABILITY_IAM"])
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def _role_policies(iam, prefix: str) -> tuple[dict, dict]:
    """The role whose name starts with prefix, and its inline policies by name (as documents)."""
    role = next(r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix))
    docs = {}
    for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
        docs[name] = doc if isinstance(doc, dict) else ast.literal_eval(doc)
    trust = role["AssumeRolePolicyDocument"]
    role["AssumeRolePolicyDocument"] = trust if isinstance(trust, dict) else json.loads(trust)
    return role, docs


def test_the_stack_creates_in_the_emulator_with_the_right_resources(moto):
    moto.reset()
    stack = _stack(moto)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["DeployerFunctionName"] == "self-deployer"
    assert '{"action":"rollback","function":"FUNCTION"}' in outputs["RollbackCommand"]

    env = moto.client("lambda").get_function(FunctionName="self-deployer")["Configuration"]["Environment"]["Variables"]
    assert json.loads(env["DEPLOYER_TARGETS"]) == json.loads(PARAMS["TargetsJson"])
    assert env["DEPLOYER_TOPIC_ARN"] == outputs["NotificationTopicArn"]
    assert set(env) == {"DEPLOYER_TARGETS", "DEPLOYER_ALIAS", "DEPLOYER_TOPIC_ARN", "DEPLOYER_UPDATE_TIMEOUT_SECS", "DEPLOYER_KEEP_VERSIONS",
                        "DEPLOYER_IMAGE_CHECKS", "DEPLOYER_ROLLOUT", "DEPLOYER_SCHEDULER_ROLE_ARN", "DEPLOYER_SCHEDULE_GROUP",
                        "DEPLOYER_EVENT_BUS", "DEPLOYER_METRICS", "DEPLOYER_METRICS_NAMESPACE", "DEPLOYER_INLINE_MAX", "DEPLOYER_RECONCILE",
                        "DEPLOYER_GITHUB_TOKEN_SECRET_ARN", "DEPLOYER_GITHUB_API_URL",
                        "DEPLOYER_CONTROL_PLANE_RPS", "DEPLOYER_FLEET_REPORT_SECS", "DEPLOYER_NOTIFY_FLEET"}
    assert env["DEPLOYER_IMAGE_CHECKS"] == "", "no default checks unless asked for"
    assert (env["DEPLOYER_GITHUB_TOKEN_SECRET_ARN"], env["DEPLOYER_GITHUB_API_URL"]) == ("", "https://api.github.com")
    assert json.loads(env["DEPLOYER_ROLLOUT"]) == json.loads(PARAMS["RolloutJson"])
    assert env["DEPLOYER_SCHEDULER_ROLE_ARN"] == outputs["SchedulerRoleArn"]
    assert env["DEPLOYER_SCHEDULE_GROUP"] == outputs["RolloutScheduleGroupName"] == "self-deployer"
    assert '{"action":"promote","function":"FUNCTION"}' in outputs["PromoteCommand"]
    assert (env["DEPLOYER_EVENT_BUS"], env["DEPLOYER_METRICS"], env["DEPLOYER_METRICS_NAMESPACE"]) == ("default", "true", "SelfDeployer")

    events = moto.client("events")
    rules = {r["Name"]: r for r in events.list_rules()["Rules"]}
    assert len(rules) == 3, sorted(rules)
    # The reconcile sweep, every 15 minutes by default.
    sweep = next(r for n, r in rules.items() if "ReconcileRule" in n)
    assert sweep["ScheduleExpression"] == "rate(15 minutes)"
    targets = events.list_targets_by_rule(Rule=sweep["Name"])["Targets"]
    assert [(t["Arn"], json.loads(t["Input"])) for t in targets] == [(outputs["DeployerFunctionArn"], {"action": "reconcile"})]
    assert env["DEPLOYER_RECONCILE"] == "deploy"
    ecr_rule = next(r for n, r in rules.items() if "EcrPush" in n)
    pattern = json.loads(ecr_rule["EventPattern"])
    assert pattern["detail"]["repository-name"] == ["api", "web"]
    targets = events.list_targets_by_rule(Rule=ecr_rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [outputs["DeployerFunctionArn"]]
    alarm_rule = next(r for n, r in rules.items() if "RolloutAlarmRule" in n)
    assert json.loads(alarm_rule["EventPattern"])["resources"] == PARAMS["RolloutAlarmArns"].split(",")
    targets = events.list_targets_by_rule(Rule=alarm_rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [outputs["DeployerFunctionArn"]]
    # Each rule may invoke the deployer, and nothing else may.
    policy = json.loads(moto.client("lambda").get_policy(FunctionName="self-deployer")["Policy"])
    sources = sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"])
    assert sources == sorted(r["Arn"] for r in rules.values())
    assert {json.dumps(s["Principal"]) for s in policy["Statement"]} == {json.dumps({"Service": "events.amazonaws.com"})}

    iam = moto.client("iam")
    role, docs = _role_policies(iam, "self-deployer-DeployerRole")
    assert sorted(docs) == ["self-deployer"]
    by_sid = {s["Sid"]: s for d in docs.values() for s in d["Statement"]}
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
    assert sorted(by_sid["DeployTargetFunctions"]["Resource"]) == sorted(
        [fn + f for f in ("api-dev", "api-prod", "web")] + [fn + f + ":*" for f in ("api-dev", "api-prod", "web")]
    )
    assert by_sid["Notify"]["Resource"] == outputs["NotificationTopicArn"]
    # Tags (rejected images, notified drift) on the functions themselves, never their versions.
    assert sorted(by_sid["MarkTargetFunctions"]["Action"]) == ["lambda:ListTags", "lambda:TagResource"]
    assert sorted(by_sid["MarkTargetFunctions"]["Resource"]) == sorted(fn + f for f in ("api-dev", "api-prod", "web"))
    repos = [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{r}" for r in ("api", "web")]
    assert by_sid["CheckTargetImages"]["Action"] == ["ecr:DescribeImageScanFindings", "ecr:DescribeImageSigningStatus"]
    assert by_sid["CheckTargetImages"]["Resource"] == repos
    # The rollout's grants as deployed: the group's schedules, the scheduler role; the alarms and metrics on "*".
    assert by_sid["ScheduleRolloutChecks"]["Resource"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/self-deployer/sd-*"
    assert by_sid["PassSchedulerRole"]["Resource"] == outputs["SchedulerRoleArn"]
    assert by_sid["PassSchedulerRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    for sid, action in (("ReadRolloutAlarms", "cloudwatch:DescribeAlarms"), ("ReadRolloutMetrics", "cloudwatch:GetMetricData"),
                        ("FindRolloutChecks", "scheduler:ListSchedules")):
        assert (by_sid[sid]["Action"], by_sid[sid]["Resource"]) == (action, "*"), sid

    # The scheduler role: assumed by EventBridge Scheduler of this account only, invokes the deployer only.
    role, docs = _role_policies(iam, "self-deployer-SchedulerRole")
    assert role["Arn"] == outputs["SchedulerRoleArn"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }]
    assert [s for d in docs.values() for s in d["Statement"]] == [{
        "Sid": "InvokeDeployer", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": outputs["DeployerFunctionArn"],
    }]
    assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    # moto does not create AWS::SNS::Subscription from a template; check the template instead.
    sub = translate()["Resources"]["EmailSubscription"]
    assert sub["Condition"] == "HasEmail"
    assert sub["Properties"] == {"TopicArn": {"Ref": "NotificationTopic"}, "Protocol": "email", "Endpoint": {"Ref": "NotificationEmail"}}


def test_the_rule_matches_pushes_to_configured_repositories_only(moto):
    """The rule as the stack created it, fed real sample events through the emulator's EventBridge
    (a copy of the rule routes to a queue, so we see exactly which events it lets through)."""
    moto.reset()
    events, sqs = moto.client("events"), moto.client("sqs")
    # The pattern as the stack deploys it (the stack test checks the created rule has it); not the
    # stack's own rule, whose Lambda target the emulator cannot run.
    rule = translate()["Resources"]["DeployerFunctionEcrPush"]["Properties"]
    deployed = json.dumps(rule["EventPattern"]).replace(
        '{"Ref": "TargetRepositories"}', json.dumps(PARAMS["TargetRepositories"].split(","))
    )
    assert "Ref" not in deployed
    url = sqs.create_queue(QueueName="matched")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="pattern-under-test", EventPattern=deployed)
    events.put_targets(Rule="pattern-under-test", Targets=[{"Id": "q", "Arn": arn}])

    other_source = ecr_event("api")
    other_source["source"] = "aws.s3"
    cases = {
        "push-api": (ecr_event("api"), True),
        "push-web": (ecr_event("web"), True),
        "delete-api": (ecr_event("api", action="DELETE"), False),
        "failed-push-api": (ecr_event("api", result="FAILURE"), False),
        "push-payments": (ecr_event("payments"), False),
        "s3-event": (other_source, False),
    }
    for name, (event, _) in cases.items():
        event["id"] = name
        events.put_events(Entries=[{
            "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
            "Resources": [name],
        }])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    matched = sorted(json.loads(m["Body"])["resources"][0] for m in got)
    assert matched == sorted(name for name, (_, want) in cases.items() if want)


def test_without_rollout_alarms_there_is_no_alarm_rule(moto):
    """Empty RolloutAlarmArns (the default): the stack has no alarm rule, no invoke permission for
    one; rollouts still schedule their checks and read their gates (set per target, alarms too)."""
    moto.reset()
    # No reconcile schedule either: empty turns the sweep off, so the ECR rule is the only rule.
    stack = _stack(moto, "quiet", {**PARAMS_NO_ALARMS, "ReconcileSchedule": ""})
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    env = moto.client("lambda").get_function(FunctionName="quiet")["Configuration"]["Environment"]["Variables"]
    assert env["DEPLOYER_ROLLOUT"] == "", "no default rollout: all at once"
    assert env["DEPLOYER_SCHEDULE_GROUP"] == "quiet"
    assert env["DEPLOYER_SCHEDULER_ROLE_ARN"] == outputs["SchedulerRoleArn"]
    rules = moto.client("events").list_rules()["Rules"]
    assert [json.loads(r["EventPattern"])["source"] for r in rules] == [["aws.ecr"]]
    policy = json.loads(moto.client("lambda").get_policy(FunctionName="quiet")["Policy"])
    assert len(policy["Statement"]) == 1
    _, docs = _role_policies(moto.client("iam"), "quiet-DeployerRole")
    assert list(docs) == ["self-deployer"]
    actions = {a for s in docs["self-deployer"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"scheduler:CreateSchedule", "iam:PassRole", "cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms"} <= actions


def test_the_alarm_rule_wakes_the_deployer_for_configured_alarms_going_to_alarm_only(moto):
    """The alarm rule as the stack creates it, fed "CloudWatch Alarm State Change" events through
    the emulator's EventBridge (a copy of the rule routes to a queue, as for the ECR rule)."""
    moto.reset()
    events, sqs = moto.client("events"), moto.client("sqs")
    rule = translate()["Resources"]["RolloutAlarmRule"]["Properties"]
    deployed = json.dumps(rule["EventPattern"]).replace(
        '{"Ref": "RolloutAlarmArns"}', json.dumps(PARAMS["RolloutAlarmArns"].split(","))
    )
    assert "Ref" not in deployed
    url = sqs.create_queue(QueueName="alarms-matched")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="alarm-pattern-under-test", EventPattern=deployed)
    events.put_targets(Rule="alarm-pattern-under-test", Targets=[{"Id": "q", "Arn": arn}])

    other_source = alarm_event("api-5xx")
    other_source["source"] = "aws.events"
    cases = {
        "5xx-to-alarm": (alarm_event("api-5xx"), True),
        "latency-composite-to-alarm": (alarm_event("api-latency", previous="INSUFFICIENT_DATA", composite=True), True),
        "5xx-back-to-ok": (alarm_event("api-5xx", "OK", "ALARM"), False),
        "5xx-insufficient-data": (alarm_event("api-5xx", "INSUFFICIENT_DATA", "OK"), False),
        "unconfigured-alarm": (alarm_event("web-5xx"), False),
        "composite-unconfigured": (alarm_event("api-health", composite=True), False),
        "same-name-other-account": (alarm_event("api-5xx", account="210987654321"), False),
        "same-name-other-region": (alarm_event("api-5xx", region="us-east-1"), False),
        "other-source": (other_source, False),
        "ecr-push": (ecr_event("api"), False),
    }
    for name, (event, _) in cases.items():
        detail = dict(event["detail"], case=name)
        events.put_events(Entries=[{
            "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(detail),
            "Resources": event["resources"],
        }])
    got = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        got += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    matched = sorted(json.loads(m["Body"])["detail"]["case"] for m in got)
    assert matched == sorted(name for name, (_, want) in cases.items() if want)
