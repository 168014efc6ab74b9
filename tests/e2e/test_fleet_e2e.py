"""Fleets end to end: the real binary, 30 functions (more than one run per function), every AWS
call of every run through a proxy that enforces Lambda's account-wide rates as Lambda does (15
control-plane requests a second, 429 with Retry-After beyond: rate_limit.py). The push is
dispatched in 8 batches, each batch's run is started as Lambda's queue would (all at once, each
its own process), every function deploys and none fails; the summary check (a one-time schedule,
played by the test as EventBridge Scheduler would) sends one message. Then the fleet is rolled back
with one command, through the same proxy, and summarised once more."""

import json
from concurrent.futures import ThreadPoolExecutor

from harness import ACCOUNT, REGION, World, ecr_event
from rate_limit import RateLimitedRecorder

DEPLOYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/self-deployer-scheduler"
GROUP = "self-deployer-fleet"
OK = {"statusCode": 200, "body": "ok"}


def fleet(world: World, n: int) -> tuple[list[str], str, list]:
    names = [f"fl-{i:02}" for i in range(1, n + 1)]
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    for f in names:
        world.function(f, "api", good)
    new = world.push_image("api", "v2", "release 2")
    world.moto.client("scheduler").create_schedule_group(Name=GROUP)
    return names, new, [{"repository": "api", "functions": names}]


def env(**extra: str) -> dict:
    return {"DEPLOYER_FUNCTION_ARN": DEPLOYER, "DEPLOYER_SCHEDULER_ROLE_ARN": ROLE,
            "DEPLOYER_SCHEDULE_GROUP": GROUP, **extra}


def play(world: World, payloads: list[dict], targets: list, proxy, **extra: str) -> list:
    """Lambda's queue: every payload its own run, all at once (reserved concurrency 10)."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(lambda p: world.handle(p, targets, via=proxy, timeout=300, **env(**extra)),
                             payloads))


def fire_only_schedule(world: World, targets: list, proxy) -> dict:
    """EventBridge Scheduler: the one pending schedule's input handed to the deployer, the
    schedule deleted (ActionAfterCompletion DELETE)."""
    sched = world.moto.client("scheduler")
    names = [s["Name"] for s in sched.list_schedules(GroupName=GROUP)["Schedules"]]
    assert len(names) == 1, names
    s = sched.get_schedule(GroupName=GROUP, Name=names[0])
    assert s["ActionAfterCompletion"] == "DELETE"
    sched.delete_schedule(GroupName=GROUP, Name=names[0])
    run = world.handle(json.loads(s["Target"]["Input"]), targets, via=proxy, **env())
    assert run.code == 0, run.stderr
    return run.report


def outcomes(runs: list) -> list[str]:
    for r in runs:
        assert r.report is not None, r.stderr
    return [d["outcome"] for r in runs for d in r.report["deployments"]]


def test_thirty_functions_at_lambdas_rate_deploy_roll_back_and_are_summarised_once(world):
    names, new, targets = fleet(world, 30)
    proxy = RateLimitedRecorder(world.moto.endpoint, DEPLOYER, rate=15)
    try:
        run = world.handle(ecr_event("api", new, "v2"), targets, via=proxy, **env())
        assert run.code == 0, run.stderr
        assert run.report["outcome"] == "dispatched", run.report
        batches = list(proxy.queued)
        assert len(batches) == 8 and all(p["action"] == "deploy_batch" for p in batches)
        assert sorted(f for p in batches for f in p["functions"]) == names
        assert all(p["runs"] == 8 and p["summary"] for p in batches)

        world.moto.queue_invoke_results(*[OK] * 30)
        runs = play(world, batches, targets, proxy)
        assert all(r.code == 0 for r in runs), [r.stderr[-2000:] for r in runs if r.code]
        assert outcomes(runs) == ["deployed"] * 30
        assert all(world.alias_version(f) == "2" for f in names)
        assert world.envelopes() == [], "successes wait for the summary"

        summary = fire_only_schedule(world, targets, proxy)
        assert summary["reason"] == "DEPLOYED api v2 to 30 of 30 functions", summary
        assert [e["Subject"] for e in world.envelopes()] == ["DEPLOYED api v2 to 30 of 30 functions"]

        # The whole fleet back, with one command, through the same limits.
        before = len(proxy.queued)
        run = world.cli(["rollback", "--repository", "api", "--reason", "e2e"], targets, via=proxy, **env())
        assert run.code == 0, run.stderr
        assert run.report["outcome"] == "dispatched", run.report
        rollbacks = proxy.queued[before:]
        assert len(rollbacks) == 8 and all(p["action"] == "rollback_batch" for p in rollbacks)
        runs = play(world, rollbacks, targets, proxy)
        assert outcomes(runs) == ["rolled_back"] * 30
        assert all(world.alias_version(f) == "1" for f in names)
        summary = fire_only_schedule(world, targets, proxy)
        assert summary["reason"] == "ROLLED BACK api on 30 of 30 functions", summary
        assert [e["Subject"] for e in world.envelopes()] == ["ROLLED BACK api on 30 of 30 functions"]
        print(f"control-plane calls served {proxy.served['control']}, answered 429 {proxy.throttled['control']}")
    finally:
        proxy.stop()


def test_throttles_beyond_the_budget_are_waited_out_and_counted(world):
    """The account's rate mostly used by someone else (4 a second left), the SDK's retries as in
    production: every 429 with Retry-After is left to the deployer's budget (not sent again at once
    by the SDK), which waits what Lambda asks; no function fails, and the reports count exactly the
    429s the proxy answered."""
    names, new, targets = fleet(world, 22)
    proxy = RateLimitedRecorder(world.moto.endpoint, DEPLOYER, rate=4)
    try:
        run = world.handle(ecr_event("api", new, "v2"), targets, via=proxy, **env())
        assert run.code == 0, run.stderr
        world.moto.queue_invoke_results(*[OK] * 22)
        runs = play(world, list(proxy.queued), targets, proxy)
        assert outcomes(runs) == ["deployed"] * 22
        assert all(world.alias_version(f) == "2" for f in names)
        counted = sum(r.report.get("throttles", 0) for r in [run, *runs])
        assert proxy.throttled["control"] > 0, "the proxy throttled"
        assert counted == proxy.throttled["control"] + proxy.throttled["get_function"]
        print(f"429s answered {proxy.throttled}, counted in reports {counted}")
    finally:
        proxy.stop()
