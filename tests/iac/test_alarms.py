"""Alarms and the dashboard in template.yaml and terraform/: the same three alarms on both sides
(the deployer's Errors, Deployments with Outcome=failed, the failure queue's depth), each notifying
the topic; a dashboard on the metrics the deployer writes; the topic under a key CloudWatch may use."""

import json

from iac import src_text, terraform_module, tf_resource, translate

ALARMS = {  # SAM logical id: Terraform name
    "DeployerErrorsAlarm": "errors",
    "FailedDeploymentsAlarm": "failed_deployments",
    "FailedInvocationsAlarm": "failed_invocations",
}
# What the deployer writes (src/signals/emf.rs): every metric a widget or alarm reads must be one.
EMF_METRICS = {"Deployments", "DeploymentDuration", "StepDuration", "Rollbacks", "SmokeTestFailures",
               "LeadTimeSeconds", "ChangeFailure", "TimeToRestoreSeconds"}


def _sam_dashboard() -> dict:
    body = translate()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for name, value in {"AWS::Region": "eu-west-1", "MetricsNamespace": "SelfDeployer", "DeployerFunction": "self-deployer"}.items():
        body = body.replace("${" + name + "}", value)
    assert "${" not in body, "an unresolved substitution in the dashboard"
    return json.loads(body)


def test_three_alarms_notify_the_topic_and_agree_between_sam_and_terraform():
    sam = translate()["Resources"]
    tf = terraform_module()
    for sam_id, tf_name in ALARMS.items():
        s = sam[sam_id]["Properties"]
        t = tf_resource(tf, "aws_cloudwatch_metric_alarm", tf_name)
        assert s["AlarmActions"] == [{"Ref": "NotificationTopic"}], sam_id
        assert t["alarm_actions"] == ["${aws_sns_topic.notifications.arn}"], tf_name
        assert (s["MetricName"], s["Statistic"], s["Period"], s["EvaluationPeriods"], s["Threshold"]) == (
            t["metric_name"], t["statistic"], t["period"], t["evaluation_periods"], t["threshold"]), sam_id
        assert (s["ComparisonOperator"], s["TreatMissingData"]) == (t["comparison_operator"], t["treat_missing_data"])
        assert [d["Name"] for d in s["Dimensions"]] == list(t["dimensions"]), sam_id
    errors = sam["DeployerErrorsAlarm"]["Properties"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DeployerFunction"}}]
    failed = sam["FailedDeploymentsAlarm"]["Properties"]
    assert (failed["Namespace"], failed["MetricName"]) == ({"Ref": "MetricsNamespace"}, "Deployments")
    assert failed["Dimensions"] == [{"Name": "Outcome", "Value": "failed"}]
    assert tf_resource(tf, "aws_cloudwatch_metric_alarm", "failed_deployments")["dimensions"] == {"Outcome": "failed"}
    queue = sam["FailedInvocationsAlarm"]["Properties"]
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedInvocations", "QueueName"]}}]
    assert queue["Statistic"] == "Maximum" and queue["MetricName"] == "ApproximateNumberOfMessagesVisible"


def test_the_dashboards_show_outcomes_duration_percentiles_and_rollbacks_alike():
    sam = _sam_dashboard()
    tf_body = tf_resource(terraform_module(), "aws_cloudwatch_dashboard", "deployer")["dashboard_body"]
    tf_text = json.dumps(tf_body)
    titles = [w["properties"]["title"] for w in sam["widgets"]]
    assert titles == ["Deployments by outcome", "Deployment duration (deployed)", "Rollbacks",
                      "Smoke test failures and deployer errors",
                      "DORA: lead time for changes (s, image created or pushed, to live)", "DORA: change failure rate",
                      "DORA: time to restore (s)"]
    for title in titles:
        assert title in tf_text, f"Terraform's dashboard lacks {title!r}"
    metrics = [m for w in sam["widgets"] for m in w["properties"]["metrics"]]
    ours = {m[1] for m in metrics if isinstance(m[0], str) and m[0] == "SelfDeployer"}
    assert ours <= EMF_METRICS and {"DeploymentDuration", "Rollbacks"} <= ours
    stats = {m[-1]["stat"] for m in metrics if isinstance(m[0], str) and m[1] == "DeploymentDuration"}
    assert stats == {"p50", "p90"}
    assert "p50" in tf_text and "p90" in tf_text
    search = sam["widgets"][0]["properties"]["metrics"][0][0]["expression"]
    assert search == "SEARCH('{\"SelfDeployer\",Outcome} MetricName=\"Deployments\"', 'Sum', 3600)"
    # The DORA row: the metrics the engine writes in [FunctionName] (src/signals/dora_emf.rs).
    dora = [w["properties"]["metrics"][0][0]["expression"] for w in sam["widgets"][4:]]
    assert dora == ["SEARCH('{\"SelfDeployer\",FunctionName} MetricName=\"LeadTimeSeconds\"', 'p50', 86400)",
                    "SEARCH('{\"SelfDeployer\",FunctionName} MetricName=\"ChangeFailure\"', 'Average', 86400)",
                    "SEARCH('{\"SelfDeployer\",FunctionName} MetricName=\"TimeToRestoreSeconds\"', 'p50', 86400)"]
    dora_rs = src_text("signals", "dora_emf.rs")
    assert all(f'"{m}"' in dora_rs for m in ("LeadTimeSeconds", "ChangeFailure", "TimeToRestoreSeconds"))
    assert all(m in tf_text for m in ("LeadTimeSeconds", "ChangeFailure", "TimeToRestoreSeconds"))


def test_the_topic_is_under_a_rotated_key_that_alarms_may_use():
    sam = translate()["Resources"]
    assert sam["NotificationTopic"]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    key = sam["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    by_sid = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    alarms = by_sid["AlarmsPublishToTheTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    tf = terraform_module()
    assert tf_resource(tf, "aws_sns_topic", "notifications")["kms_master_key_id"] == "${aws_kms_key.notifications.arn}"
    tf_key = tf_resource(tf, "aws_kms_key", "notifications")
    assert tf_key["enable_key_rotation"] is True
    assert "cloudwatch.amazonaws.com" in json.dumps(tf_key["policy"])


def test_the_stack_in_the_emulator_has_the_dashboard(moto):
    """moto 5.2 creates the dashboard from the template but not the alarms (it lists them with no
    id or type and describe_alarms finds none), so the alarms are checked in the template above."""
    moto.reset()
    import test_sam

    stack = test_sam._stack(moto)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    board = moto.client("cloudwatch").get_dashboard(DashboardName=outputs["DashboardName"])
    widgets = json.loads(board["DashboardBody"])["widgets"]
    assert [w["properties"]["title"] for w in widgets] == [w["properties"]["title"] for w in _sam_dashboard()["widgets"]]
    search = widgets[0]["properties"]["metrics"][0][0]["expression"]
    assert '{"SelfDeployer",Outcome}' in search, "the namespace parameter was substituted"
