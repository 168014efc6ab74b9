"""Helpers shared by the infrastructure checks: the SAM template translated offline, the
Terraform module parsed, and sample ECR and CloudWatch alarm events."""

from __future__ import annotations

import copy
import json
import re
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
    "RolloutJson": json.dumps({"steps": [10, 50], "interval_secs": 300, "alarms": ["api-5xx"], "max_error_rate": 0.05}),
    "RolloutAlarmArns": ",".join(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{a}" for a in ["api-5xx", "api-latency"]),
}
# The same stack without rollout alarms (nor a default rollout): no alarm rule.
PARAMS_NO_ALARMS = {k: v for k, v in PARAMS.items() if k not in ("RolloutJson", "RolloutAlarmArns")}


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


def alarm_event(name: str, state: str = "ALARM", previous: str = "OK", *, account: str = ACCOUNT,
                region: str = REGION, composite: bool = False) -> dict:
    """A "CloudWatch Alarm State Change" event as CloudWatch sends it to the default bus (the shape
    of the samples in the CloudWatch user guide, "Alarm events and EventBridge")."""
    arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    if composite:
        configuration = {"alarmRule": "ALARM(api-5xx) OR ALARM(api-latency)", "actionsSuppressor": "",
                         "actionsSuppressorWaitPeriod": 0, "actionsSuppressorExtensionPeriod": 0}
    else:
        configuration = {
            "description": f"{name} of the canary",
            "metrics": [{
                "id": "m1",
                "metricStat": {
                    "metric": {"namespace": "AWS/Lambda", "name": "Errors",
                               "dimensions": {"FunctionName": "api-dev", "Resource": "api-dev:live"}},
                    "period": 60, "stat": "Sum",
                },
                "returnData": True,
            }],
        }
    return {
        "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": account, "time": "2026-11-26T07:04:40Z", "region": region,
        "resources": [arn],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": f"Threshold Crossed: went to {state}",
                      "reasonData": "{\"version\":\"1.0\",\"queryDate\":\"2026-11-26T07:04:40.985+0000\"}",
                      "timestamp": "2026-11-26T07:04:40.985+0000"},
            "previousState": {"value": previous, "reason": "Threshold Crossed", "timestamp": "2026-11-26T06:59:40.985+0000"},
            "configuration": configuration,
        },
    }


def src_text(*parts: str) -> str:
    """A source file of the engine (the IaC must agree with it)."""
    return ROOT.joinpath("src", *parts).read_text()


def engine_env_vars() -> set[str]:
    """Every DEPLOYER_* variable the engine reads (the *_VAR constants of src/config/mod.rs, and of
    src/config/fleet.rs for the fleet's)."""
    text = src_text("config", "mod.rs") + src_text("config", "fleet.rs")
    return set(re.findall(r'pub const [A-Z_]+_VAR: &str = "(DEPLOYER_[A-Z_]+)";', text))


def hcl_value(text: str):
    """An HCL expression as python-hcl2 renders it (e.g. a jsonencode argument), as Python: object
    and tuple literals become dicts and lists, quoted strings lose their quotes (interpolations
    kept as written), anything else (references, for expressions, calls) stays as its source text.
    Enough to read the policies and patterns of the module structurally."""
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        inner = text[2:-1].strip()
        if inner.startswith("jsonencode(") and inner.endswith(")"):
            text = inner[len("jsonencode("):-1]
    value, rest = _hcl(text, 0)
    assert text[rest:].strip() == "", f"unparsed HCL: {text[rest:]!r}"
    return value


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def _hcl(s: str, i: int):
    i = _skip(s, i)
    if s.startswith("{", i) and not re.match(r"\{\s*for\s", s[i:]):
        obj, i = {}, _skip(s, i + 1)
        while not s.startswith("}", i):
            key, i = _hcl_key(s, i)
            i = _skip(s, i)
            assert s[i] in "=:", f"expected = after {key!r} in {s[i:i + 40]!r}"
            obj[key], i = _hcl(s, i + 1)
            i = _skip(s, i)
            if s.startswith(",", i):
                i = _skip(s, i + 1)
        return obj, i + 1
    if s.startswith("[", i) and not re.match(r"\[\s*for\s", s[i:]):
        items, i = [], _skip(s, i + 1)
        while not s.startswith("]", i):
            item, i = _hcl(s, i)
            items.append(item)
            i = _skip(s, i)
            if s.startswith(",", i):
                i = _skip(s, i + 1)
        return items, i + 1
    if s.startswith('"', i):
        end = _string_end(s, i)
        if _skip(s, end) >= len(s) or s[_skip(s, end)] in ",}]":
            return s[i + 1:end - 1].replace('\\"', '"'), end
    # Anything else: up to the next comma or closing bracket at this depth.
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == '"':
            j = _string_end(s, j)
            continue
        if c in "{[(":
            depth += 1
        elif c in "}])":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        j += 1
    assert j > i, f"unexpected {s[i:i + 40]!r}"
    return s[i:j].strip(), j


def _hcl_key(s: str, i: int):
    if s.startswith('"', i):
        end = _string_end(s, i)
        return s[i + 1:end - 1], end
    m = re.compile(r"[A-Za-z0-9_-]+").match(s, i)
    assert m, f"expected a key at {s[i:i + 40]!r}"
    return m.group(0), m.end()


def _string_end(s: str, i: int) -> int:
    """The index after the closing quote of the string starting at s[i] (interpolations may nest quotes)."""
    j, depth = i + 1, 0
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s.startswith("${", j):
            depth += 1
            j += 2
            continue
        if depth and s[j] == '"':
            j = _string_end(s, j)  # a string inside an interpolation
            continue
        if s[j] == "{" and depth:
            depth += 1
        elif s[j] == "}" and depth:
            depth -= 1
        elif s[j] == '"' and not depth:
            return j + 1
        j += 1
    raise AssertionError(f"unterminated string at {s[i:i + 40]!r}")
