"""template.yaml: linted after an offline SAM translation, validated by `sam validate --lint`,
created as a stack in the emulator, and its rule tested against real ECR events."""

import ast
import io
import json
import zipfile

from iac import ACCOUNT, PARAMS, REGION, ecr_event, load_template, translate
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
    assert p["ReservedConcurrentExecutions"] == 1
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    cfg = t["Resources"]["DeployerFunctionEventInvokeConfig"]["Properties"]
    assert cfg["MaximumRetryAttempts"] == 0
    assert cfg["MaximumEventAgeInSeconds"] >= 3600
    assert cfg["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedInvocations", "Arn"]}
    assert t["Resources"]["DeployerLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert t["Resources"]["NotificationTopic"]["Properties"]["KmsMasterKeyId"]
    perm = t["Resources"]["DeployerFunctionEcrPushPermission"]["Properties"]
    assert perm["SourceArn"] == {"Fn::GetAtt": ["DeployerFunctionEcrPush", "Arn"]}, "invoke permission scoped to the rule"


def _stack(moto):
    """Creates the translated template as a stack in the emulator (once per session)."""
    cfn = moto.client("cloudformation")
    if "self-deployer" in [s["StackName"] for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]:
        return cfn.describe_stacks(StackName="self-deployer")["Stacks"][0]
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="self-deployer-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "placeholder: the stack test checks resources, not the binary")
    s3.put_object(Bucket="self-deployer-artifacts", Key="bootstrap.zip", Body=buf.getvalue())
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMS.items()]
    params.append({"ParameterKey": "NotificationEmail", "ParameterValue": "oncall@example.com"})
    cfn.create_stack(StackName="self-deployer", TemplateBody=json.dumps(translate()), Parameters=params,
                     Capabilities=["CAPABILITY_IAM"])
    return cfn.describe_stacks(StackName="self-deployer")["Stacks"][0]


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
                        "DEPLOYER_EVENT_BUS", "DEPLOYER_METRICS", "DEPLOYER_METRICS_NAMESPACE"}
    assert (env["DEPLOYER_EVENT_BUS"], env["DEPLOYER_METRICS"], env["DEPLOYER_METRICS_NAMESPACE"]) == ("default", "true", "SelfDeployer")

    events = moto.client("events")
    rules = events.list_rules()["Rules"]
    assert len(rules) == 1
    pattern = json.loads(rules[0]["EventPattern"])
    assert pattern["detail"]["repository-name"] == ["api", "web"]
    targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [outputs["DeployerFunctionArn"]]

    iam = moto.client("iam")
    role = next(r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("self-deployer-DeployerRole"))
    doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="self-deployer")["PolicyDocument"]
    doc = doc if isinstance(doc, dict) else ast.literal_eval(doc)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
    assert sorted(by_sid["DeployTargetFunctions"]["Resource"]) == sorted(
        [fn + f for f in ("api-dev", "api-prod", "web")] + [fn + f + ":*" for f in ("api-dev", "api-prod", "web")]
    )
    assert by_sid["Notify"]["Resource"] == outputs["NotificationTopicArn"]
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
