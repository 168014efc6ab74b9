"""The fan-out's infrastructure, the same in template.yaml and terraform/: reserved concurrency and
DEPLOYER_INLINE_MAX are a parameter / variable with the same defaults and bounds, and the deployer
may invoke itself (unqualified) and nothing else beyond its target functions."""

import json

import pytest

from iac import PARAMS, load_template, terraform_module, tf_resource, translate
from test_least_privilege import _sam_statements, _tf_statements
from test_terraform import _sam_sym, _tf_sym

DEFAULTS = {"concurrency": 10, "inline_max": 8}


def _variables() -> dict:
    return {k: v for b in terraform_module()["variable"] for k, v in b.items()}


def test_concurrency_and_inline_max_are_parameters_with_the_same_defaults():
    params = load_template()["Parameters"]
    assert (params["ReservedConcurrency"]["Type"], params["ReservedConcurrency"]["Default"]) == ("Number", DEFAULTS["concurrency"])
    assert (params["InlineMax"]["Type"], params["InlineMax"]["Default"]) == ("Number", DEFAULTS["inline_max"])
    assert params["ReservedConcurrency"]["MinValue"] == params["InlineMax"]["MinValue"] == 1
    variables = _variables()
    assert variables["reserved_concurrency"]["default"] == DEFAULTS["concurrency"]
    assert variables["inline_max"]["default"] == DEFAULTS["inline_max"]
    for name in ("reserved_concurrency", "inline_max"):
        assert f"var.{name} >= 1" in json.dumps(variables[name]["validation"]), name
    # The engine's own default is the template's (src/config/mod.rs).
    from iac import src_text
    assert f"pub const DEFAULT_INLINE_MAX: usize = {DEFAULTS['inline_max']};" in src_text("config", "mod.rs")


def test_the_function_uses_them():
    fn = translate()["Resources"]["DeployerFunction"]["Properties"]
    assert fn["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert fn["Environment"]["Variables"]["DEPLOYER_INLINE_MAX"] == {"Ref": "InlineMax"}
    tf_fn = tf_resource(terraform_module(), "aws_lambda_function", "deployer")
    assert tf_fn["reserved_concurrent_executions"] == "${var.reserved_concurrency}"
    assert tf_fn["environment"][0]["variables"]["DEPLOYER_INLINE_MAX"] == "${tostring(var.inline_max)}"


def _invoke_grants(statements: list[dict]) -> dict[str, list]:
    return {s["Sid"]: (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            for s in statements
            if "lambda:InvokeFunction" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


@pytest.mark.parametrize("where", ["template.yaml", "terraform"])
def test_the_deployer_may_invoke_its_targets_and_itself_only(where):
    deployer = "arn:<partition>:lambda:<region>:<account>:function:<name>"
    if where == "template.yaml":
        grants = _invoke_grants(_sam_statements())
        itself = [_sam_sym(r) for r in grants["DispatchToItself"]]
    else:
        grants = _invoke_grants(_tf_statements())
        itself = [_tf_sym(r) for r in grants["DispatchToItself"]]
    assert sorted(grants) == ["DeployTargetFunctions", "DispatchToItself"], "smoke tests, and the fan-out"
    assert itself == [deployer], "itself, unqualified, nothing else"


def test_both_grant_the_same_dispatch_statement():
    sam = {s["Sid"]: s for s in _sam_statements()}
    tf = {s["Sid"]: s for s in _tf_statements()}
    assert _tf_sym(tf["DispatchToItself"]) == _sam_sym(sam["DispatchToItself"])


def test_the_stack_grants_dispatch_to_the_deployer_itself(moto):
    """As created in the emulator: the statement names the deployer's own ARN."""
    from test_sam import _role_policies, _stack

    stack = _stack(moto)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    _, docs = _role_policies(moto.client("iam"), "self-deployer-DeployerRole")
    by_sid = {s["Sid"]: s for d in docs.values() for s in d["Statement"]}
    assert (by_sid["DispatchToItself"]["Action"], by_sid["DispatchToItself"]["Resource"]) == (
        "lambda:InvokeFunction", outputs["DeployerFunctionArn"])
    env = moto.client("lambda").get_function(FunctionName="self-deployer")["Configuration"]["Environment"]["Variables"]
    assert str(env["DEPLOYER_INLINE_MAX"]) == str(DEFAULTS["inline_max"])  # moto keeps the Number
    assert PARAMS.get("InlineMax") is None, "the default, as installed"


# The fleet's variables: the same defaults and bounds as the engine's (src/config/fleet.rs).
FLEET = {
    "DEPLOYER_CONTROL_PLANE_RPS": ("ControlPlaneRps", "control_plane_rps", 10, 1, 15),
    "DEPLOYER_FLEET_REPORT_SECS": ("FleetReportSeconds", "fleet_report_seconds", 900, 60, 86400),
}


def test_the_fleet_variables_are_parameters_with_the_engines_defaults_and_bounds():
    from iac import src_text
    params = load_template()["Parameters"]
    variables = _variables()
    fleet_rs = src_text("config", "fleet.rs")
    assert "pub const DEFAULT_CONTROL_PLANE_RPS: u32 = 10;" in fleet_rs
    assert "pub const MAX_CONTROL_PLANE_RPS: usize = 15;" in fleet_rs
    assert "pub const DEFAULT_FLEET_REPORT_SECS: usize = 900;" in fleet_rs
    for var, (param, tf, default, lo, hi) in FLEET.items():
        p = params[param]
        assert (p["Type"], p["Default"], p["MinValue"], p["MaxValue"]) == ("Number", default, lo, hi), var
        assert variables[tf]["default"] == default, var
        rule = json.dumps(variables[tf]["validation"])
        assert f"var.{tf} >= {lo}" in rule and f"var.{tf} <= {hi}" in rule, var
    p = params["NotifyFleet"]
    assert (p["Default"], p["AllowedValues"]) == ("summary", ["summary", "each"])
    assert variables["notify_fleet"]["default"] == "summary"
    assert '["summary", "each"]' in json.dumps(variables["notify_fleet"]["validation"]).replace('\\"', '"')


def test_the_function_gets_the_fleet_variables_in_both():
    env = translate()["Resources"]["DeployerFunction"]["Properties"]["Environment"]["Variables"]
    tf_env = tf_resource(terraform_module(), "aws_lambda_function", "deployer")["environment"][0]["variables"]
    for var, (param, tf, *_rest) in FLEET.items():
        assert env[var] == {"Ref": param}, var
        assert tf_env[var] == f"${{tostring(var.{tf})}}", var
    assert env["DEPLOYER_NOTIFY_FLEET"] == {"Ref": "NotifyFleet"}
    assert tf_env["DEPLOYER_NOTIFY_FLEET"] == "${var.notify_fleet}"
