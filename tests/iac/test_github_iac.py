"""GitHub deployments in the IaC (issue 27): secretsmanager:GetSecretValue on the one configured
secret only, in a policy of its own that exists only when a secret is set (a parameter in SAM, a
variable in Terraform); the same two environment variables on both sides; Terraform's targets know
the `github` field the engine reads."""

import json
import re

from iac import hcl_value, load_template, src_text, terraform_module, tf_resource, translate


def test_sam_grants_the_one_secret_only_and_only_when_set():
    t = load_template()
    param = t["Parameters"]["GitHubTokenSecretArn"]
    assert (param["Type"], param["Default"]) == ("String", "")
    assert re.fullmatch(param["AllowedPattern"], "")
    assert re.fullmatch(param["AllowedPattern"], "arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf")
    assert not re.fullmatch(param["AllowedPattern"], "*")
    assert t["Conditions"]["HasGitHub"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "GitHubTokenSecretArn"}, ""]}]}
    policy = translate()["Resources"]["GitHubTokenPolicy"]
    assert policy["Condition"] == "HasGitHub"
    assert policy["Properties"]["Roles"] == [{"Ref": "DeployerRole"}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Sid": "ReadGitHubToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": {"Ref": "GitHubTokenSecretArn"}}]
    own = translate()["Resources"]["DeployerRole"]["Properties"]["Policies"]
    assert "secretsmanager:" not in json.dumps(own)
    env = t["Resources"]["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DEPLOYER_GITHUB_TOKEN_SECRET_ARN"] == {"Ref": "GitHubTokenSecretArn"}
    assert env["DEPLOYER_GITHUB_API_URL"] == {"Ref": "GitHubApiUrl"}
    assert t["Parameters"]["GitHubApiUrl"]["Default"] == "https://api.github.com"


def test_terraform_grants_the_one_secret_only_and_only_when_set():
    tf = terraform_module()
    policy = tf_resource(tf, "aws_iam_role_policy", "github")
    assert policy["count"] == "${var.github_token_secret_arn == null ? 0 : 1}"
    assert policy["role"] == "${aws_iam_role.deployer.id}"
    assert hcl_value(policy["policy"])["Statement"] == [
        {"Sid": "ReadGitHubToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": "var.github_token_secret_arn"}]
    own = json.dumps(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])
    assert "secretsmanager:" not in own
    variables = {k: v for b in tf["variable"] for k, v in b.items()}
    assert variables["github_token_secret_arn"]["default"] is None
    assert variables["github_api_url"]["default"] == "https://api.github.com"
    env = tf_resource(tf, "aws_lambda_function", "deployer")["environment"][0]["variables"]
    assert "var.github_token_secret_arn" in env["DEPLOYER_GITHUB_TOKEN_SECRET_ARN"]
    assert env["DEPLOYER_GITHUB_API_URL"] == "${var.github_api_url}"
    # The targets' type knows the github fields the engine reads (src/config/github.rs), and the
    # rendering drops their nulls (an unset environment must not reach the engine as null).
    target_type = variables["targets"]["type"]
    github = target_type[target_type.index("github"):]
    rs = src_text("config", "github.rs")
    struct = rs[rs.index("pub struct GitHubTarget {"):]
    fields = set(re.findall(r"pub (\w+):", struct[:struct.index("\n}")]))
    assert fields == {"repository", "environment"}
    for f in fields:
        assert re.search(rf"\b{f}\s*=", github), f"Terraform's github lacks {f}"
    locals_ = {k: v for b in tf["locals"] for k, v in b.items()}
    assert "github = t.github" in locals_["targets_json"]


def _statement(statements, sid):
    return next(s for s in statements if s.get("Sid") == sid)


def test_every_repositorys_image_labels_are_readable_with_or_without_github():
    """Lead time counts from the image's created label for every target (src/ops/labels.rs reads
    it for every deployment): BatchGetImage and GetDownloadUrlForLayer on every configured
    repository, in the deployer's own policy, never only when GitHub is configured."""
    wanted = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    own = translate()["Resources"]["DeployerRole"]["Properties"]["Policies"]
    sam = _statement([s for p in own for s in p["PolicyDocument"]["Statement"]], "ReadTargetImages")
    assert wanted <= set(sam["Action"]) and "Condition" not in sam
    assert sam["Resource"] == {"Ref": "TargetRepositoryArns"}
    tf = terraform_module()
    policy = hcl_value(tf_resource(tf, "aws_iam_role_policy", "deployer")["policy"])
    terraform = _statement(policy["Statement"], "ReadTargetImages")
    assert wanted <= set(terraform["Action"]) and "Condition" not in terraform
    assert "local.repositories" in json.dumps(terraform["Resource"])
    # The read itself asks nothing of the target: it is not GitHub's.
    pipeline = src_text("pipeline", "mod.rs")
    body = pipeline[pipeline.index("async fn labels("):]
    body = body[:body.index("\n}\n")]
    assert "ctx.labels.of(" in body and "github" not in body
