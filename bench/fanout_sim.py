#!/usr/bin/env python3
"""Fleets at scale: a push for 10, 100 and 500 functions and a fleet rollback of 500, simulated on
the modelled Lambda world in virtual time by `tests/fanout_scale.rs` (which asserts the bounds;
this only reports its numbers). The world enforces Lambda's account-wide rates (15 control-plane
requests a second, 100 GetFunction; 429 with Retry-After beyond) across every run at once, and the
runs overlap in virtual time as Lambda's queue runs them at reserved concurrency 10.

The test prints one line `FANOUT_SIM {json}` per row; every number in the section comes from them.
The times are virtual (update times drawn from 30-90 s with a fixed seed, the deployer's own
pacing and polling), so they do not depend on the machine, the build profile or its load: the
debug build `cargo test` already made is used.

Standalone: `python bench/fanout_sim.py` prints the section; `--write` puts it into BENCHMARKS.md,
replacing the section of the same name (or adding it at the end). `make bench` (bench/run.py)
appends it to the BENCHMARKS.md it writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Fan-out at scale: 10, 100 and 500 functions at Lambda's rate (virtual time)"
# Earlier names of this section, replaced by it.
OLD_HEADINGS = ["## Fan-out at scale: 500 functions (virtual time)"]
# The same push before batches and the rate budget (one run per function, reserved concurrency
# 10): the figure this section showed then, from the same seed.
BEFORE_500_MIN = 50.7


def measure() -> list[dict]:
    out = subprocess.run(
        ["cargo", "test", "--quiet", "--locked", "--test", "tests", "fanout_scale::", "--", "--nocapture", "--test-threads", "1"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    # A line may start with the test runner's progress dots: find the marker anywhere.
    rows = [json.loads(m) for m in re.findall(r"FANOUT_SIM (\{.*\})", out)]
    if not rows:
        raise RuntimeError("tests/fanout_scale.rs printed no FANOUT_SIM line")
    return sorted(rows, key=lambda r: (r["action"] != "deploy", r["functions"]))


def mins(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


def section(rows: list[dict] | None, why_not: str = "") -> str:
    if rows is None:
        return f"{HEADING}\n\nNot run this time ({why_not}).\n"
    seed = rows[0]["update_secs"]
    budget = rows[0]["budget_rps"]
    lines = [
        "| | functions | all live after | floor | ratio | control-plane calls | 429s | peak runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        what = "push" if r["action"] == "deploy" else "fleet rollback"
        lines.append(
            f"| {what} | {r['functions']} | **{mins(r['took_secs'])}** | {mins(r['floor_secs'])} | "
            f"{r['ratio']:.2f} | {r['control_plane_calls']} | {r['throttles']} | {r['peak_runs']} |"
        )
    table = "\n".join(lines)
    return f"""{HEADING}

`tests/fanout_scale.rs`, on the modelled Lambda world in virtual time, at the default budget
(`DEPLOYER_CONTROL_PLANE_RPS` {budget:.0f}, `DEPLOYER_INLINE_MAX` 8, reserved concurrency 10): each
function's image update takes {seed['min']}–{seed['max']} s (drawn with seed {seed['seed']}). The world enforces
Lambda's account-wide rates across all runs at once (15 control-plane requests a second, 100
GetFunction; 429 with `Retry-After` beyond). The floor is what no deployer can beat at this budget:
the control-plane calls made ÷ {budget:.0f} a second + the longest update (0 for a rollback); the test
asserts every row within 1.5× its floor with no function failed.

{table}

Above 20 functions a push is dispatched in 8 batches; each batch's run deploys its functions all at
once at its share of the budget, so the calls of one function overlap the updates of the others and
the total can come in under the floor's sum. 10 functions get one run each (the 429s are the burst
of 10 runs starting together, waited out as Lambda asks). Before batches and the budget, one run
per function at reserved concurrency 10, the 500-function push took {BEFORE_500_MIN} min.
"""


def write(md_section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    md = path.read_text()
    for heading in [HEADING, *OLD_HEADINGS]:
        if heading in md:
            md = re.sub(re.escape(heading) + r".*?(?=\n## |\Z)", lambda _: md_section.rstrip("\n") + "\n", md, flags=re.S)
            break
    else:
        md = md.rstrip("\n") + "\n\n" + md_section
    path.write_text(md)


def main() -> int:
    s = section(measure())
    if "--write" in sys.argv[1:]:
        write(s)
    print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
