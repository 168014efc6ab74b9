"""Rollouts on little traffic, and what each gate costs (issue 26): part of "Rollouts: detection and
cost", written by bench/rollout_model.py, which passes in the deployer's own time per check.

A model, computed from the inputs below (each labelled: documented, list price, assumption, or from
the code), by simulating a rollout's checks one by one as src/rollout/verdict.rs decides them: how
long a bad canary on a function with 1 request a minute keeps its share of traffic, before this
release (too little traffic passed), with verdicts (inconclusive holds, then `on_inconclusive`),
and with synthetic traffic; and the price of a check per gate configuration.
"""

from __future__ import annotations

import math

INPUTS = {
    "traffic_per_min": (1.0, "the function's traffic: 1 request a minute on the alias (a low-traffic function)"),
    "bad_error_rate": (1.0, "the bad canary fails every request (real and synthetic)"),
    "min_invocations": (20, "the example rollout's min_invocations"),
    "max_error_rate": (0.05, "the example rollout's max_error_rate"),
    "max_wait_s": (3600, "max_wait_secs, the default"),
    "steps": ([10, 50], "the example rollout: steps [10, 50], interval_secs 300, check_secs 60"),
    "interval_s": (300, "interval_secs"),
    "check_s": (60, "check_secs"),
    "metric_delay_s": ((60, 120), "assumption, as above: 1–2 min until an invocation's datapoint is readable"),
    "scheduler_precision_s": ((0, 59), "documented, as above: a one-time schedule fires within its minute"),
    "lambda_start_s": ((0.0, 1.0), "assumption, as above: warm to cold start of the deployer"),
    "synthetic_concurrency": (4, "from the code (src/rollout/synthetic.rs): 4 synthetic invocations in flight"),
    "target_duration_s": ((0.1, 1.0), "assumption: one invocation of the target function takes 0.1–1 s"),
    "target_memory_gb": (0.5, "assumption: the target function has 512 MB"),
    "price_gmd_metric": (0.01 / 1000, "list price: CloudWatch GetMetricData, $0.01 per 1,000 metrics requested"),
    "price_lambda_request": (0.20 / 1_000_000, "list price: Lambda, $0.20 per million requests"),
    "price_lambda_gb_s": (0.0000133334, "list price: Lambda arm64, $0.0000133334 per GB-second"),
    "deployer_memory_gb": (128 / 1024, "the deployer's memory: 128 MB"),
}

# Metrics one GetMetricData asks per gate configuration, from the code (src/rollout/gates.rs) and
# checked by tests/rollout_verdicts.rs (`metrics_asked`): the new version's Errors and Invocations
# always (the evidence), the stable version's for the baseline, a p99 Duration per version.
GATES = [
    ("`alarms` only", 0, "no GetMetricData: the alarms are the evidence"),
    ("`max_error_rate`", 2, "Errors, Invocations of the new version"),
    ("`max_error_rate` + `max_error_rate_increase`", 4, "+ Errors, Invocations of the stable version"),
    ("`max_p99_ms`", 3, "+ p99 Duration of the new version"),
    ("`max_latency_increase`", 4, "+ p99 Duration of both versions"),
    ("all four", 6, "every metric above, once"),
]


def val(key: str):
    return INPUTS[key][0]


def simulate(verdicts: bool, synthetic: int, proceed: bool, case: int, h_gate: float) -> tuple[str, float, float]:
    """One rollout of a bad canary, check by check; `case` 0 = best, 1 = worst of every range.
    Returns (how it ended, seconds from its start, the real requests it failed)."""
    delay = val("metric_delay_s")[case]
    late = val("scheduler_precision_s")[case]
    start = val("lambda_start_s")[case]
    dur = val("target_duration_s")[case]
    rate, need = val("traffic_per_min") / 60, val("min_invocations")
    interval, check, wait = val("interval_s"), val("check_s"), val("max_wait_s")
    t0, failed_real = 0.0, 0.0
    for n, pct in enumerate(val("steps"), 1):
        w = pct / 100
        made, k = 0, 0
        while True:
            k += 1
            now = t0 + k * check + late
            real = w * rate * max(0.0, now - t0 - delay)
            spent = 0.0
            if synthetic and real + made < need:
                more = min(synthetic, math.ceil(need - real - made))
                made += more
                spent = math.ceil(more / val("synthetic_concurrency")) * dur
            end = now + start + spent + h_gate
            evidence = real + made
            if evidence >= need and val("bad_error_rate") > val("max_error_rate"):
                return f"detected at step {n} ({pct} %): rolled back", end, failed_real + w * rate * (end - t0)
            age = now - t0
            if not verdicts and age >= interval:
                break  # before this release: too little traffic passed
            if verdicts and age >= interval + wait:
                if not proceed:
                    return (f"inconclusive at step {n} ({pct} %) for max_wait_secs: rolled back", end,
                            failed_real + w * rate * (end - t0))
                break
        failed_real += w * rate * (end - t0)
        t0 = end
    return "never detected: 100 % on the new version", t0, failed_real


def mins(s: float) -> str:
    return f"{s / 60:.1f} min"


def section(h_gate: float) -> str:
    cases = [
        ("before this release (too little traffic passed)", False, 0, False),
        ("verdicts, `on_inconclusive` rollback (the default)", True, 0, False),
        ("verdicts, `on_inconclusive` proceed", True, 0, True),
        ("verdicts + `synthetic` `max_per_check` 5", True, 5, False),
        ("verdicts + `synthetic` `max_per_check` 20", True, 20, False),
    ]
    rows = []
    for name, verdicts, synth, proceed in cases:
        how, best, failed_best = simulate(verdicts, synth, proceed, 0, h_gate)
        _, worst, failed_worst = simulate(verdicts, synth, proceed, 1, h_gate)
        rows.append(f"| {name} | {how} | {mins(best)} | {mins(worst)} | {failed_best:.1f}–{failed_worst:.1f} |")
    check_h = 3600 / val("check_s")
    cost_rows = []
    for name, metrics, what in GATES:
        per_check = metrics * val("price_gmd_metric")
        cost_rows.append(f"| {name} | {metrics} ({what}) | ${per_check:.5f} | ${per_check * check_h:.4f} |")
    lo, hi = val("target_duration_s")
    for n in (5, 20, 100):
        batches = math.ceil(n / val("synthetic_concurrency"))
        target = n * (val("price_lambda_request") + hi * val("target_memory_gb") * val("price_lambda_gb_s"))
        deployer = batches * hi * val("deployer_memory_gb") * val("price_lambda_gb_s")
        cost_rows.append(f"| `synthetic` `max_per_check` {n}, a check short of evidence | {n} Invokes of the new "
                         f"version, {batches * lo:.1f}–{batches * hi:.1f} s of the deployer's time | "
                         f"${target + deployer:.6f} | ${(target + deployer) * check_h:.4f} while short |")
    inputs = "\n".join(f"- `{k}` = {v}: {label}" for k, (v, label) in INPUTS.items())
    steps = val("steps")
    return f"""### A bad canary on 1 request a minute

A function with {val('traffic_per_min'):.0f} request a minute on its alias, the example rollout ({steps},
`interval_secs` {val('interval_s')}, `check_secs` {val('check_s')}, `min_invocations` {val('min_invocations')},
`max_error_rate` {val('max_error_rate')}), a canary failing every request. Simulated check by check as
src/rollout/verdict.rs decides (`bench/rollout_evidence.py`); times from the rollout's start to all
traffic back on the stable version (or to 100 % on the bad one), best and worst of the ranges below;
the last column is the real requests the bad canary failed meanwhile.

| rollout | how it ends | best | worst | real requests failed |
|---|---|---|---|---|
{chr(10).join(rows)}

At 10 % of 1 request a minute, 20 invocations take 200 minutes to arrive: before this release the
canary reached 100 % unjudged; with verdicts it holds and is withdrawn after `max_wait_secs` (or,
with `proceed`, judged at 50 %). Synthetic invocations are counted by the deployer at once (no
metric delay), so with `max_per_check` ≥ `min_invocations` the first check decides.

### What a check costs, per gate

Each check that reads metrics makes one GetMetricData; its price is per metric asked. Synthetic
invocations are made only at a check short of evidence (never once the step has enough), billed as
the target's own Lambda requests, plus the deployer's time waiting for them ({val('synthetic_concurrency')} at a time).

| gates | GetMetricData metrics per check | per check | per hour at `check_secs` {val('check_s')} |
|---|---|---|---|
{chr(10).join(cost_rows)}

Inputs of this part (fixed, not measured):

{inputs}
"""
