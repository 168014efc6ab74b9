"""Fan-out end to end: the real binary, a push for 20 functions (more than DEPLOYER_INLINE_MAX),
dispatched as 20 asynchronous Invokes of the deployer that a recorder in front of moto observes;
then one recorded payload is handed back to the binary, as Lambda's queue would, and deploys."""

import time

import pytest

from harness import ACCOUNT, REGION, World, ecr_event
from invoke_recorder import InvokeRecorder

DEPLOYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer"
OK = {"statusCode": 200, "body": "ok"}
NAMES = [f"fn-{i:02}" for i in range(1, 21)]


def fleet(world: World) -> tuple[str, str, list]:
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    for f in NAMES:
        world.function(f, "api", good)
    new = world.push_image("api", "v2", "release 2")
    return good, new, [{"repository": "api", "functions": NAMES}]


@pytest.fixture
def recorder(moto):
    started = []

    def start(refuse=frozenset()):
        r = InvokeRecorder(moto.endpoint, DEPLOYER, refuse)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def test_a_push_for_20_functions_is_dispatched_and_a_payload_deploys(world, recorder):
    good, new, targets = fleet(world)
    rec = recorder()
    t = time.perf_counter()
    run = world.handle(ecr_event("api", new, "v2", time_="2026-11-26T07:00:00Z"), targets, via=rec,
                       DEPLOYER_FUNCTION_ARN=DEPLOYER)
    took = time.perf_counter() - t
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "dispatched", run.report
    assert [d["outcome"] for d in run.report["deployments"]] == ["dispatched"] * 20
    assert sorted(d["function"] for d in run.report["deployments"]) == NAMES
    # The 20 payloads, exactly; and nothing deployed by this run.
    uri = World.image_uri("api", new)
    assert sorted(rec.queued, key=lambda p: p["function"]) == [
        {"action": "deploy", "function": f, "image_uri": uri, "pushed": "2026-11-26T07:00:00Z", "tag": "v2"}
        for f in NAMES
    ]
    assert "UpdateFunctionCode" not in rec.ops() and "UpdateAlias" not in rec.ops()
    assert all(world.alias_version(f) == "1" for f in NAMES)
    assert world.messages() == [], "each function's own run notifies; the dispatch does not"
    print(f"dispatch of 20 through the binary: {took:.2f} s wall (process start to exit)")

    # Lambda's queue hands one payload to the deployer: an ordinary deployment of that function.
    payload = next(p for p in rec.queued if p["function"] == "fn-05")
    world.moto.queue_invoke_results(OK)
    one = world.handle(payload, targets, DEPLOYER_FUNCTION_ARN=DEPLOYER)
    assert one.code == 0, one.stderr
    assert one.report["outcome"] == "deployed", one.report
    assert [d["function"] for d in one.report["deployments"]] == ["fn-05"]
    assert world.alias_version("fn-05") == "2"
    assert world.latest_image("fn-05") == uri
    desc = world.version_config("fn-05", "2")["Configuration"]["Description"]
    assert desc == f"self-deployer digest={new} previous=1 pushed=2026-11-26T07:00:00Z tag=v2"
    assert world.alias_version("fn-06") == "1" and world.latest_image("fn-06") == World.image_uri("api", good)
    subjects = [e["Subject"] for e in world.envelopes()]
    assert subjects == ["DEPLOYED fn-05 v2 (v2)"]


def test_functions_that_cannot_be_dispatched_are_reported_and_the_rest_sent(world, recorder):
    _, new, targets = fleet(world)
    rec = recorder(refuse={"fn-07"})
    run = world.handle(ecr_event("api", new, "v2"), targets, via=rec, DEPLOYER_FUNCTION_ARN=DEPLOYER)
    assert run.code != 0, "a demanding caller gets a non-zero exit when some were not sent"
    assert run.report["outcome"] == "failed"
    assert run.report["reason"] == ("1 of 20 could not be dispatched (fn-07); 19 were dispatched and "
                                    "deploy in their own runs")
    failed = [d for d in run.report["deployments"] if d["outcome"] == "failed"]
    assert [d["function"] for d in failed] == ["fn-07"]
    assert "TooManyRequestsException" in failed[0]["reason"], failed[0]
    assert sorted(p["function"] for p in rec.queued) == [f for f in NAMES if f != "fn-07"]
    assert rec.refused and {p["function"] for p in rec.refused} == {"fn-07"}, "retried by the SDK, then given up"


def test_without_a_function_arn_the_cli_says_what_to_set_and_sends_nothing(world, recorder):
    _, new, targets = fleet(world)
    rec = recorder()
    run = world.handle(ecr_event("api", new, "v2"), targets, via=rec)
    assert run.code != 0
    assert "set DEPLOYER_FUNCTION_ARN" in run.report["reason"]
    assert rec.queued == [] and "Invoke" not in rec.ops()
