#!/usr/bin/env python3
"""Rollouts: detection and cost. A model, computed from stated inputs, plus one measurement.

How long a bad canary keeps its share of traffic, from its first errors to all traffic back on the
stable version, by three routes: an alarm state-change event (our alarm path), our built-in
error-rate gate at each check, and CodeDeploy's alarm-based rollback at its best. And what a rollout
costs per hour of canary: EventBridge Scheduler invocations, CloudWatch API calls and the deployer's
own Lambda time, one check every `check_secs`.

Every number in the section this prints comes from INPUTS (each labelled: documented, list price or
assumption) or from the measurement: the deployer binary, run against the local emulator (moto),
handling an alarm state-change event during a rollout (`measure()`), timed and its AWS calls
counted. Nothing here is a claim about AWS's own latencies beyond what INPUTS say.

Standalone: `python bench/rollout_model.py` prints the section (measuring when moto and a binary
are available, `--no-measure` to skip); `--write` puts it into BENCHMARKS.md, replacing the
section of the same name. `make bench` (bench/run.py) measures with its release build and appends
the section to the BENCHMARKS.md it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import rollout_evidence  # bench/, next to this script

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Rollouts: detection and cost"

# --- fixed inputs: not measurements -----------------------------------------------------------
# Each is (value, label). "documented" cites the AWS page; "assumption" is ours and says why.
INPUTS = {
    "metric_delay_s": ((60, 120), "assumption: 1–2 min from a Lambda invocation to its `Errors` datapoint being "
                                  "readable in CloudWatch (AWS documents only that Lambda sends metrics "
                                  "at 1-minute intervals: Lambda Developer Guide, “Using CloudWatch metrics with Lambda”)"),
    "alarm_period_s": (60, "the alarm's period: 60 s, the shortest for Lambda's 1-minute metrics"),
    "alarm_eval_every_s": (60, "documented: CloudWatch evaluates an alarm whose period is 60 s or more once a minute "
                               "(only 10, 20 and 30 s alarms every 10 s: CloudWatch User Guide, “Using Amazon CloudWatch alarms”)"),
    "alarm_eval_periods": ((1, 3), "the alarm's evaluation periods (all breaching): 1, and 3 for a less jumpy alarm"),
    "event_delivery_s": ((0.5, 5.0), "assumption: alarm state change → EventBridge rule → Lambda's asynchronous invoke "
                                     "of the deployer (AWS documents no latency, only “near-real-time”)"),
    "scheduler_precision_s": ((0, 59), "documented: a one-time schedule without a flexible window fires within the "
                                       "minute it names, between :00 and :59 (EventBridge Scheduler User Guide, “Schedule types”)"),
    "lambda_start_s": ((0.0, 1.0), "assumption: from Lambda's invoke to the deployer's handler running, "
                                   "a warm sandbox (0) to a cold start (1 s)"),
    "aws_call_s": (0.1, "assumption: one AWS API round trip from Lambda inside a region"),
    "codedeploy_poll_s": (0, "best case for CodeDeploy: how often it polls a deployment's alarms is not documented "
                             "(“If any of the specified alarms are activated, the deployment stops”: CodeDeploy User Guide, "
                             "“Monitoring deployments with CloudWatch alarms”); 0 = it sees ALARM the instant it is raised"),
    "codedeploy_shift_s": (0, "best case for CodeDeploy: its own move of the alias back takes no time"),
    "check_secs": ((60, 300), "the rollout's check_secs: 60 (the default and minimum) and 300"),
    "example_steps": ([10, 50], "the example rollout: steps [10, 50], interval_secs 300"),
    "example_interval_s": (300, "the example rollout's interval_secs (the default)"),
    "calls_per_check": (4, "from the code (src/actions/advance.rs, src/rollout/gates.rs): a passing check makes "
                           "GetAlias, DescribeAlarms, GetMetricData (one request, 2 metrics with `max_error_rate` "
                           "alone: per gate below) and CreateSchedule"),
    "calls_gate_to_stable": (4, "from the code: a failing check makes GetAlias, DescribeAlarms, GetMetricData, "
                                "then UpdateAlias puts traffic back"),
    "metrics_per_check": (2, "from the code: GetMetricData asks for `Errors` and `Invocations`"),
    "reserved_concurrency": (10, "the deployer's reserved concurrency: ReservedConcurrency (template.yaml) and "
                                 "reserved_concurrency (terraform), both 10 by default"),
    "deployer_timeout_s": (900, "the deployer's function timeout (template.yaml, terraform): how long a running "
                                "invocation can keep a throttled event waiting"),
    # List prices, us-east-1, as published in 2026 (aws.amazon.com/<service>/pricing), free tiers left out.
    "price_scheduler_invocation": (1.00 / 1_000_000, "list price: EventBridge Scheduler, $1.00 per million "
                                                     "invocations (first 14 million a month free)"),
    "price_get_metric_data_metric": (0.01 / 1000, "list price: CloudWatch GetMetricData, $0.01 per 1,000 metrics requested"),
    "price_api_request": (0.01 / 1000, "list price: CloudWatch API requests, $0.01 per 1,000 (first 1 million a month "
                                       "free); DescribeAlarms priced so, an upper bound"),
    "price_lambda_request": (0.20 / 1_000_000, "list price: Lambda, $0.20 per million requests (first million a month free)"),
    "price_lambda_gb_s": (0.0000133334, "list price: Lambda arm64, $0.0000133334 per GB-second"),
    "deployer_memory_gb": (128 / 1024, "the deployer's memory: 128 MB"),
    "codedeploy_price": (0.0, "list price: CodeDeploy charges nothing for deployments to Lambda"),
}


def val(key: str):
    return INPUTS[key][0]


# --- the measurement --------------------------------------------------------------------------

GROUP = "bench-rollout-checks"
OK = '{"statusCode":200}'


def measure(moto, runs: int, calls_cls=None) -> dict:
    """The deployer handling "CloudWatch Alarm State Change" (ALARM) during a rollout, against moto:
    `runs` times, each after a fresh push started a rollout (10 % on the new version). Returns the
    median wall time (process start to exit: the rollback, the pending check's delete, the restore
    of $LATEST and the notification included) and, from one more untimed run recorded by
    `calls_cls` (bench/run.py's Calls), the AWS calls in order."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from harness import ACCOUNT, REGION, World, binary, ecr_event  # noqa: PLC0415

    moto.reset()
    world = World.build(moto)
    moto.client("scheduler").create_schedule_group(Name=GROUP)
    world.repository("canary")
    d = world.push_image("canary", "v1", "canary 1")
    world.function("canary-fn", "canary", d)
    alarm = "canary-5xx"
    targets = [{"repository": "canary", "functions": ["canary-fn"],
                "rollout": {"steps": [10, 50], "alarms": [alarm], "max_error_rate": 0.05}}]
    env = world.env(targets, RUST_LOG="warn",
                    DEPLOYER_SCHEDULER_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/bench-scheduler",
                    DEPLOYER_SCHEDULE_GROUP=GROUP,
                    DEPLOYER_FUNCTION_ARN=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer")
    event = {"version": "0", "id": "bench", "detail-type": "CloudWatch Alarm State Change",
             "source": "aws.cloudwatch", "account": ACCOUNT, "time": "2026-11-26T07:00:00Z",
             "region": REGION, "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"],
             "detail": {"alarmName": alarm, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}}
    lam = moto.client("lambda")
    exe = str(binary())

    def run(payload: dict) -> tuple[float, dict]:
        t = time.perf_counter()
        p = subprocess.run([exe, "handle", "-"], input=json.dumps(payload), env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t
        report = json.loads(p.stdout) if p.stdout.strip() else {}
        return dt, report

    def start_rollout(n: int) -> None:
        digest = world.push_image("canary", f"r{n}", f"canary release {n}")
        moto.queue_invoke_results(OK)
        # Pushed after the previous run's rollback (recorded on the alias, to the second), or the
        # push would rightly be skipped as stale.
        pushed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        _, report = run(ecr_event("canary", digest, f"r{n}", time_=pushed))
        if report.get("outcome") != "rolling_out":
            raise RuntimeError(f"push {n} did not start a rollout: {report.get('reason')}")

    def roll_back(n: int, calls=None) -> float:
        if calls is not None:
            with calls:
                dt, report = run(event)
        else:
            dt, report = run(event)
        dep = (report.get("deployments") or [{}])[0]
        routing = (lam.get_alias(FunctionName="canary-fn", Name="live").get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights") or {}
        if (dep.get("outcome"), dep.get("failed_step")) != ("failed", "rollout") or routing:
            raise RuntimeError(f"alarm {n} did not roll the canary back: {report.get('reason')} {dep.get('reason')}")
        return dt

    load = os.getloadavg()[0]
    times = []
    for n in range(runs):
        start_rollout(n)
        times.append(roll_back(n))
    ops: list[str] = []
    if calls_cls is not None:
        start_rollout(runs)
        calls = calls_cls(moto)
        roll_back(runs, calls)
        ops = calls.ops
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": runs,
            "ops": ops, "binary": exe, "load": load, "cores": os.cpu_count() or 1}


# --- the model --------------------------------------------------------------------------------

def fmt_s(s: float) -> str:
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s" if s >= 1 else f"{s:.2f} s"


def fold(ops: list[str]) -> str:
    """GetAlias → GetFunction ×3 → … (consecutive repeats folded)."""
    out: list[list] = []
    for op in ops:
        if out and out[-1][0] == op:
            out[-1][1] += 1
        else:
            out.append([op, 1])
    return " → ".join(f"{op} ×{n}" if n > 1 else op for op, n in out)


def secs(s: float) -> str:
    """Seconds to the tenth, and minutes beside them from a minute on: the rows differ by seconds."""
    return f"{s:.1f} s ({s / 60:.1f} min)" if s >= 60 else f"{s:.1f} s"


def usd(x: float) -> str:
    if x == 0:
        return "$0"
    return f"${x:.6f}" if x < 0.001 else f"${x:.4f}"


def model(measured: dict | None) -> dict:
    d0, d1 = val("metric_delay_s")
    period, every = val("alarm_period_s"), val("alarm_eval_every_s")
    ev0, ev1 = val("event_delivery_s")
    s0, s1 = val("scheduler_precision_s")
    l0, l1 = val("lambda_start_s")
    call = val("aws_call_s")

    # The deployer's own time until traffic is on the stable version again: its local work as
    # measured end to end on the emulator (an upper bound: it includes the work after the alias
    # move), plus an AWS round trip for each call up to the UpdateAlias that moves traffic back.
    if measured and measured.get("ops") and "UpdateAlias" in measured["ops"]:
        calls_event = measured["ops"].index("UpdateAlias") + 1
    else:
        calls_event = 2  # from the code (src/actions/alarm.rs): GetAlias, then UpdateAlias
    local = measured["median_s"] if measured else 0.0
    h_event = local + calls_event * call
    h_gate = local + val("calls_gate_to_stable") * call

    rows = []
    for n in val("alarm_eval_periods"):
        # ALARM: the Nth breaching datapoint readable, then the next evaluation (0..every).
        alarm = (d0 + (n - 1) * period, d1 + (n - 1) * period + every)
        label = f"{period} s × {n}"
        rows.append((f"ours: alarm state-change event (alarm {label})",
                     alarm[0] + ev0 + l0 + h_event, alarm[1] + ev1 + l1 + h_event))
        rows.append((f"CodeDeploy, best case: alarm-based rollback (alarm {label})",
                     alarm[0] + val("codedeploy_poll_s") + val("codedeploy_shift_s"),
                     alarm[1] + val("codedeploy_poll_s") + val("codedeploy_shift_s")))
    for c in val("check_secs"):
        rows.append((f"ours: built-in error-rate gate, check_secs {c}",
                     d0 + 0 + s0 + l0 + h_gate, d1 + c + s1 + l1 + h_gate))
    for c in val("check_secs"):
        n = val("alarm_eval_periods")[0]
        alarm = (d0 + (n - 1) * period, d1 + (n - 1) * period + every)
        rows.append((f"ours: the alarm read at a check, no event rule (alarm {period} s × {n}, check_secs {c})",
                     alarm[0] + s0 + l0 + h_gate, alarm[1] + c + s1 + l1 + h_gate))

    # Cost per hour of canary, per check_secs; a check that passes makes calls_per_check calls.
    check_s = local + val("calls_per_check") * call
    costs = []
    for c in val("check_secs"):
        checks = 3600 / c
        sched = checks * val("price_scheduler_invocation")
        describe = checks * val("price_api_request")
        gmd = checks * val("metrics_per_check") * val("price_get_metric_data_metric")
        lam = checks * (val("price_lambda_request") + check_s * val("deployer_memory_gb") * val("price_lambda_gb_s"))
        steps, interval = val("example_steps"), val("example_interval_s")
        per_rollout_h = len(steps) * interval / 3600
        costs.append({"check_secs": c, "checks": checks, "scheduler": sched, "describe": describe, "gmd": gmd,
                      "lambda": lam, "total": sched + describe + gmd + lam,
                      "rollout_checks": len(steps) * interval / c, "rollout_h": per_rollout_h,
                      "rollout_total": (sched + describe + gmd + lam) * per_rollout_h})
    return {"rows": rows, "h_event": h_event, "h_gate": h_gate, "calls_event": calls_event, "local": local,
            "check_s": check_s, "costs": costs}


def section(measured: dict | None, why_not: str = "") -> str:
    m = model(measured)
    def show(v) -> str:
        if isinstance(v, float) and 0 < v < 0.001:
            return f"{v:.10f}".rstrip("0")
        return str(v)

    inputs = "\n".join(f"- `{k}` = {show(v)}: {label}" for k, (v, label) in INPUTS.items())
    table = "\n".join(f"| {name} | {secs(lo)} | {secs(hi)} |" for name, lo, hi in m["rows"])
    if measured:
        ops = fold(measured["ops"]) if measured["ops"] else "not recorded in this run"
        build = Path(measured["binary"])
        kind = " (a debug build: slower than the release build `make bench` uses)" if "debug" in build.parts else ""
        how = (f"Measured: `{'/'.join(build.parts[-3:])}`{kind} handling an ALARM state-change event during a "
               f"rollout on the local emulator (moto), {measured['runs']} runs, each after a fresh push started a "
               f"rollout: median {measured['median_s'] * 1000:.0f} ms (min {measured['min_s'] * 1000:.0f}, max "
               f"{measured['max_s'] * 1000:.0f}; load average {measured['load']:.2f} on {measured['cores']} cores "
               f"when it started) from process start to exit, the pending check's delete, the restore "
               f"of `$LATEST` and the notification included. Its AWS calls (one untimed run, moto's recorder): "
               f"{len(measured['ops'])} calls: {ops}. Traffic is back on the stable version at call "
               f"{m['calls_event']} (UpdateAlias). A check is not measured (moto does not speak the CloudWatch "
               f"SDK's protocol): the alarm path's local time stands in for a check's.")
    else:
        how = (f"Not measured in this run ({why_not or 'no emulator or binary'}): the deployer's local time is "
               f"taken as 0, so its times above and below are only its AWS round trips.")
    c60 = next(c for c in m["costs"] if c["check_secs"] == 60)
    cost_rows = "\n".join(
        f"| {c['check_secs']} | {c['checks']:.0f} | {usd(c['scheduler'])} | {usd(c['describe'])} | {usd(c['gmd'])} | "
        f"{usd(c['lambda'])} | **{usd(c['total'])}** | {c['rollout_checks']:.0f} checks, {usd(c['rollout_total'])} |"
        for c in m["costs"])
    ev_row = next(r for r in m["rows"] if r[0].startswith("ours: alarm state-change event"))
    cd_row = next(r for r in m["rows"] if r[0].startswith("CodeDeploy"))
    gate60 = next(r for r in m["rows"] if r[0].endswith("check_secs 60") and "gate" in r[0])
    steps, interval = val("example_steps"), val("example_interval_s")
    return f"""{HEADING}

Written by `bench/rollout_model.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python
{platform.python_version()}). A model: each figure below is computed by the script from the inputs
listed under it and, where said, from one measurement. Best and worst cases, not averages.

### From a bad canary's first errors to all traffic on the stable version

Assumed: the canary fails from its first request, with enough traffic that the first minute's errors
cross the alarm's threshold and the gate's `max_error_rate` (and `min_invocations`).

| route | best | worst |
|---|---|---|
{table}

How each is computed: the alarm goes to ALARM once its last breaching datapoint is readable (metric
delay + (evaluation periods − 1) × period) and CloudWatch next evaluates it (+ 0 to one evaluation
interval). Our event route adds the event's delivery, Lambda starting the deployer, and the
deployer's own time to traffic back on stable ({fmt_s(m['h_event'])}: all of its measured local
time, an upper bound, + {m['calls_event']} AWS calls). CodeDeploy's best case adds nothing: its alarm poll and its own alias
move are taken as instant. The gate reads the version's own metrics at the next check: metric delay
+ up to `check_secs` until that check + the scheduler's precision + Lambda's start + the deployer's
time ({fmt_s(m['h_gate'])}: the same local time + {val('calls_gate_to_stable')} AWS calls). The last rows are
the alarm read by a check's `DescribeAlarms`, for installs without the alarm rule.

What it says: against CodeDeploy at its best, the alarm event costs
{fmt_s(ev_row[1] - cd_row[1])}–{fmt_s(ev_row[2] - cd_row[2])} more (delivery, start, our own calls);
every second CodeDeploy waits between its alarm polls (not documented) counts against it instead.
Both are dominated by CloudWatch: the metric delay and the alarm's evaluation. The built-in gate
needs no alarm and, at `check_secs` 60, takes {fmt_s(gate60[1])}–{fmt_s(gate60[2])}. Not in these
figures: the deployer has reserved concurrency {val('reserved_concurrency')}, so an event that arrives while
{val('reserved_concurrency')} invocations already run (a fan-out can fill them) is throttled and waits in Lambda's
queue for asynchronous invocations, retried with backoff until one of them has ended (each runs at most
the {val('deployer_timeout_s')} s function timeout). The event route needs
the alarm rule, which is optional; every check reads the alarms as well.

{how}

### What a rollout costs

Per hour of canary, one check every `check_secs`; each check is one Scheduler invocation, one
`DescribeAlarms`, one `GetMetricData` of {val('metrics_per_check')} metrics and one invocation of the
deployer ({fmt_s(m['check_s'])} billed: its local time + {val('calls_per_check')} AWS calls). List
prices; the free tiers named with them below are left out (GetMetricData has none).

| check_secs | checks per hour | Scheduler | DescribeAlarms | GetMetricData | deployer Lambda | per hour | the example rollout ({steps}, {interval} s a step) |
|---|---|---|---|---|---|---|---|
{cost_rows}

Thirty days of canary in all (a long rollout, or many) at `check_secs` 60: {c60['checks'] * 24 * 30:,.0f}
checks, {usd(c60['total'] * 24 * 30)}. CodeDeploy charges {usd(val('codedeploy_price'))} for Lambda
deployments; the alarms both rely on are the user's own and are not counted here.

Inputs (fixed, not measured):

{inputs}

{rollout_evidence.section(m['h_gate'])}"""


def write(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Puts the section into BENCHMARKS.md: replaces the section of the same heading, else appends."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(HEADING)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(HEADING))
        new = old[:start] + text + (old[end:] if end >= 0 else "")
    path.write_text(new.rstrip("\n") + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-measure", action="store_true", help="model only: do not run the deployer against moto")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "7")))
    ap.add_argument("--write", action="store_true", help="put the section into BENCHMARKS.md")
    args = ap.parse_args()
    measured, why_not = None, "--no-measure"
    if not args.no_measure:
        work = ROOT / "target" / "bench"
        work.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(work / "moto_recording.jsonl"))
        sys.path.insert(0, str(ROOT / "tests" / "e2e"))
        sys.path.insert(0, str(ROOT / "bench"))
        try:
            from harness import Moto  # noqa: PLC0415
            from run import Calls  # noqa: PLC0415

            with Moto() as moto:
                measured = measure(moto, args.runs, Calls)
        except Exception as e:  # noqa: BLE001 - the model stands without the measurement, and says so
            why_not = f"{type(e).__name__}: {e}"
            print(f"not measured: {why_not}", file=sys.stderr)
    text = section(measured, why_not)
    if args.write:
        write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
