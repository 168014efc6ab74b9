"""End to end: rollout verdicts (issue 26) on the real HTTP path, against moto, CloudWatch through
the CBOR proxy. A step with too little traffic holds past its interval, then rolls back or
proceeds; synthetic invocations reach Lambda as Invokes with the new version's number as qualifier
(seen by a FaultProxy in front of moto) and decide the step; the baseline gate passes a canary as
bad as its stable version and fails a clearly worse one; a p99 gate fails a slow canary;
report-only changes nothing but the report; an unreadable gate still fails.

Time is simulated as in test_rollout_e2e.py: `fire(..., later_by=N)` sends a check's payload with
`started` moved N seconds back (see rollouts.py).
"""

import datetime as dt
import json

import pytest

from fault_proxy import FaultProxy
from harness import World, ecr_event, why
from rollouts import Rollouts, parse_time

OK = {"statusCode": 200, "body": "ok"}
BROKEN = {"statusCode": 500, "body": "broken"}
F = "api-dev"
BASE = {"steps": [10, 50], "interval_secs": 300, "check_secs": 60, "min_invocations": 20}
FIRST_CHECK, STEP_LASTED = 61, 301


def targets(**rollout) -> list:
    return [{"repository": "api", "functions": [F], "rollout": {**BASE, **rollout}}]


def rolling_out(world: World, r: Rollouts, t: list) -> tuple[str, dt.datetime]:
    """api-dev on version 1, release 2 pushed and at 10 %. Returns (digest 1, the step's start)."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function(F, "api", d1)
    d2 = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    run = r.handle(ecr_event("api", d2, "v2"), t)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    world.messages()
    started = parse_time(json.loads(r.only_schedule()["Target"]["Input"])["started"])
    return d1, started


def dep(run) -> dict:
    assert len(run.report["deployments"]) == 1, run.report
    return run.report["deployments"][0]


def subjects(world: World) -> list[str]:
    return [e["Subject"] for e in world.envelopes()]


@pytest.mark.parametrize("on_inconclusive", ["rollback", "proceed"])
def test_too_little_traffic_holds_past_the_interval_then_ends_as_configured(world, rollouts, on_inconclusive):
    r = rollouts
    t = targets(max_error_rate=0.05, max_wait_secs=600, on_inconclusive=on_inconclusive)
    _, started = rolling_out(world, r, t)
    r.version_metrics(F, "2", invocations=3, errors=0, at=started - dt.timedelta(seconds=30))
    # The step has lasted its interval, but 3 of 20 invocations is no evidence: it holds.
    run = r.fire(r.only_schedule(), t, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    info = dep(run)["rollout"]
    assert (info["verdict"], info["weight"], info["weight_changed"]) == ("inconclusive", 0.1, False)
    assert info["evidence"] == {"invocations": 3.0, "errors": 0.0, "min_invocations": 20, "synthetic": 0,
                                "synthetic_failed": 0}
    assert info["notice"] == "inconclusive"
    assert r.alias(F) == ("1", {"2": 0.1})
    assert subjects(world) == ["INCONCLUSIVE api-dev at 10%: 3 of 20 invocations"]
    # What was told travels with the step's next check, so it is told once.
    assert json.loads(r.only_schedule()["Target"]["Input"])["tally"]["told_inconclusive"] is True
    run = r.fire(r.only_schedule(), t, later_by=60)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    assert subjects(world) == []

    # max_wait_secs past the interval: the end, as configured, and told.
    run = r.fire(r.only_schedule(), t, later_by=600)
    if on_inconclusive == "rollback":
        assert run.code == 1, why(run)
        assert dep(run)["reason"] == ("inconclusive 600 s past the step's interval (3 of 20 invocations): "
                                      "on_inconclusive is rollback: rolled back to version 1")
        assert r.alias(F) == ("1", {})
        assert r.schedules() == []
        assert subjects(world) == ["FAILED api-dev at rollout 10%: rolled back to v1"]
    else:
        assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
        assert "on_inconclusive is proceed" in dep(run)["reason"]
        assert r.alias(F) == ("1", {"2": 0.5})
        assert subjects(world) == ["ROLLING OUT api-dev v2 (50%)"]


def test_synthetic_invocations_use_the_new_versions_number_and_decide_the_step(world, rollouts):
    r = rollouts
    t = targets(max_error_rate=0.05, min_invocations=5, synthetic={"max_per_check": 5, "payload": {"probe": 1}})
    _, started = rolling_out(world, r, t)
    world.moto.queue_invoke_results(*[OK] * 5)
    with FaultProxy(world.moto.endpoint, revisions=False) as lam:
        run = r.fire(r.only_schedule(), t, later_by=STEP_LASTED, AWS_ENDPOINT_URL=lam.endpoint)
        invokes = [s for s in lam.seen if s.op == "Invoke"]
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    assert len(invokes) == 5, lam.seen
    assert all("Qualifier=2" in s.query for s in invokes), [s.query for s in invokes]
    info = dep(run)["rollout"]
    assert info["verdict"] == "pass"
    assert (info["evidence"]["synthetic"], info["evidence"]["synthetic_failed"]) == (5, 0)
    # The synthetic evidence decided the step: it moved on at its interval.
    assert (info["step"], info["weight"]) == (2, 0.5)
    assert r.alias(F) == ("1", {"2": 0.5})


def test_failing_synthetic_invocations_roll_back(world, rollouts):
    r = rollouts
    t = targets(max_error_rate=0.05, min_invocations=5, synthetic={"max_per_check": 5})
    d1, _ = rolling_out(world, r, t)
    world.moto.queue_invoke_results(*[BROKEN] * 5)
    run = r.fire(r.only_schedule(), t, later_by=FIRST_CHECK)
    assert run.code == 1, why(run)
    d = dep(run)
    assert d["reason"] == "error rate 1.00 > 0.05 over 5 invocations: rolled back to version 1"
    assert d["rollout"]["evidence"]["synthetic_failed"] == 5
    assert r.alias(F) == ("1", {})


def test_the_baseline_gate_passes_a_canary_as_bad_as_its_stable_version(world, rollouts):
    r = rollouts
    t = targets(max_error_rate_increase=0.05)
    _, started = rolling_out(world, r, t)
    # The hotfix's incident: the stable version fails 20 %, and so does the new one.
    at = started - dt.timedelta(seconds=30)
    r.version_metrics(F, "1", invocations=1000, errors=200, at=at)
    r.version_metrics(F, "2", invocations=100, errors=20, at=at)
    run = r.fire(r.only_schedule(), t, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    info = dep(run)["rollout"]
    assert (info["verdict"], info["weight"]) == ("pass", 0.5)
    assert info["stable_error_rate"] == {"errors": 200.0, "invocations": 1000.0, "judged": True}
    # One GetMetricData, four metrics: each version's errors and invocations under the alias.
    assert [(m, s, v) for m, s, _, v in r.proxy.asked[-1]] == [
        ("Errors", "Sum", "2"), ("Invocations", "Sum", "2"), ("Errors", "Sum", "1"), ("Invocations", "Sum", "1")]


def test_the_baseline_gate_fails_a_canary_clearly_worse_than_its_stable_version(world, rollouts):
    r = rollouts
    t = targets(max_error_rate_increase=0.05)
    _, started = rolling_out(world, r, t)
    at = started - dt.timedelta(seconds=30)
    r.version_metrics(F, "1", invocations=1000, errors=20, at=at)
    r.version_metrics(F, "2", invocations=100, errors=30, at=at)
    run = r.fire(r.only_schedule(), t, later_by=FIRST_CHECK)
    assert run.code == 1, why(run)
    assert dep(run)["reason"] == ("error rate 0.30 is 0.28 above the stable version's 0.02 "
                                  "(max_error_rate_increase 0.05): rolled back to version 1")
    assert r.alias(F) == ("1", {})


def test_a_p99_gate_fails_a_slow_canary(world, rollouts):
    r = rollouts
    t = targets(max_p99_ms=500)
    _, started = rolling_out(world, r, t)
    at = started - dt.timedelta(seconds=30)
    r.version_metrics(F, "2", invocations=50, errors=0, at=at)
    r.version_p99(F, "2", 900.0, at=at)
    run = r.fire(r.only_schedule(), t, later_by=FIRST_CHECK)
    assert run.code == 1, why(run)
    d = dep(run)
    assert d["reason"] == "p99 latency 900 ms > 500 ms: rolled back to version 1"
    assert d["rollout"]["latency"] == {"p99_ms": 900.0}
    # The SDK asked CloudWatch for p99 over one period spanning the step's window.
    (_, stat, period, version), = [q for q in r.proxy.asked[-1] if q[0] == "Duration"]
    assert (stat, version) == ("p99", "2") and period >= 60 and period % 60 == 0
    assert r.alias(F) == ("1", {})


def test_report_only_changes_nothing_but_the_report(world, rollouts):
    r = rollouts
    t = targets(max_error_rate=0.05, report_only=True)
    _, started = rolling_out(world, r, t)
    r.version_metrics(F, "2", invocations=50, errors=10, at=started - dt.timedelta(seconds=30))
    run = r.fire(r.only_schedule(), t, later_by=FIRST_CHECK)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    info = dep(run)["rollout"]
    assert info["would_roll_back"] == ["would roll back: error rate 0.20 > 0.05 over 50 invocations"]
    assert r.alias(F) == ("1", {"2": 0.1})
    assert subjects(world) == ["WOULD ROLL BACK api-dev at 10%: error rate 0.20 > 0.05 over 50 invocations"]
    # Once per step; and the step moves on on schedule.
    run = r.fire(r.only_schedule(), t, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    assert r.alias(F) == ("1", {"2": 0.5})
    assert subjects(world) == ["ROLLING OUT api-dev v2 (50%)"]


def test_an_unreadable_baseline_fails_the_check(world):
    r = Rollouts(world, fail={"GetMetricData": 500})
    try:
        t = targets(max_error_rate_increase=0.05)
        rolling_out(world, r, t)
        run = r.fire(r.only_schedule(), t, later_by=FIRST_CHECK, AWS_MAX_ATTEMPTS="1")
        assert run.code == 1, why(run)
        d = dep(run)
        assert d["reason"].startswith("the error rate could not be read"), d["reason"]
        assert d["rollout"]["verdict"] == "fail"
        assert r.alias(F) == ("1", {})
    finally:
        r.stop()
