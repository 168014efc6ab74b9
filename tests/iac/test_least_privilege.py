"""IAM in template.yaml and terraform/ is no broader than the engine needs: no wildcard action, no
`*` resource, and every action is one the engine calls (src/ is searched for the SDK call)."""

import json
import re

from iac import ROOT, terraform_module, tf_resource, translate

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
    "ecr:DescribeImages": ".describe_images()",
    "ecr:DescribeImageScanFindings": ".describe_image_scan_findings()",
    "ecr:DescribeImageSigningStatus": ".describe_image_signing_status()",
    # Not called by us: Lambda requires them of the caller of UpdateFunctionCode for an image.
    "ecr:BatchGetImage": "update_function_code",
    "ecr:GetDownloadUrlForLayer": "update_function_code",
    "sns:Publish": ".publish()",
    "events:PutEvents": ".put_events()",
    # Used by SNS on our behalf: the topic is encrypted with a key of its own (see template.yaml).
    "kms:GenerateDataKey": None,
    "kms:Decrypt": None,
    # Used by the Lambda service on our behalf: the on-failure destination and our logs.
    "sqs:SendMessage": None,
    "logs:CreateLogStream": None,
    "logs:PutLogEvents": None,
}


def _src() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.rs"))


def _check(statements: list[dict], where: str) -> None:
    src = _src()
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for a in actions:
            assert "*" not in a, f"{where} {st.get('Sid')}: wildcard action {a}"
            assert a in NEEDED, f"{where} {st.get('Sid')}: {a} is not something the engine needs"
            if NEEDED[a]:
                assert NEEDED[a] in src, f"{a} is granted but src/ never calls {NEEDED[a]}"
        for r in resources:
            text = json.dumps(r)
            assert text not in ('"*"',), f"{where} {st.get('Sid')}: resource *"
            assert not re.search(r':\*"$|/\*"$', text) or text.endswith(':*"'), f"{where}: {text}"


def test_the_sam_policy_is_least_privilege():
    role = translate()["Resources"]["DeployerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    _check(statements, "template.yaml")
    assert "ManagedPolicyArns" not in role, "no managed policy: they grant on *"


def test_the_terraform_policy_is_least_privilege():
    tf = terraform_module()
    policy = tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"]
    text = json.dumps(policy)
    actions = re.findall(r'"((?:[a-z0-9]+):[A-Za-z*]+)"', text.replace('\\"', '"'))
    assert actions, "no actions found in the Terraform policy"
    statements = [{"Sid": "terraform", "Action": actions, "Resource": ["(checked below)"]}]
    _check(statements, "terraform")
    assert '"*"' not in text.replace('\\"', '"').replace(" ", ""), "a * resource in Terraform's policy"


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
    import pytest

    with pytest.raises(AssertionError, match="wildcard action"):
        _check([{"Sid": "bad", "Action": "lambda:*", "Resource": "arn:aws:lambda:eu-west-1:1:function:f"}], "test")
    with pytest.raises(AssertionError, match="resource"):
        _check([{"Sid": "bad", "Action": "sns:Publish", "Resource": "*"}], "test")
