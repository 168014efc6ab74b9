"""Rollouts on the emulator: what the deployer needs for them (a schedule group, the scheduler role
and its own ARN in the environment, CloudWatch through the CBOR proxy), and the scheduler's part,
which moto does not play.

moto keeps EventBridge Scheduler schedules (ActionAfterCompletion included) but never fires them.
`fire()` does what the scheduler would at the schedule's time: it deletes the one-time schedule
(ActionAfterCompletion DELETE) and invokes the deployer with the schedule's Target.Input, read
from moto (GetSchedule), exactly as the deployer wrote it.

Time: a check is judged on how long its step has lasted (has it lasted interval_secs?) and on the
metrics from the step's start (rounded down to the minute) to now. The step's start is when its
weight was really set: the `moved=` of the alias record the deployer wrote with the weight (the
payload's `started` only for records without a step). Nobody waits minutes in a test, so `fire(...,
later_by=N)` sends the payload with `started` moved N seconds earlier and moves the alias record's
`moved=` back as much (moto keeps the description as written): to the deployer that is exactly the
check arriving N seconds after the step began, which is what a later schedule of the same step
carries (the same payload, fired later). The schedule the deployer then creates is due at
the next `started + k * check_secs` after its real clock, so it names the same moved `started`.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from cbor_proxy import CborProxy
from harness import ACCOUNT, REGION, Run, World

GROUP = "self-deployer-checks"
SCHEDULER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/self-deployer-scheduler"
DEPLOYER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer"


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def at_expression(t: dt.datetime) -> str:
    """EventBridge Scheduler's one-time expression for `t` (UTC)."""
    return "at(" + t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ")"


def alarm_event(name: str, state: str, previous: str = "OK") -> dict:
    """A "CloudWatch Alarm State Change" event as EventBridge delivers it."""
    now = rfc3339(dt.datetime.now(dt.timezone.utc))
    return {
        "version": "0", "id": "e2e-alarm", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": ACCOUNT, "time": now, "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).",
                      "timestamp": now},
            "previousState": {"value": previous, "reason": "", "timestamp": now},
            "configuration": {"metrics": []},
        },
    }


class Rollouts:
    """The world's rollout side: a schedule group, the deployer's rollout environment, CloudWatch
    via the CBOR proxy (started here, stopped by `stop()`)."""

    def __init__(self, world: World, fail: dict[str, int] | None = None) -> None:
        self.world = world
        self.scheduler = world.moto.client("scheduler")
        self.cloudwatch = world.moto.client("cloudwatch")
        self.lam = world.moto.client("lambda")
        if GROUP not in [g["Name"] for g in self.scheduler.list_schedule_groups()["ScheduleGroups"]]:
            self.scheduler.create_schedule_group(Name=GROUP)
        self.proxy = CborProxy(world.moto.endpoint, fail)

    def stop(self) -> None:
        self.proxy.stop()

    def env(self, **extra: str) -> dict:
        return {
            "DEPLOYER_SCHEDULER_ROLE_ARN": SCHEDULER_ROLE_ARN,
            "DEPLOYER_SCHEDULE_GROUP": GROUP,
            "DEPLOYER_FUNCTION_ARN": DEPLOYER_ARN,
            # Only CloudWatch goes through the translating proxy; everything else to moto.
            "AWS_ENDPOINT_URL_CLOUDWATCH": self.proxy.endpoint,
            **extra,
        }

    # --- the deployer ---------------------------------------------------------------------
    def handle(self, payload: dict, targets: list, **extra: str) -> Run:
        return self.world.handle(payload, targets, **self.env(**extra))

    def cli(self, args: list[str], targets: list, **extra: str) -> Run:
        return self.world.cli(args, targets, **self.env(**extra))

    # --- the scheduler's part ------------------------------------------------------------------
    def schedules(self) -> list[dict]:
        """Every schedule in the group, in full (GetSchedule), oldest name first."""
        names = sorted(s["Name"] for s in self.scheduler.list_schedules(GroupName=GROUP)["Schedules"])
        return [self.scheduler.get_schedule(GroupName=GROUP, Name=n) for n in names]

    def only_schedule(self) -> dict:
        found = self.schedules()
        assert len(found) == 1, [s["Name"] for s in found]
        return found[0]

    def fire(self, schedule: dict, targets: list, later_by: int = 0, **extra: str) -> Run:
        """What EventBridge Scheduler does at the schedule's time: it hands the schedule's Input to
        Lambda (an asynchronous Invoke) and deletes the one-time schedule (ActionAfterCompletion
        DELETE), so by the time the deployer runs, the schedule that brought it is gone.
        `later_by`: the check arrives that many seconds after its step began (see the module doc)."""
        assert schedule["ActionAfterCompletion"] == "DELETE"
        payload = json.loads(schedule["Target"]["Input"])
        self.scheduler.delete_schedule(GroupName=schedule["GroupName"], Name=schedule["Name"])
        if later_by:
            payload["started"] = rfc3339(parse_time(payload["started"]) - dt.timedelta(seconds=later_by))
            self.backdate(payload["function"], payload.get("alias", "live"), later_by)
        return self.handle(payload, targets, **extra)

    def backdate(self, function: str, alias: str, seconds: int) -> None:
        """The alias's weight was set `seconds` earlier than its record says: its `moved=` moves
        back (the description only; moto keeps the version and the weights). A function in
        another account (a stage's role) is not in this client's account: left as it is."""
        try:
            a = self.lam.get_alias(FunctionName=function, Name=alias)
        except self.lam.exceptions.ResourceNotFoundException:
            return
        desc = a.get("Description") or ""
        m = re.search(r"\bmoved=(\S+)", desc)
        if not m:
            return
        moved = rfc3339(parse_time(m.group(1)) - dt.timedelta(seconds=seconds))
        self.lam.update_alias(FunctionName=function, Name=alias,
                              Description=desc.replace(m.group(0), f"moved={moved}", 1))
        assert self.alias(function, alias) == (a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})

    # --- Lambda and CloudWatch ---------------------------------------------------------------
    def alias(self, function: str, alias: str = "live") -> tuple[str, dict]:
        """(FunctionVersion, AdditionalVersionWeights) of the alias."""
        a = self.lam.get_alias(FunctionName=function, Name=alias)
        return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}

    def alarm(self, name: str, state: str = "OK") -> None:
        self.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
        self.set_alarm(name, state)

    def set_alarm(self, name: str, state: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"e2e: {state}")

    def version_metrics(self, function: str, version: str, invocations: float, errors: float,
                        at: dt.datetime, alias: str = "live") -> None:
        """What Lambda records for alias traffic that ran `version`: Errors and Invocations with the
        dimensions FunctionName, Resource=name:alias, ExecutedVersion."""
        dims = [{"Name": "FunctionName", "Value": function},
                {"Name": "Resource", "Value": f"{function}:{alias}"},
                {"Name": "ExecutedVersion", "Value": version}]
        self.cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": at, "Value": invocations, "Unit": "Count"},
            {"MetricName": "Errors", "Dimensions": dims, "Timestamp": at, "Value": errors, "Unit": "Count"},
        ])

    def version_p99(self, function: str, version: str, p99_ms: float, at: dt.datetime,
                    alias: str = "live") -> None:
        """One `Duration` datapoint for alias traffic that ran `version`, standing for that
        minute's p99 (moto has no percentiles: cbor_proxy asks it for the maximum)."""
        dims = [{"Name": "FunctionName", "Value": function},
                {"Name": "Resource", "Value": f"{function}:{alias}"},
                {"Name": "ExecutedVersion", "Value": version}]
        self.cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Duration", "Dimensions": dims, "Timestamp": at, "Value": p99_ms,
             "Unit": "Milliseconds"}])


def schedule_name_ok(name: str) -> bool:
    return len(name) <= 64 and re.fullmatch(r"[0-9a-zA-Z_.-]+", name) is not None
