"""End to end under faults: the binary talks to moto through a FaultProxy that loses answers,
never answers, or fails calls; the test sets up and inspects AWS directly against moto.

A lost answer means AWS applied the call but the SDK never heard back and retries it. Real Lambda
then refuses the retry of a guarded update (412 PreconditionFailedException: the lost attempt
changed the RevisionId); moto does not, so the proxy keeps RevisionIds as Lambda does (see
fault_proxy.py). Moto's other gaps (no InProgress, Invoke ignores the Qualifier) do not matter here.
"""

import json
import re
import subprocess

import pytest

from fault_proxy import Rule
from harness import World, ecr_event, why

OK = {"statusCode": 200, "body": "ok"}
F = "api-dev"
TARGETS = [{"repository": "api", "functions": [F]}]


def live_on_1(world: World):
    """api-dev: version 1 runs release 1, alias `live` on it; release 2 pushed. Returns digests."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function(F, "api", d1)
    d2 = world.push_image("api", "v2", "release 2")
    return d1, d2


def live_on_2(world: World):
    """api-dev: versions 1 and 2 (releases 1 and 2), alias `live` on 2, set up directly."""
    d1, d2 = live_on_1(world)
    lam = world.moto.client("lambda")
    lam.update_function_code(FunctionName=F, ImageUri=World.image_uri("api", d2))
    assert lam.publish_version(FunctionName=F)["Version"] == "2"
    lam.update_alias(FunctionName=F, Name="live", FunctionVersion="2")
    return d1, d2


def applied(proxy, op: str) -> int:
    """How many `op` requests reached moto (answered or not)."""
    return sum(1 for s in proxy.seen if s.op == op and s.action in ("forwarded", "lose"))


def test_without_faults_the_proxy_is_transparent(world, fault_proxy):
    _, new = live_on_1(world)
    world.moto.queue_invoke_results(OK)
    proxy = fault_proxy()
    run = world.handle(ecr_event("api", new, "v2"), TARGETS, via=proxy)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    assert world.alias_version(F) == "2"
    run = world.handle({"action": "rollback", "function": F}, TARGETS, via=proxy)
    assert (run.code, run.report["outcome"]) == (0, "rolled_back"), why(run)
    assert world.alias_version(F) == "1"
    assert proxy.fired() == []
    assert {"GetAlias", "UpdateFunctionCode", "Invoke", "PublishVersion", "UpdateAlias"} <= set(proxy.ops())
    assert "no RevisionId" not in run.stderr


def test_rollback_whose_alias_answer_is_lost_is_rolled_back_once(world, fault_proxy):
    live_on_2(world)
    proxy = fault_proxy(Rule("UpdateAlias", "lose"))
    run = world.handle({"action": "rollback", "function": F}, TARGETS, via=proxy)

    assert [s.action for s in proxy.fired()][:1] == ["lose"], proxy.seen
    assert run.code == 0, why(run)
    assert run.report["outcome"] == "rolled_back", why(run)
    assert run.report["deployments"][0]["version"] == "1"
    assert world.alias_version(F) == "1"
    assert applied(proxy, "UpdateAlias") == 1, f"the alias was moved more than once: {proxy.seen}"


def test_deploy_whose_alias_answer_is_lost_is_deployed(world, fault_proxy):
    _, new = live_on_1(world)
    world.moto.queue_invoke_results(OK)
    proxy = fault_proxy(Rule("UpdateAlias", "lose"))
    run = world.handle(ecr_event("api", new, "v2"), TARGETS, via=proxy)

    assert [s.action for s in proxy.fired()][:1] == ["lose"], proxy.seen
    assert run.code == 0, why(run)
    d = run.report["deployments"][0]
    assert (run.report["outcome"], d["outcome"]) == ("deployed", "deployed"), why(run)
    assert d["version"] == "2"
    assert world.alias_version(F) == "2"
    assert world.latest_image(F) == World.image_uri("api", new)
    assert applied(proxy, "UpdateAlias") == 1, proxy.seen


def test_deploy_whose_code_update_answer_is_lost_never_claims_nothing_was_updated(world, fault_proxy):
    old, new = live_on_1(world)
    world.moto.queue_invoke_results(OK)
    proxy = fault_proxy(Rule("UpdateFunctionCode", "lose"))
    run = world.handle(ecr_event("api", new, "v2"), TARGETS, via=proxy)

    assert [s.action for s in proxy.fired()][:1] == ["lose"], proxy.seen
    assert run.report is not None, why(run)
    assert "nothing was updated" not in json.dumps(run.report), why(run)
    d = run.report["deployments"][0]
    if d["outcome"] == "deployed":
        assert run.code == 0, why(run)
        assert world.alias_version(F) == d["version"] == "2"
        assert world.latest_image(F) == World.image_uri("api", new)
    else:
        assert d["outcome"] == "failed", why(run)
        assert d.get("latest_restore"), f"$LATEST was changed but the report says nothing of restoring it\n{why(run)}"
        assert world.latest_image(F) == World.image_uri("api", old), d["latest_restore"]
        assert world.alias_version(F) == "1"


def test_a_call_that_never_answers_times_out_and_fails_the_run(world, fault_proxy):
    _, new = live_on_1(world)
    # Every GetFunction after the update hangs: one hung attempt alone would be retried and pass.
    proxy = fault_proxy(Rule("GetFunction", "hang", nth=None, after="UpdateFunctionCode"))
    try:
        run = world.handle(ecr_event("api", new, "v2"), TARGETS, via=proxy, timeout=90,
                           DEPLOYER_API_TIMEOUT_SECS="2", AWS_MAX_ATTEMPTS="2")
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        pytest.fail(f"the binary did not exit within 90 s (hung on {proxy.fired()[:1]}); stderr tail:\n{err[-2000:]}")

    assert "hang" in [s.action for s in proxy.fired()], proxy.seen
    assert run.report is not None, why(run)
    d = run.report["deployments"][0]
    assert (run.report["outcome"], d["outcome"]) == ("failed", "failed"), why(run)
    assert re.search(r"time[ds]? ?out", d["reason"], re.I), d["reason"]
    assert world.alias_version(F) == "1"


def test_an_event_from_the_future_is_refused_before_any_aws_call(world, fault_proxy):
    old, new = live_on_1(world)
    proxy = fault_proxy()
    run = world.handle(ecr_event("api", new, "v2", time_="2099-01-01T00:00:00Z"), TARGETS, via=proxy)

    assert run.code == 2, why(run)
    assert "payload.time" in run.stderr, run.stderr
    assert proxy.ops() == [], "AWS was called"
    assert world.alias_version(F) == "1"
    assert world.latest_image(F) == World.image_uri("api", old)
