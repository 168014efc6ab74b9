"""The reconcile sweep in template.yaml and terraform/ (issue 16): a schedule rule (rate(15 minutes)
by default, off when empty) that invokes the deployer with {"action": "reconcile"}, its invoke
permission, DEPLOYER_RECONCILE, and the tag calls scoped to the configured functions, the same on
both sides."""

import json

from iac import hcl_value, load_template, terraform_module, tf_resource, translate


def _tf_var(tf: dict, name: str) -> dict:
    for block in tf.get("variable", []):
        if name in block:
            return block[name]
    raise AssertionError(f"no variable {name}")


def test_sam_schedules_the_sweep_every_15_minutes_unless_empty():
    t = load_template()
    params, res = t["Parameters"], t["Resources"]
    assert params["ReconcileSchedule"]["Default"] == "rate(15 minutes)"
    assert t["Conditions"]["HasReconcileSchedule"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ReconcileSchedule"}, ""]}]}
    rule = res["ReconcileRule"]
    assert rule["Condition"] == "HasReconcileSchedule"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "ReconcileSchedule"}
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["DeployerFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"action": "reconcile"}
    perm = res["ReconcilePermission"]
    assert perm["Condition"] == "HasReconcileSchedule"
    assert perm["Properties"] == {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "DeployerFunction"},
        "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["ReconcileRule", "Arn"]},
    }
    assert params["ReconcileMode"]["AllowedValues"] == ["deploy", "report"]
    env = res["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DEPLOYER_RECONCILE"] == {"Ref": "ReconcileMode"}


def test_terraform_schedules_the_same_sweep():
    tf = terraform_module()
    sam = load_template()["Parameters"]
    assert _tf_var(tf, "reconcile_schedule")["default"] == sam["ReconcileSchedule"]["Default"]
    assert _tf_var(tf, "reconcile_mode")["default"] == sam["ReconcileMode"]["Default"]
    rule = tf_resource(tf, "aws_cloudwatch_event_rule", "reconcile")
    assert rule["schedule_expression"] == "${var.reconcile_schedule}"
    off = '${var.reconcile_schedule == "" ? 0 : 1}'
    target = tf_resource(tf, "aws_cloudwatch_event_target", "reconcile")
    perm = tf_resource(tf, "aws_lambda_permission", "reconcile")
    for r in (rule, target, perm):
        assert r["count"] == off, r
    assert target["arn"] == "${aws_lambda_function.deployer.arn}"
    assert hcl_value(target["input"]) == {"action": "reconcile"}
    assert (perm["principal"], perm["action"]) == ("events.amazonaws.com", "lambda:InvokeFunction")
    assert perm["source_arn"] == "${aws_cloudwatch_event_rule.reconcile[0].arn}"
    env = tf_resource(tf, "aws_lambda_function", "deployer")["environment"][0]["variables"]
    assert env["DEPLOYER_RECONCILE"] == "${var.reconcile_mode}"


def test_the_tag_calls_are_scoped_to_the_configured_functions_on_both_sides():
    sam = translate()["Resources"]["DeployerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [st] = [s for s in sam if s["Sid"] == "MarkTargetFunctions"]
    assert st["Action"] == ["lambda:ListTags", "lambda:TagResource"]
    assert st["Resource"] == {"Ref": "TargetFunctionArns"}, "the unqualified function ARNs, no versions or aliases"
    tf = terraform_module()
    stmts = hcl_value(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])["Statement"]
    [st] = [s for s in stmts if s["Sid"] == "MarkTargetFunctions"]
    assert st["Action"] == ["lambda:ListTags", "lambda:TagResource"]
    assert ":*" not in json.dumps(st["Resource"])
    assert "local.functions" in json.dumps(st["Resource"])
