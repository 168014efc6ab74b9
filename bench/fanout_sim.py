#!/usr/bin/env python3
"""Fan-out at scale: one push for 500 functions, simulated on the modelled Lambda world in virtual
time by `tests/fanout_scale.rs` (which asserts the bounds; this only reports its numbers).

The test prints one line `FANOUT_SIM {json}`; every number in the section comes from it. The times
are virtual (update times drawn from 30-90 s with a fixed seed, the deployer's own polling
cadence), so they do not depend on the machine, the build profile or its load: the debug build
`cargo test` already made is used.

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
HEADING = "## Fan-out at scale: 500 functions (virtual time)"
LAMBDA_TIMEOUT_S = 900
# An assumption, not a measurement: one asynchronous Invoke's round trip from inside AWS.
INVOKE_RTT_S = 0.05
DISPATCH_PARALLEL = 16  # src/actions/dispatch.rs


def measure() -> dict:
    out = subprocess.run(
        ["cargo", "test", "--quiet", "--locked", "--test", "tests", "fanout_scale::", "--", "--nocapture", "--test-threads", "1"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("FANOUT_SIM "))
    return json.loads(line.removeprefix("FANOUT_SIM "))


def mins(s: float) -> str:
    return f"{s / 60:.1f} min"


def section(m: dict | None, why_not: str = "") -> str:
    if m is None:
        return f"{HEADING}\n\nNot run this time ({why_not}).\n"
    n = m["functions"]
    rounds = -(-n // DISPATCH_PARALLEL)
    return f"""{HEADING}

`tests/fanout_scale.rs`, on the modelled Lambda world in virtual time: one push for {n} functions,
each function's image update taking {m['update_secs']['min']}–{m['update_secs']['max']} s (drawn with seed
{m['update_secs']['seed']}; the test asserts every bound below, this table only reports it).

| | fan-out (`DEPLOYER_INLINE_MAX` 8, reserved concurrency {m['reserved_concurrency']}) | inline (`DEPLOYER_MAX_PARALLEL` {m['inline_parallel']}, one run) |
|---|---|---|
| the run that got the push | {m['dispatch_invokes']} asynchronous Invokes, waits for nothing ({m['dispatch_virtual_secs']:.1f} s of virtual time) | deploys all {n} itself |
| longest single run | {m['run_longest_secs']:.1f} s (one function; mean {m['run_mean_secs']:.1f} s) | {mins(m['inline_total_secs'])} |
| all {n} live after | **{mins(m['fanout_total_secs'])}** | {mins(m['inline_total_secs'])}, i.e. **{m['inline_invocations']:.1f} × the 15-minute limit** |

The arithmetic: the {n} runs add up to {m['work_secs']:.0f} s of work (each its update plus at most
{m['run_overhead_max_secs']:.2f} s to notice it finished); over {m['reserved_concurrency']} concurrent runs that is at least
{mins(m['fanout_ideal_secs'])}, and Lambda's queue starting each run as a slot frees gives
{mins(m['fanout_total_secs'])} (the bound the test checks: between work/{m['reserved_concurrency']} and work/{m['reserved_concurrency']} + the longest run).
Inline, `buffered({m['inline_parallel']})` needs {mins(m['inline_total_secs'])}: one invocation would be stopped at 15 min
with most functions not deployed.

The modelled world answers API calls at once, so the dispatching run's {m['dispatch_virtual_secs']:.1f} s leaves out
the Invokes' own round trips: at an assumed {INVOKE_RTT_S * 1000:.0f} ms each, {DISPATCH_PARALLEL} in flight, {n} take
about {rounds * INVOKE_RTT_S:.1f} s. No run comes near 15 minutes: the longest is {m['run_longest_secs']:.0f} s.
"""


def write(md_section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    md = path.read_text()
    if HEADING in md:
        md = re.sub(re.escape(HEADING) + r".*?(?=\n## |\Z)", lambda _: md_section.rstrip("\n") + "\n", md, flags=re.S)
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
