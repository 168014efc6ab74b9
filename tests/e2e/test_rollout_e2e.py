"""End to end: progressive delivery (issue 18) on the real HTTP path, against moto.

The binary starts a rollout on a push (alias routing weight, a one-time EventBridge Scheduler
schedule); each test then plays the scheduler, which moto never does: it reads the schedule moto
holds (GetSchedule) and invokes the deployer with its Target.Input (see rollouts.py, which also
explains how a check "later" is simulated without waiting: the payload's `started` is moved back).
The gates read moto's CloudWatch (alarms, PutMetricData metrics) through cbor_proxy, because the
Rust SDK speaks Smithy RPC v2 CBOR and moto does not.

moto's gaps that matter here: no RevisionId enforcement on UpdateAlias (the guards are covered by the
Rust tests on the modelled world and by test_faults_e2e.py), Invoke ignores the Qualifier, and a
function is never InProgress. None of them changes what these tests assert.
"""

import datetime as dt
import json

from harness import World, ecr_event, why
from rollouts import (DEPLOYER_ARN, GROUP, SCHEDULER_ROLE_ARN, Rollouts, alarm_event,
                      at_expression, parse_time, schedule_name_ok)

OK = {"statusCode": 200, "body": "ok"}
F = "api-dev"
ALARM = "api-5xx"
# on_inconclusive "proceed" with no wait keeps these tests' intent from before verdicts (issue 26): a
# step with too little traffic moves on at its interval. test_rollout_verdicts_e2e.py covers holding.
ROLLOUT = {"steps": [10, 50], "interval_secs": 300, "check_secs": 60, "alarms": [ALARM],
           "max_error_rate": 0.05, "min_invocations": 20, "on_inconclusive": "proceed", "max_wait_secs": 0}
TARGETS = [{"repository": "api", "functions": [F], "rollout": ROLLOUT}]
# Time, without waiting: a check is judged on `now - started` and on the metrics since `started`.
# `fire(..., later_by=N)` sends the schedule's payload with `started` moved N seconds back, which to
# the deployer is the same check arriving N seconds into its step: what a later schedule of that
# step carries (same payload, fired later). 61 s: the first check, the step has not lasted 300 s;
# 301 s: the step has lasted its interval.
FIRST_CHECK, STEP_LASTED = 61, 301


def release_2_pushed(world: World, r: Rollouts) -> tuple[str, str]:
    """api-dev on version 1 (release 1) behind `live`, alarm api-5xx OK; release 2 pushed, its
    smoke test to answer OK. Returns (digest 1, digest 2)."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function(F, "api", d1)
    r.alarm(ALARM, "OK")
    d2 = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    return d1, d2


def rolling_out(world: World, r: Rollouts):
    """As `release_2_pushed`, and its rollout started (10 % on version 2). Returns (digest 1,
    digest 2, the start's run)."""
    d1, d2 = release_2_pushed(world, r)
    run = r.handle(ecr_event("api", d2, "v2"), TARGETS)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    assert r.alias(F) == ("1", {"2": 0.1})
    world.messages()
    return d1, d2, run


def started_of(schedule: dict) -> dt.datetime:
    return parse_time(json.loads(schedule["Target"]["Input"])["started"])


def deployment(run) -> dict:
    assert len(run.report["deployments"]) == 1, run.report
    return run.report["deployments"][0]


def rolled_back(world: World, r: Rollouts, d1: str) -> None:
    """After a rollback by a gate or an alarm: all traffic on version 1, no check pending,
    $LATEST back on release 1, one FAILED notification."""
    assert r.alias(F) == ("1", {})
    assert r.schedules() == []
    assert world.latest_image(F) == World.image_uri("api", d1)
    assert [e["Subject"] for e in world.envelopes()] == ["FAILED api-dev at rollout 10%: rolled back to v1"]


def test_a_push_starts_a_rollout_with_a_weight_and_a_one_time_schedule(world, rollouts):
    r = rollouts
    _, d2, run = rolling_out(world, r)
    d = deployment(run)
    assert (d["outcome"], d["previous_version"], d["version"]) == ("rolling_out", "1", "1")
    info = d["rollout"]
    assert {k: info[k] for k in ("stable_version", "new_version", "step", "steps", "weight", "weight_changed")} == {
        "stable_version": "1", "new_version": "2", "step": 1, "steps": [10, 50], "weight": 0.1,
        "weight_changed": True}
    assert world.versions(F) == ["1", "2"]
    assert world.latest_image(F) == World.image_uri("api", d2)

    s = r.only_schedule()
    assert s["Name"] == info["schedule"] and schedule_name_ok(s["Name"])
    assert s["GroupName"] == GROUP
    started = started_of(s)
    due = started + dt.timedelta(seconds=ROLLOUT["check_secs"])
    assert s["ScheduleExpression"] == at_expression(due)
    assert s["ScheduleExpressionTimezone"] == "UTC"
    assert info["next_check_at"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert s["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert s["ActionAfterCompletion"] == "DELETE"
    assert (s["Target"]["Arn"], s["Target"]["RoleArn"]) == (DEPLOYER_ARN, SCHEDULER_ROLE_ARN)
    assert json.loads(s["Target"]["Input"]) == {
        "action": "advance", "function": F, "alias": "live", "version": "2", "stable_version": "1",
        "step": 1, "started": started.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert abs((dt.datetime.now(dt.timezone.utc) - started).total_seconds()) < 60
    # Starting reads no gate: CloudWatch is first asked at the first check.
    assert r.proxy.seen == []

    # `status` shows the split and when the next check is due.
    st = r.cli(["status", "--json"], TARGETS)
    assert st.code == 0, why(st)
    f = st.report["functions"][0]
    assert (f["alias_target"], f["split"], f["next_check_at"]) == ("1", {"version": "2", "weight": 0.1}, info["next_check_at"])

    # The same push again while it rolls out: nothing new.
    again = r.handle(ecr_event("api", d2, "v2"), TARGETS)
    assert (again.code, again.report["outcome"]) == (0, "already_live"), why(again)
    assert "rollout of this image (version 2) is in progress" in deployment(again)["reason"]
    assert world.versions(F) == ["1", "2"]
    assert [x["Name"] for x in r.schedules()] == [s["Name"]]
    assert r.alias(F) == ("1", {"2": 0.1})


def test_a_check_before_the_step_has_lasted_keeps_the_weight_and_schedules_the_next(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    first = r.only_schedule()
    started = started_of(first)
    # 3 invocations of version 2 so far: fewer than min_invocations, so not judged.
    r.version_metrics(F, "2", invocations=3, errors=1, at=started - dt.timedelta(seconds=30))
    run = r.fire(first, TARGETS, later_by=FIRST_CHECK)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    d = deployment(run)
    info = d["rollout"]
    assert (info["step"], info["weight"], info["weight_changed"]) == (1, 0.1, False)
    assert info["error_rate"] == {"errors": 1.0, "invocations": 3.0, "judged": False}
    assert r.alias(F) == ("1", {"2": 0.1})
    # The gates were read over CBOR through the proxy, as the SDK speaks to CloudWatch.
    assert r.proxy.seen == ["DescribeAlarms", "GetMetricData"]

    # The next check of the same step: same payload (same step, same `started`), one period on.
    nxt = r.only_schedule()
    moved = started - dt.timedelta(seconds=FIRST_CHECK)
    assert nxt["Name"] == info["schedule"] != first["Name"]
    assert nxt["ScheduleExpression"] == at_expression(moved + dt.timedelta(seconds=120))
    payload = json.loads(first["Target"]["Input"])
    payload["started"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(nxt["Target"]["Input"]) == payload
    # A check that only confirmed the weight is not news.
    assert world.messages() == []


def test_a_check_after_the_interval_advances_to_the_next_step(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    first = r.only_schedule()
    # Healthy traffic: 1 error in 100 invocations, under max_error_rate 0.05.
    r.version_metrics(F, "2", invocations=100, errors=1, at=started_of(first) - dt.timedelta(seconds=30))
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run = r.fire(first, TARGETS, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    info = deployment(run)["rollout"]
    assert (info["step"], info["weight"], info["weight_changed"]) == (2, 0.5, True)
    assert info["error_rate"] == {"errors": 1.0, "invocations": 100.0, "judged": True}
    assert r.alias(F) == ("1", {"2": 0.5})

    # Step 2 starts now: its first check is check_secs from now, with step 2 in the payload.
    nxt = r.only_schedule()
    payload = json.loads(nxt["Target"]["Input"])
    assert {k: payload[k] for k in ("action", "version", "stable_version", "step")} == {
        "action": "advance", "version": "2", "stable_version": "1", "step": 2}
    step2 = parse_time(payload["started"])
    assert before <= step2 <= dt.datetime.now(dt.timezone.utc)
    assert nxt["ScheduleExpression"] == at_expression(step2 + dt.timedelta(seconds=60))
    assert [e["Subject"] for e in world.envelopes()] == ["ROLLING OUT api-dev v2 (50%)"]


def test_a_canary_that_passes_every_step_completes(world, rollouts):
    r = rollouts
    _, d2, _ = rolling_out(world, r)
    assert r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED).report["outcome"] == "rolling_out"
    assert r.alias(F) == ("1", {"2": 0.5})
    world.messages()
    run = r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    d = deployment(run)
    assert (d["previous_version"], d["version"]) == ("1", "2")
    assert "the rollout finished" in d["reason"]
    assert r.alias(F) == ("2", {})
    assert r.schedules() == []
    assert world.latest_image(F) == World.image_uri("api", d2)
    assert [e["Subject"] for e in world.envelopes()] == ["DEPLOYED api-dev v2"]


def test_an_alarm_in_alarm_state_rolls_back_at_the_next_check(world, rollouts):
    r = rollouts
    d1, _, _ = rolling_out(world, r)
    r.set_alarm(ALARM, "ALARM")
    run = r.fire(r.only_schedule(), TARGETS, later_by=FIRST_CHECK)
    assert run.code == 1, why(run)
    d = deployment(run)
    assert (d["outcome"], d["failed_step"], d["version"]) == ("failed", "rollout", "1")
    assert d["reason"] == "alarm api-5xx is in ALARM: rolled back to version 1"
    assert d["latest_restore"]["restored"] is True, d["latest_restore"]
    # The alarm failed the check: the error rate was not even read.
    assert r.proxy.seen == ["DescribeAlarms"]
    rolled_back(world, r, d1)


def test_the_error_rate_of_the_new_version_rolls_back(world, rollouts):
    r = rollouts
    d1, _, _ = rolling_out(world, r)
    first = r.only_schedule()
    at = started_of(first) - dt.timedelta(seconds=30)
    r.version_metrics(F, "2", invocations=50, errors=10, at=at)
    # Only exactly these dimensions count: the stable version's errors and traffic outside the
    # alias are someone else's.
    r.version_metrics(F, "1", invocations=1000, errors=0, at=at)
    r.version_metrics(F, "2", invocations=1000, errors=0, at=at, alias="other")
    run = r.fire(first, TARGETS, later_by=FIRST_CHECK)
    assert run.code == 1, why(run)
    d = deployment(run)
    assert (d["outcome"], d["failed_step"], d["version"]) == ("failed", "rollout", "1")
    assert d["reason"] == "error rate 0.20 > 0.05 over 50 invocations: rolled back to version 1"
    assert d["rollout"]["error_rate"] == {"errors": 10.0, "invocations": 50.0, "judged": True}
    rolled_back(world, r, d1)


def test_an_alarm_state_change_event_rolls_back_at_once(world, rollouts):
    r = rollouts
    d1, _, _ = rolling_out(world, r)
    pending = r.only_schedule()["Name"]
    # Not ALARM, or an alarm no rollout watches: nothing happens.
    for event, says in [(alarm_event(ALARM, "OK", previous="INSUFFICIENT_DATA"), "only ALARM acts"),
                        (alarm_event("db-latency", "ALARM"), "no target's rollout watches alarm db-latency")]:
        run = r.handle(event, TARGETS)
        assert (run.code, run.report["outcome"]) == (0, "skipped"), why(run)
        assert says in run.report["reason"]
    assert r.alias(F) == ("1", {"2": 0.1})
    assert [s["Name"] for s in r.schedules()] == [pending]
    assert world.messages() == []

    r.set_alarm(ALARM, "ALARM")
    run = r.handle(alarm_event(ALARM, "ALARM"), TARGETS)
    assert run.code == 1, why(run)
    d = deployment(run)
    assert (d["outcome"], d["failed_step"], d["version"]) == ("failed", "rollout", "1")
    assert d["reason"] == "alarm api-5xx went to ALARM: rolled back to version 1"
    assert d["latest_restore"]["restored"] is True, d["latest_restore"]
    # The event is the evidence: no gate was read, and the pending check was deleted.
    assert r.proxy.seen == []
    rolled_back(world, r, d1)


def test_a_check_after_the_alias_was_changed_by_hand_is_superseded(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    r.lam.update_alias(FunctionName=F, Name="live", FunctionVersion="1",
                       RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    run = r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED)
    assert (run.code, run.report["outcome"]) == (0, "skipped"), why(run)
    assert deployment(run)["reason"].startswith("superseded: alias live is now"), deployment(run)["reason"]
    # Nothing touched, nothing read, nothing scheduled, nobody told.
    assert r.alias(F) == ("1", {"2": 0.3})
    assert r.proxy.seen == []
    assert r.schedules() == []
    assert world.messages() == []


def test_promote_during_a_rollout_gives_the_new_version_all_traffic(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    run = r.cli(["promote", "--function", F, "--reason", "looks good"], TARGETS)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    d = deployment(run)
    assert d["version"] == "2" and d["reason"].startswith("promoted: alias live serves version 2")
    assert r.alias(F) == ("2", {})
    assert r.schedules() == []
    assert [e["Subject"] for e in world.envelopes()] == ["DEPLOYED api-dev v2"]

    again = r.cli(["promote", "--function", F], TARGETS)
    assert (again.code, again.report["outcome"]) == (0, "skipped"), why(again)
    assert "no rollout is in progress" in deployment(again)["reason"]
    assert r.alias(F) == ("2", {})


def test_a_rollback_during_a_rollout_clears_the_weights_and_the_schedule(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    pending = r.only_schedule()
    run = r.cli(["rollback", "--function", F], TARGETS)
    assert (run.code, run.report["outcome"]) == (0, "rolled_back"), why(run)
    assert deployment(run)["reason"] == "alias live moved from version 1 + 10% 2 to version 1 (the split is cleared)"
    assert r.alias(F) == ("1", {})
    assert r.schedules() == []
    subjects = [e["Subject"] for e in world.envelopes()]
    assert len(subjects) == 1 and subjects[0].startswith("ROLLED BACK api-dev "), subjects

    # Had the schedule's delete failed, its check would find the alias changed and stop there.
    late = r.handle(json.loads(pending["Target"]["Input"]), TARGETS)
    assert (late.code, late.report["outcome"]) == (0, "skipped"), why(late)
    assert deployment(late)["reason"].startswith("superseded:")
    assert r.alias(F) == ("1", {})
    assert r.schedules() == []


def test_a_gate_that_cannot_be_read_rolls_back(world):
    # CloudWatch answers GetMetricData 500 (a CBOR InternalServiceFault) every time: after the
    # SDK's retries the error rate is missing evidence, and a rollout never proceeds on that.
    r = Rollouts(world, fail={"GetMetricData": 500})
    try:
        d1, _, _ = rolling_out(world, r)
        run = r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED, AWS_MAX_ATTEMPTS="2")
        assert run.code == 1, why(run)
        d = deployment(run)
        assert (d["outcome"], d["failed_step"]) == ("failed", "rollout")
        assert d["reason"].startswith("the error rate could not be read"), d["reason"]
        assert "InternalServiceFault" in d["reason"] or "InternalServiceError" in d["reason"], d["reason"]
        assert r.proxy.count("GetMetricData") == 2, r.proxy.seen
        rolled_back(world, r, d1)
    finally:
        r.stop()


def test_an_alarm_that_does_not_exist_cannot_vouch_for_the_new_version(world, rollouts):
    r = rollouts
    d1, _, _ = rolling_out(world, r)
    r.cloudwatch.delete_alarms(AlarmNames=[ALARM])
    run = r.fire(r.only_schedule(), TARGETS, later_by=STEP_LASTED)
    assert run.code == 1, why(run)
    assert deployment(run)["reason"] == (
        "alarm api-5xx does not exist, so it cannot vouch for the new version: rolled back to version 1")
    rolled_back(world, r, d1)


def test_a_newer_push_during_a_rollout_replaces_it(world, rollouts):
    r = rollouts
    rolling_out(world, r)
    old = r.only_schedule()
    d3 = world.push_image("api", "v3", "release 3")
    world.moto.queue_invoke_results(OK)
    run = r.handle(ecr_event("api", d3, "v3"), TARGETS)
    assert (run.code, run.report["outcome"]) == (0, "rolling_out"), why(run)
    info = deployment(run)["rollout"]
    assert (info["stable_version"], info["new_version"], info["weight"]) == ("1", "3", 0.1)
    # One UpdateAlias from the stable version replaced the weights; v2's pending check is gone.
    assert r.alias(F) == ("1", {"3": 0.1})
    new = r.only_schedule()
    assert new["Name"] == info["schedule"] != old["Name"]
    assert json.loads(new["Target"]["Input"])["version"] == "3"
    world.messages()

    # v2's check, had its delete failed, finds the alias changed and leaves it alone.
    late = r.handle(json.loads(old["Target"]["Input"]), TARGETS)
    assert (late.code, late.report["outcome"]) == (0, "skipped"), why(late)
    assert deployment(late)["reason"].startswith("superseded:")
    assert r.alias(F) == ("1", {"3": 0.1})
    assert [s["Name"] for s in r.schedules()] == [new["Name"]]
    assert world.messages() == []


def test_a_dry_run_of_a_rollout_says_what_would_happen_and_changes_nothing(world, rollouts):
    r = rollouts
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function(F, "api", d1)
    d2 = world.push_image("api", "v2", "release 2")
    run = r.handle(ecr_event("api", d2, "v2"), TARGETS, DEPLOYER_DRY_RUN="true")
    assert (run.code, run.report["outcome"]) == (0, "would_deploy"), why(run)
    assert "rolling out in steps of 10%, 50% then 100%" in deployment(run)["reason"]
    assert r.alias(F) == ("1", {})
    assert world.versions(F) == ["1"]
    assert world.latest_image(F) == World.image_uri("api", d1)
    assert r.schedules() == []
