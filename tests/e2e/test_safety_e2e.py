"""End to end, issue 23: a rollout is never left unwatched or rushed, and a sweep never fights a
person. Each of the seven cases on moto, the binary's AWS calls going through a FaultProxy (which
loses answers, fails calls, hangs them, or only records them), judged by the AWS state.

The scheduler's part is played as in test_rollout_e2e.py (rollouts.py): `fire` reads the schedule
moto holds and invokes the deployer with its input.
"""

import json
import time

from fault_proxy import Rule
from harness import ACCOUNT, REGION, World, ecr_event, why
from invoke_recorder import InvokeRecorder
from rollouts import alarm_event
from test_rollout_e2e import (ALARM, F, FIRST_CHECK, OK, STEP_LASTED, TARGETS, deployment,
                              release_2_pushed, rolling_out)

PLAIN = [{"repository": "api", "functions": [F]}]
DEPLOYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer"


def blind() -> tuple[Rule, Rule]:
    """Applied, its answer lost, and the alias cannot be read again for the rest of the run (new
    rules each time: a rule counts what it has seen)."""
    return Rule("UpdateAlias", "lose"), Rule("GetAlias", "error", nth=None, after="UpdateAlias")
MUTATING = {"UpdateAlias", "CreateAlias", "UpdateFunctionCode", "PublishVersion", "DeleteFunction"}


def payload(schedule: dict) -> dict:
    return json.loads(schedule["Target"]["Input"])


def told_what_to_run(reason: str, weight: int, version: str = "2") -> bool:
    return (f"may still send {weight}% of traffic to version {version}" in reason
            and f"`self-deployer rollback --function {F}`" in reason)


def test_case_1_a_weight_lost_at_a_check_is_taken_on_by_the_next_check(world, rollouts, fault_proxy):
    r = rollouts
    rolling_out(world, r)
    proxy = fault_proxy(*blind())
    run = r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED, via=proxy)
    assert "lose" in [s.action for s in proxy.fired()], proxy.seen
    assert r.alias(F) == ("1", {"2": 0.5}), "the move went through"
    d = deployment(run)
    assert run.code == 1 and d["outcome"] == "failed", why(run)
    assert told_what_to_run(d["reason"], 50), d["reason"]
    assert "this check comes again" not in json.dumps(run.report)
    [s] = r.schedules()
    assert payload(s)["step"] == 2, "the next step's check was scheduled before the move"
    nxt = r.fire(s, TARGETS, later_by=FIRST_CHECK)
    assert (nxt.code, nxt.report["outcome"]) == (0, "rolling_out"), why(nxt)
    info = deployment(nxt)["rollout"]
    assert (info["step"], info["weight"]) == (2, 0.5)
    assert r.alias(F) == ("1", {"2": 0.5}) and len(r.schedules()) == 1


def test_case_2_a_first_weight_lost_has_its_check_coming(world, rollouts, fault_proxy):
    r = rollouts
    _, d2 = release_2_pushed(world, r)
    proxy = fault_proxy(*blind())
    run = r.handle(ecr_event("api", d2, "v2"), TARGETS, via=proxy)
    assert r.alias(F) == ("1", {"2": 0.1}), "the first weight went through"
    d = deployment(run)
    assert run.code == 1 and d["outcome"] == "failed", why(run)
    assert told_what_to_run(d["reason"], 10), d["reason"]
    [s] = r.schedules()
    assert payload(s)["step"] == 1
    nxt = r.fire(s, TARGETS, later_by=FIRST_CHECK)
    assert (nxt.code, nxt.report["outcome"]) == (0, "rolling_out"), why(nxt)
    assert (deployment(nxt)["rollout"]["step"], r.alias(F)) == (1, ("1", {"2": 0.1}))


def test_case_3_an_old_check_replayed_into_a_later_rollout_does_not_skip_the_step(world, rollouts, fault_proxy):
    r = rollouts
    _, d2, _ = rolling_out(world, r)
    old = r.only_schedule()
    back = r.handle({"action": "rollback", "function": F}, TARGETS)
    assert back.report["outcome"] == "rolled_back", why(back)
    world.moto.queue_invoke_results(OK)
    again = r.handle({"action": "deploy", "function": F, "image_uri": World.image_uri("api", d2)}, TARGETS)
    assert again.report["outcome"] == "rolling_out", why(again)
    [(new, weight)] = r.alias(F)[1].items()
    pending = r.only_schedule()
    proxy = fault_proxy()
    for late in (payload(old), {**payload(pending), "started": "2026-01-01T00:00:00Z"}):
        late["version"] = new
        run = r.handle(late, TARGETS, via=proxy)
        assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
        assert deployment(run)["rollout"]["step"] == 1
        assert r.alias(F) == ("1", {new: weight}), "no shift to 50 %"
        assert [s["Name"] for s in r.schedules()] == [pending["Name"]], "one chain of checks"
    assert not MUTATING & set(proxy.ops()), proxy.ops()


def test_case_4_a_sweep_leaves_a_hand_rollback_with_its_own_description_alone(world, fault_proxy):
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function(F, "api", d1)
    time.sleep(1.1)
    d2 = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    run = world.handle(ecr_event("api", d2, "v2"), PLAIN)
    assert run.report["outcome"] == "deployed", run.stdout + run.stderr
    world.messages()
    lam = world.moto.client("lambda")
    lam.update_alias(FunctionName=F, Name="live", FunctionVersion="1", Description="emergency rollback INC-42")
    proxy = fault_proxy()
    check = world.cli(["status", "--check"], PLAIN, via=proxy)
    assert check.code == 3, check.stdout + check.stderr
    assert check.stdout.startswith(f"{F}: drift: ") and "emergency rollback INC-42" in check.stdout, check.stdout
    sweep = world.cli(["reconcile"], PLAIN, via=proxy)
    assert [d["outcome"] for d in sweep.report["deployments"]] == ["drift"], sweep.stdout + sweep.stderr
    assert world.alias_version(F) == "1"
    assert not MUTATING & set(proxy.ops()), proxy.ops()


def test_case_5_an_alarm_event_from_another_account_or_region_touches_nothing(world, rollouts, fault_proxy):
    r = rollouts
    rolling_out(world, r)
    proxy = fault_proxy()
    for field, value in (("account", "111122223333"), ("region", "us-east-1")):
        ev = {**alarm_event(ALARM, "ALARM"), field: value}
        run = r.handle(ev, TARGETS, via=proxy)
        assert (run.code, run.report["outcome"]) == (0, "skipped"), why(run)
        assert run.report["reason"] == f"no target's rollout watches alarm {ALARM} in {field} {value}"
    assert proxy.seen == [] and r.proxy.seen == [], "no AWS call"
    assert r.alias(F) == ("1", {"2": 0.1})
    assert len(r.schedules()) == 1


def test_case_6_a_dispatch_whose_answer_hung_may_have_been_sent(world, moto):
    names = [f"fn-{i:02}" for i in range(1, 11)]
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    for f in names:
        world.function(f, "api", good)
    new = world.push_image("api", "v2", "release 2")
    rec = InvokeRecorder(moto.endpoint, DEPLOYER, hang={"fn-03"})
    try:
        run = world.handle(ecr_event("api", new, "v2"), [{"repository": "api", "functions": names}], via=rec,
                           DEPLOYER_FUNCTION_ARN=DEPLOYER, DEPLOYER_API_TIMEOUT_SECS="2")
    finally:
        rec.stop()
    assert run.code == 1, run.stdout + run.stderr
    assert "fn-03" in [p["function"] for p in rec.queued], "Lambda has it"
    [d] = [d for d in run.report["deployments"] if d["function"] == "fn-03"]
    assert d["reason"].startswith("may have been dispatched: "), d
    assert "a repeat is harmless" in d["reason"]
    assert "may have been dispatched (fn-03)" in run.report["reason"]
    told = json.dumps([e["Message"] for e in world.envelopes()])
    assert "a repeat is harmless" in told and "not dispatched" not in told, told


def test_case_7_a_stalled_split_is_called_so_and_a_sweep_schedules_its_check_again(world, rollouts, fault_proxy):
    r = rollouts
    rolling_out(world, r)
    gone = r.only_schedule()
    r.scheduler.delete_schedule(GroupName=gone["GroupName"], Name=gone["Name"])
    proxy = fault_proxy()
    st = r.cli(["status", "--json"], TARGETS, via=proxy)
    assert st.report["functions"][0]["stalled"] is True, st.stdout
    table = r.cli(["status"], TARGETS, via=proxy)
    assert "stalled: no check is pending" in table.stdout, table.stdout
    check = r.cli(["status", "--check"], TARGETS, via=proxy)
    assert check.code == 3 and check.stdout.startswith(f"{F}: rolling_out: stalled: "), check.stdout
    assert r.schedules() == [], "a check only looks"
    sweep = r.cli(["reconcile"], TARGETS, via=proxy)
    [d] = sweep.report["deployments"]
    assert d["outcome"] == "rolling_out" and "scheduled again" in d["reason"], d
    [s] = r.schedules()
    assert {k: payload(s)[k] for k in ("step", "started")} == {k: payload(gone)[k] for k in ("step", "started")}
    assert len(world.envelopes()) == 1, "told once"
    sweep = r.cli(["reconcile"], TARGETS, via=proxy)
    assert "left alone" in sweep.report["deployments"][0]["reason"]
    assert world.envelopes() == []
    assert not MUTATING & set(proxy.ops()), proxy.ops()
