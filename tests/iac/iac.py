"""Helpers shared by the infrastructure checks: the SAM template translated offline, the
Terraform module parsed, and sample ECR events."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
MODULE = ROOT / "terraform" / "modules" / "self-deployer"
PLACEHOLDER_CODE = "s3://self-deployer-artifacts/bootstrap.zip"

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARAMS = {
    "TargetsJson": json.dumps([{"repository": "api", "functions": ["api-dev", "api-prod"]},
                               {"repository": "web", "functions": ["web"]}]),
    "TargetRepositories": "api,web",
    "TargetRepositoryArns": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/api,arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web",
    "TargetFunctionArns": ",".join(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{f}" for f in ["api-dev", "api-prod", "web"]),
}


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation short tags (!Ref, !Sub, ...)."""


def _tag(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def translate(params: dict | None = None) -> dict:
    """The SAM template as CloudFormation, translated offline (samtranslator's transform with an
    empty managed-policy loader; the local CodeUri replaced by an s3:// placeholder)."""
    import os

    from samtranslator.translator.transform import transform

    # The translator resolves pseudo parameters through a boto session: give it a region offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

    class NoManagedPolicies:
        def load(self):
            return {}

    template = copy.deepcopy(load_template())
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = PLACEHOLDER_CODE
    return transform(template, params or PARAMS, NoManagedPolicies())


def load_hcl(path: Path) -> dict:
    """A .tf file as python-hcl2 sees it, with plain strings (no quotes, no block markers)."""
    import hcl2
    from hcl2.utils import SerializationOptions

    opts = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    with path.open() as f:
        return hcl2.load(f, serialization_options=opts)


def terraform_module() -> dict:
    """All .tf files of the module, parsed by python-hcl2 and merged by block type."""
    merged: dict = {}
    for tf in sorted(MODULE.glob("*.tf")):
        parsed = load_hcl(tf)
        for key, blocks in parsed.items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def tf_resource(tf: dict, rtype: str, name: str) -> dict:
    for block in tf.get("resource", []):
        if rtype in block and name in block[rtype]:
            return block[rtype][name]
    raise KeyError(f"{rtype}.{name} not in the module")


def ecr_event(repo: str, action: str = "PUSH", result: str = "SUCCESS") -> dict:
    return {
        "version": "0", "id": "1", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-26T07:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": {"result": result, "repository-name": repo, "action-type": action,
                   "image-digest": "sha256:" + "a" * 64, "image-tag": "v1"},
    }
