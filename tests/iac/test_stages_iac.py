"""Stages in the IaC (issue 17): sts:AssumeRole on the configured roles only (a parameter in SAM,
the targets' assume_role_arn in Terraform; none configured, no grant at all), and the documented
snippet of what another account must create, alike on both sides."""

import json
import re

from iac import PARAMS, hcl_value, load_template, src_text, terraform_module, tf_resource, translate


def _sam_stage_policy(params: dict | None = None) -> dict:
    return translate(params)["Resources"]["StageRolesPolicy"]


def test_sam_grants_assume_role_on_the_listed_roles_only_and_only_when_listed():
    t = load_template()
    param = t["Parameters"]["StageRoleArns"]
    assert (param["Type"], param["Default"]) == ("CommaDelimitedList", "")
    assert t["Conditions"]["HasStageRoles"] == {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "StageRoleArns"}]}, ""]}]}
    policy = _sam_stage_policy()
    assert policy["Condition"] == "HasStageRoles"
    assert policy["Properties"]["Roles"] == [{"Ref": "DeployerRole"}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Sid": "AssumeStageRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": {"Ref": "StageRoleArns"}}]
    # Nowhere else: the deployer's own policy grants no sts action.
    own = translate()["Resources"]["DeployerRole"]["Properties"]["Policies"]
    assert "sts:" not in json.dumps(own)


def test_terraform_grants_assume_role_on_the_targets_roles_only_and_only_when_set():
    tf = terraform_module()
    locals_ = {k: v for b in tf["locals"] for k, v in b.items()}
    assert locals_["stage_role_arns"] == "${distinct([for t in var.targets : t.assume_role_arn if t.assume_role_arn != null])}"
    policy = tf_resource(tf, "aws_iam_role_policy", "stages")
    assert policy["count"] == "${length(local.stage_role_arns) > 0 ? 1 : 0}"
    assert policy["role"] == "${aws_iam_role.deployer.id}"
    assert hcl_value(policy["policy"])["Statement"] == [
        {"Sid": "AssumeStageRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "local.stage_role_arns"}]
    own = json.dumps(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])
    assert "sts:" not in own
    # The targets' type knows the stage fields the engine reads (src/config/stage.rs, target.rs).
    variables = {k: v for b in tf["variable"] for k, v in b.items()}
    target_type = variables["targets"]["type"]
    assert "assume_role_arn = optional(string)" in target_type.replace("  ", " ")
    after = target_type[target_type.index("after"):]
    stage_rs = src_text("config", "stage.rs")
    struct = stage_rs[stage_rs.index("pub struct After {"):]
    fields = set(re.findall(r"pub (\w+):", struct[:struct.index("\n}")]))
    assert fields == {"function", "bake_secs", "manual"}
    for f in fields:
        assert re.search(rf"\b{f}\s*=", after), f"Terraform's after lacks {f}"


def _deployer_actions(prefix: str) -> set[str]:
    """Every action starting with `prefix` in the deployer role's inline policies."""
    role = load_template()["Resources"]["DeployerRole"]["Properties"]
    found = set()
    for policy in role.get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            found |= {a for a in actions if isinstance(a, str) and a.startswith(prefix)}
    return found


def test_both_output_what_the_other_account_must_create():
    sam = load_template()["Outputs"]
    assert sam["DeployerRoleArn"]["Value"] == {"Fn::GetAtt": ["DeployerRole", "Arn"]}
    sam_snippet = sam["StageAccountSnippet"]["Value"]["Fn::Sub"]
    tf = {k: v for b in terraform_module()["output"] for k, v in b.items()}
    assert tf["deployer_role_arn"]["value"] == "${aws_iam_role.deployer.arn}"
    tf_snippet = tf["stage_account_snippet"]["value"]
    for snippet, role in ((sam_snippet, "${DeployerRole.Arn}"), (tf_snippet, "${aws_iam_role.deployer.arn}")):
        # (1) the role trusts the deployer's role, and (2) the repository lets the other account's
        # Lambda (and the role) pull.
        assert '"Principal":{"AWS":"' + role + '"},"Action":"sts:AssumeRole"' in snippet, snippet
        assert '"Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]' in snippet
        assert ":OTHER_ACCOUNT:function:*" in snippet and "iam::OTHER_ACCOUNT:root" in snippet
        # The role's permissions name every Lambda and CloudWatch action the deployer's own policy
        # grants (read from the template, so a new grant there fails here until the snippet has it).
        for a in sorted(_deployer_actions("lambda:") | _deployer_actions("cloudwatch:")):
            name = a.split(":", 1)[1]
            assert re.search(rf"\b{name}\b", snippet), f"{a} missing from the snippet"
        # Each JSON document in it parses (placeholders aside).
        for doc in re.findall(r"\{\"Version\".*?\]\}(?=\s|$)", snippet):
            json.loads(doc.replace(role, "arn:aws:iam::123456789012:role/d"))


def test_the_stack_lists_its_stage_roles_in_the_parameters_it_is_tested_with():
    params = dict(PARAMS, StageRoleArns="arn:aws:iam::210987654321:role/deployer-prod")
    policy = _sam_stage_policy(params)
    assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == {"Ref": "StageRoleArns"}
