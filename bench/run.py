#!/usr/bin/env python3
"""`make bench`: measures self-deployer against the seed's script and the SDK waiter, and writes
BENCHMARKS.md. Benchmarks, not tests: nothing here fails on a slow machine. Medians of runs taken
alternately, side by side, in the same session, because these machines are noisy.

Every number and every claim in the report comes from this run: call counts from the emulator's
request recorder, process counts from a shim, memory from the kernel's accounting of the deployer
alone (bench/maxrss.c), CPU sharing from /proc/stat. Fixed inputs (prices, the cost scenario, the
targets) are labelled as such."""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import ACCOUNT, REGION, Moto, World, ecr_event  # noqa: E402
from runtime_api import RuntimeApi  # noqa: E402

import rollout_model  # noqa: E402  (bench/, next to this script)
import fanout_sim  # noqa: E402  (bench/, next to this script)

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
FAN_RUNS = 3
RELEASE = ROOT / "target" / "release" / "self-deployer"
ARM_ZIP = ROOT / "target" / "lambda" / "self-deployer" / "bootstrap.zip"
AWS = ROOT / ".venv-bench" / "bin" / "aws"
WORK = ROOT / "target" / "bench"
MAXRSS = WORK / "maxrss"
OK = '{"statusCode":200}'
HEALTH = {"httpMethod": "GET", "path": "/api/v1/health"}
# Fixed inputs, not measurements. AWS Lambda arm64 price, us-east-1, first 6 billion GB-seconds per
# month, and per request (aws.amazon.com/lambda/pricing, as published in 2026). Lambda's smallest
# memory size is 128 MB. The cost scenario: 50 pushes a day for 30 days, each waiting 30 s on AWS.
ARM_GB_SECOND = 0.0000133334
PER_REQUEST = 0.20 / 1_000_000
LAMBDA_MIN_MB = 128
PUSHES_PER_DAY = 50
AWS_UPDATE_WAIT_S = 30


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def timed(cmd: list[str], env: dict, stdin: str = "") -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stdout}{p.stderr}")
    return dt


def aws_env(moto: Moto, bin_dir: Path = AWS.parent) -> dict:
    return dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
                PATH=f"{bin_dir}:{os.environ['PATH']}")


# --- which calls were made: moto's request recorder, mapped to operation names ---------------------

_REST: dict[str, list] = {}


def _rest_operations(service: str) -> list:
    """(method, path regex, query keys, literal length, name) for a rest-json service, from botocore."""
    if service not in _REST:
        from botocore.session import get_session

        model = get_session().get_service_model(service)
        ops = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            path, _, query = http["requestUri"].partition("?")
            rx = "".join(".+" if p.endswith("+}") else "[^/]+" if p.startswith("{") else re.escape(p)
                         for p in re.split(r"(\{[^}]+\})", path))
            keys = [k.split("=")[0] for k in query.split("&") if k and not k.startswith("{")]
            ops.append((http["method"], re.compile(rx.rstrip("/") + "/?$"), keys, len(re.sub(r"\{[^}]+\}", "", path)), name))
        _REST[service] = ops
    return _REST[service]


def operation(entry: dict) -> str | None:
    """The AWS operation one recorded request was (None for the emulator's own API)."""
    h = {k.lower(): v for k, v in entry["headers"].items()}
    url = urlsplit(entry["url"])
    if url.path.startswith("/moto-api"):
        return None
    if "x-amz-target" in h:  # awsJson (ECR)
        return h["x-amz-target"].rsplit(".", 1)[-1]
    m = re.search(r"/service/[^/]+/operation/([^/?]+)", url.path)  # rpcv2Cbor
    if m:
        return m.group(1)
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode(errors="replace")
    if "x-www-form-urlencoded" in h.get("content-type", ""):  # awsQuery (SNS)
        action = parse_qs(body).get("Action")
        if action:
            return action[0]
    svc = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", h.get("authorization", ""))
    if svc:
        query = parse_qs(url.query, keep_blank_values=True)
        best = max(((lit, name) for method, rx, keys, lit, name in _rest_operations(svc.group(1))
                    if method == entry["method"] and rx.match(url.path) and all(k in query for k in keys)),
                   default=None)
        if best:
            return best[1]
    return f"{entry['method']} {url.path}"


class Calls:
    """The AWS API calls the emulator receives inside `with Calls(moto) as c:`, in order (c.ops).
    Recording costs time, so counting runs are separate from timed runs."""

    def __init__(self, moto: Moto) -> None:
        self.moto = moto
        self.ops: list[str] = []

    def _api(self, action: str, method: str = "POST") -> str:
        req = urllib.request.Request(f"{self.moto.endpoint}/moto-api/recorder/{action}", method=method,
                                     data=b"" if method == "POST" else None)
        return urllib.request.urlopen(req, timeout=10).read().decode()

    def __enter__(self) -> "Calls":
        self._api("reset-recording")
        self._api("start-recording")
        return self

    def __exit__(self, *exc) -> None:
        self._api("stop-recording")
        entries = [json.loads(line) for line in self._api("download-recording", "GET").splitlines() if line.strip()]
        self.ops = [op for op in map(operation, entries) if op]


def sequence(ops: list[str]) -> str:
    """GetAlias → GetFunction ×2 → … (consecutive repeats folded)."""
    out: list[str] = []
    for op in ops:
        if out and out[-1][0] == op:
            out[-1][1] += 1
        else:
            out.append([op, 1])
    return " → ".join(f"{op} ×{n}" if n > 1 else op for op, n in out)


# --- the benchmarks -----------------------------------------------------------------------------

def floor_deploy(sts, lam, image_uri: str) -> None:
    """self-deployer's own API calls for one deploy, back to back from one process (boto3 clients
    made beforehand). The counting run checks that they are the same calls, in the same order, as
    the binary's."""
    sts.get_caller_identity()
    alias = lam.get_alias(FunctionName="bench-fn", Name="live")
    lam.get_function(FunctionName="bench-fn", Qualifier=alias["FunctionVersion"])
    lam.get_function(FunctionName="bench-fn")
    lam.update_function_code(FunctionName="bench-fn", ImageUri=image_uri)
    conf = lam.get_function(FunctionName="bench-fn")["Configuration"]
    lam.invoke(FunctionName="bench-fn", Qualifier="$LATEST", Payload=json.dumps(HEALTH).encode(), LogType="Tail")
    v = lam.publish_version(FunctionName="bench-fn", CodeSha256=conf["CodeSha256"])["Version"]
    lam.update_alias(FunctionName="bench-fn", Name="live", FunctionVersion=v, RevisionId=alias["RevisionId"])


def seed_floor(lam, image_uri: str) -> None:
    """The seed script's API calls, back to back from one process (boto3 client made beforehand),
    checked against the script's recorded calls like the floor above."""
    lam.update_function_code(FunctionName="bench-fn", ImageUri=image_uri)
    lam.get_function_configuration(FunctionName="bench-fn")  # the waiter's poll: done on the emulator
    lam.invoke(FunctionName="bench-fn", Qualifier="$LATEST", Payload=json.dumps(HEALTH).encode())
    v = lam.publish_version(FunctionName="bench-fn")["Version"]
    lam.update_alias(FunctionName="bench-fn", Name="live", FunctionVersion=v)


def aws_shim() -> tuple[Path, Path]:
    """A directory whose `aws` counts its invocations into a file, then runs the real aws CLI."""
    shim_dir, count = WORK / "aws-shim", WORK / "aws-processes"
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "aws"
    shim.write_text(f'#!/bin/sh\necho x >> "{count}"\nexec "{AWS}" "$@"\n')
    shim.chmod(0o755)
    count.write_text("")
    return shim_dir, count


def whole_flow(moto: Moto) -> dict:
    """Benchmark 2: the seed's script vs `self-deployer handle`, alternating, same state."""
    world = World.build(moto)
    world.repository("bench")
    d0 = world.push_image("bench", "v0", "bench 0")
    world.function("bench-fn", "bench", d0)
    targets = [{"repository": "bench", "functions": ["bench-fn"]}]
    env_ours = world.env(targets, RUST_LOG="warn")
    env_ours.pop("DEPLOYER_TOPIC_ARN")  # both sides do the same work: no notification
    script_cmd = ["bash", str(ROOT / "bench" / "seed_deploy.sh"), moto.endpoint, "bench-fn"]

    # Counting run (not timed): the calls each side makes, as the emulator received them, and the
    # number of aws CLI processes the script starts.
    shim_dir, count_file = aws_shim()
    d = world.push_image("bench", "count-script", "counted script image")
    moto.queue_invoke_results(OK)
    with Calls(moto) as c_script:
        timed(script_cmd + [World.image_uri("bench", d)], aws_env(moto, shim_dir))
    aws_processes = len(count_file.read_text().splitlines())
    d = world.push_image("bench", "count-ours", "counted image")
    moto.queue_invoke_results(OK)
    with Calls(moto) as c_ours:
        timed([str(RELEASE), "handle", "-"], env_ours, json.dumps(ecr_event("bench", d, "count-ours")))
    d = world.push_image("bench", "count-floor", "counted floor image")
    moto.queue_invoke_results(OK)
    sts, lam = moto.client("sts"), moto.client("lambda")
    with Calls(moto) as c_floor:
        floor_deploy(sts, lam, World.image_uri("bench", d))
    d = world.push_image("bench", "count-seed-floor", "counted seed floor image")
    moto.queue_invoke_results(OK)
    with Calls(moto) as c_seed_floor:
        seed_floor(lam, World.image_uri("bench", d))

    script, ours, floor, script_floor, aws_start = [], [], [], [], []
    n = 0
    for i in range(RUNS):
        n += 1
        d = world.push_image("bench", f"s{n}", f"script image {n}")
        moto.queue_invoke_results(OK)
        script.append(timed(script_cmd + [World.image_uri("bench", d)], aws_env(moto)))
        n += 1
        d = world.push_image("bench", f"o{n}", f"our image {n}")
        moto.queue_invoke_results(OK)
        ours.append(timed([str(RELEASE), "handle", "-"], env_ours, json.dumps(ecr_event("bench", d, f"o{n}"))))
        n += 1
        d = world.push_image("bench", f"f{n}", f"floor image {n}")
        moto.queue_invoke_results(OK)
        t = time.perf_counter()
        floor_deploy(sts, lam, World.image_uri("bench", d))
        floor.append(time.perf_counter() - t)
        n += 1
        d = world.push_image("bench", f"sf{n}", f"seed floor image {n}")
        moto.queue_invoke_results(OK)
        t = time.perf_counter()
        seed_floor(lam, World.image_uri("bench", d))
        script_floor.append(time.perf_counter() - t)
        # One aws CLI start-up without a request, for the share of the script's time it explains.
        aws_start.append(timed([str(AWS), "--version"], aws_env(moto)))
    return {"script": median_ms(script), "ours": median_ms(ours), "floor": median_ms(floor),
            "script_floor": median_ms(script_floor), "aws_start": median_ms(aws_start), "aws_processes": aws_processes,
            "calls_script": c_script.ops, "calls_ours": c_ours.ops, "calls_floor": c_floor.ops,
            "calls_script_floor": c_seed_floor.ops}


def rollback(moto: Moto) -> dict:
    """Benchmark 3: the seed's `aws lambda update-alias` vs our rollback, alternating."""
    world = World.build(moto)
    world.repository("rb")
    d0 = world.push_image("rb", "v0", "rb 0")
    world.function("rb-fn", "rb", d0)
    targets = [{"repository": "rb", "functions": ["rb-fn"]}]
    for n in (1, 2):
        d = world.push_image("rb", f"v{n}", f"rb {n}")
        moto.queue_invoke_results(OK)
        run = world.handle(ecr_event("rb", d, f"v{n}"), targets)
        if run.code != 0:
            raise RuntimeError(f"setup deploy failed: {run.stdout}{run.stderr}")
    env_ours = world.env(targets, RUST_LOG="warn")
    env_ours.pop("DEPLOYER_TOPIC_ARN")
    script_cmd = ["bash", str(ROOT / "bench" / "seed_rollback.sh"), moto.endpoint, "rb-fn", "2"]
    ours_cmd = [str(RELEASE), "rollback", "--function", "rb-fn"]
    lam = moto.client("lambda")
    start = world.alias_version("rb-fn")

    # Counting run: both must move live from `start` to version 2.
    moved = {}
    for side, cmd, env in (("script", script_cmd, aws_env(moto)), ("ours", ours_cmd, env_ours)):
        with Calls(moto) as c:
            timed(cmd, env)
        moved[side] = (c.ops, world.alias_version("rb-fn"))
        lam.update_alias(FunctionName="rb-fn", Name="live", FunctionVersion=start)
    for side, (_, to) in moved.items():
        if to != "2":
            raise RuntimeError(f"{side} rollback moved live from {start} to {to}, expected 2")

    script, ours = [], []
    for _ in range(RUNS):
        script.append(timed(script_cmd, aws_env(moto)))
        lam.update_alias(FunctionName="rb-fn", Name="live", FunctionVersion=start)
        ours.append(timed(ours_cmd, env_ours))
        lam.update_alias(FunctionName="rb-fn", Name="live", FunctionVersion=start)
    return {"script": median_ms(script), "ours": median_ms(ours), "from": start,
            "calls_script": moved["script"][0], "calls_ours": moved["ours"][0]}


def fan_out(moto: Moto) -> list[tuple[int, float, float]]:
    """Benchmark 4: one push, 1, 8 and 32 functions (DEPLOYER_MAX_PARALLEL 4 and 32)."""
    rows = []
    for count in (1, 8, 32):
        moto.reset()
        world = World.build(moto)
        world.repository("fan")
        d0 = world.push_image("fan", "v0", "fan 0")
        names = [f"fan-{i}" for i in range(count)]
        for f in names:
            world.function(f, "fan", d0)
        targets = [{"repository": "fan", "functions": names}]
        cells = []
        for parallel in ("4", "32"):
            times = []
            for r in range(FAN_RUNS):
                d = world.push_image("fan", f"p{parallel}r{r}", f"fan {parallel} {r}")
                moto.queue_invoke_results(*([OK] * count))
                # Inline on purpose (one run deploys them all): the fan-out would dispatch above 8.
                env = world.env(targets, RUST_LOG="warn", DEPLOYER_MAX_PARALLEL=parallel, DEPLOYER_INLINE_MAX="64")
                env.pop("DEPLOYER_TOPIC_ARN")
                times.append(timed([str(RELEASE), "handle", "-"], env, json.dumps(ecr_event("fan", d, f"p{parallel}r{r}"))))
            cells.append(median_ms(times))
        rows.append((count, cells[0], cells[1]))
    return rows


SIGNAL_SIDES = ("neither", "metrics", "events", "both")


def signals(moto: Moto) -> dict:
    """Benchmark 6: what EMF metrics and deployment events add to a deploy. The same `handle` of a
    push, alternately with neither, metrics only (`--metrics`: EMF on stderr), events only
    (DEPLOYER_EVENT_BUS: one PutEvents) and both, against the same emulator and function."""
    moto.reset()
    world = World.build(moto)
    world.repository("sig")
    world.function("sig-fn", "sig", world.push_image("sig", "v0", "sig 0"))
    moto.client("events").create_event_bus(Name="bench-deployments")
    targets = [{"repository": "sig", "functions": ["sig-fn"]}]
    base = world.env(targets, RUST_LOG="warn")
    base.pop("DEPLOYER_TOPIC_ARN")  # the same work on every side: no notification
    with_bus = dict(base, DEPLOYER_EVENT_BUS="bench-deployments")
    sides = {
        "neither": ([str(RELEASE), "handle", "-"], base),
        "metrics": ([str(RELEASE), "--metrics", "handle", "-"], base),
        "events": ([str(RELEASE), "handle", "-"], with_bus),
        "both": ([str(RELEASE), "--metrics", "handle", "-"], with_bus),
    }
    n = 0

    def push() -> str:
        nonlocal n
        n += 1
        tag = f"g{n}"
        d = world.push_image("sig", tag, f"sig {n}")
        moto.queue_invoke_results(OK)
        return json.dumps(ecr_event("sig", d, tag))

    # Counting run (not timed): the calls and what was written, with both on.
    cmd, env = sides["both"]
    event = push()
    with Calls(moto) as c:
        p = subprocess.run(cmd, input=event, env=env, capture_output=True, text=True)
    report = json.loads(p.stdout)
    if p.returncode != 0 or report["outcome"] != "deployed" or report["deployments"][0].get("warnings"):
        raise RuntimeError(f"signals counting run: {p.stdout}{p.stderr}")
    emf = [line for line in p.stderr.splitlines() if line.startswith("{") and '"_aws"' in line]
    times: dict[str, list[float]] = {s: [] for s in SIGNAL_SIDES}
    put_alone: list[float] = []
    events = moto.client("events")
    detail = json.dumps(json.loads(p.stdout)["deployments"][0])[:2000]
    for _ in range(RUNS):
        for side in SIGNAL_SIDES:
            cmd, env = sides[side]
            times[side].append(timed(cmd, env, push()))
        # The floor of the event: one PutEvents of a detail this size, from a client made beforehand.
        t = time.perf_counter()
        events.put_events(Entries=[{"Source": "self-deployer", "DetailType": "Deployment State Change",
                                    "Detail": detail, "EventBusName": "bench-deployments"}])
        put_alone.append(time.perf_counter() - t)
    quartiles = {s: [q * 1000 for q in statistics.quantiles(t, n=4)] for s, t in times.items()}
    return {"median": {s: median_ms(t) for s, t in times.items()}, "quartiles": quartiles,
            "put_alone": median_ms(put_alone), "calls": c.ops,
            "emf_records": len(emf), "emf_bytes": sum(len(line) + 1 for line in emf)}


def signals_section(sig: dict) -> str:
    m, q = sig["median"], sig["quartiles"]
    rows = "\n".join(f"| {label} | {m[side]:.0f} ms | {q[side][0]:.0f}–{q[side][2]:.0f} ms | {m[side] - m['neither']:+.0f} ms |" for side, label in (
        ("neither", "neither (the CLI's default; DEPLOYER_EVENT_BUS unset)"),
        ("metrics", "metrics only (`--metrics`: EMF records on stderr)"),
        ("events", "events only (DEPLOYER_EVENT_BUS: one PutEvents)"),
        ("both", "both")))
    return f"""## 6. Signals: what metrics and events add to a run

One deploy with `self-deployer handle` (release build), the four variants alternating, {RUNS} runs each,
the same function on the same emulator.

| | median | middle half (p25–p75) | median vs. neither |
|---|---|---|---|
{rows}
| floor of the event: one `PutEvents` alone (boto3, client made beforehand) | {sig['put_alone']:.1f} ms | | |

With both on, one counting run made {len(sig['calls'])} calls: {sequence(sig['calls'])}; it wrote
{sig['emf_records']} EMF records ({sig['emf_bytes']:,} bytes: one for the function, one per step). Metrics
cost no API call: writing them is a few kilobytes to a pipe. The event is one PutEvents per run (up to
ten functions in a call), whose round trip on this emulator is the floor row. Where the differences
between medians are smaller than the middle halves' widths, they are this machine's noise, not a cost.
"""


def lambda_env(moto: Moto, api_address: str, base: dict | None = None) -> dict:
    env = dict(base if base is not None else os.environ)
    env.update(AWS_LAMBDA_RUNTIME_API=api_address, AWS_LAMBDA_FUNCTION_NAME="self-deployer",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(LAMBDA_MIN_MB), AWS_LAMBDA_FUNCTION_VERSION="$LATEST")
    return env


def startup(moto: Moto) -> list[float]:
    """Benchmark 5a: spawn → the binary's first runtime-API request, in seconds, RUNS times.

    A plain listening socket stands in for the runtime API. t0 is taken just before
    os.posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK) + execve, no Python code runs in the child);
    t1 when the request's headers have arrived on the accepted connection, read by a thread blocked
    in accept/recv (no polling, no HTTP framework). The request must be GET /invocation/next."""
    samples = []
    base = dict(os.environ, DEPLOYER_TARGETS='[{"repository":"api","functions":["api-dev"]}]', AWS_REGION=REGION,
                AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_ENDPOINT_URL=moto.endpoint,
                AWS_EC2_METADATA_DISABLED="true")
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    for _ in range(RUNS):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            srv.settimeout(30)
            env = lambda_env(moto, f"127.0.0.1:{srv.getsockname()[1]}", base)
            t0 = time.perf_counter()
            pid = os.posix_spawn(str(RELEASE), [str(RELEASE)], env, file_actions=quiet)
            try:
                conn, _ = srv.accept()
                with conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    t1 = time.perf_counter()
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            line = data.split(b"\r\n", 1)[0].decode(errors="replace")
            if not line.startswith("GET /2018-06-01/runtime/invocation/next "):
                raise RuntimeError(f"first runtime-API request was {line!r}, not GET /invocation/next")
            samples.append(t1 - t0)
    return samples


def build_maxrss() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cc", "-O2", "-Wall", "-o", str(MAXRSS), str(ROOT / "bench" / "maxrss.c")], check=True)


def read_maxrss(out: Path) -> int:
    m = re.search(r"^maxrss_kib (\d+)$", out.read_text(), re.M)
    if not m:
        raise RuntimeError(f"{out}: no maxrss line")
    return int(m.group(1))


def memory(moto: Moto) -> dict:
    """Benchmark 5b: peak RSS of the deployer alone, in KiB.

    Authoritative: ru_maxrss of the deployer as a forked child of bench/maxrss.c (see there why not
    a child of Python), for a `handle` deploy and for one deploy served as a Lambda through the
    runtime API. Cross-check: VmHWM read from /proc/PID/status while the deployer, spawned straight
    from Python, runs (after execve the address space is the deployer's own; the last reading before
    exit is a lower bound on the peak). Contrast: the ru_maxrss Python's wait4 reports for that same
    direct child, which includes Python's resident pages."""
    out = WORK / "maxrss.out"
    floor = []
    for _ in range(RUNS):
        subprocess.run([str(MAXRSS), str(out), "/bin/true"], check=True)
        floor.append(read_maxrss(out))

    moto.reset()
    world = World.build(moto)
    world.repository("mem")
    world.function("mem-fn", "mem", world.push_image("mem", "v0", "mem 0"))
    targets = [{"repository": "mem", "functions": ["mem-fn"]}]
    env = world.env(targets, RUST_LOG="warn")  # with the SNS notification, as configured in production
    n = 0

    def push() -> tuple[str, str]:
        nonlocal n
        n += 1
        tag = f"m{n}"
        d = world.push_image("mem", tag, f"mem {n}")
        moto.queue_invoke_results(OK)
        return d, tag

    handle, as_lambda, hwm, python_view = [], [], [], []
    event_file = WORK / "event.json"
    for _ in range(RUNS):
        d, tag = push()
        p = subprocess.run([str(MAXRSS), str(out), str(RELEASE), "handle", "-"], env=env,
                           input=json.dumps(ecr_event("mem", d, tag)), capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"deploy under maxrss failed ({p.returncode}): {p.stdout}{p.stderr}")
        handle.append(read_maxrss(out))

        d, tag = push()
        api = RuntimeApi(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer")
        proc = subprocess.Popen([str(MAXRSS), str(out), str(RELEASE)], env=lambda_env(moto, api.address, env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api.invoke("mem-1", ecr_event("mem", d, tag))
            result = api.wait_for("mem-1", timeout=60)
            # Stop it once it asks for the next event: the invocation is then over on its side.
            deadline = time.monotonic() + 30
            while api.next_calls < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
        finally:
            proc.send_signal(signal.SIGTERM)  # forwarded to the deployer
            proc.wait(timeout=30)
            api.stop()
        if result["kind"] != "response" or result["body"].get("outcome") != "deployed":
            raise RuntimeError(f"Lambda-mode deploy did not deploy: {result}")
        as_lambda.append(read_maxrss(out))

        d, tag = push()
        event_file.write_text(json.dumps(ecr_event("mem", d, tag)))
        pid = os.posix_spawn(str(RELEASE), [str(RELEASE), "handle", "-"], env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, str(event_file), os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
        last = 0
        while True:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                break
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if not m:  # exited: a zombie has no address space left
                break
            last = int(m.group(1))
            time.sleep(0.0005)
        _, code, usage = os.wait4(pid, 0)
        if code != 0:
            raise RuntimeError(f"direct deploy failed (wait status {code})")
        hwm.append(last)
        python_view.append(usage.ru_maxrss)
    return {"floor": floor, "handle": handle, "lambda": as_lambda, "hwm": hwm, "python": python_view}


# --- the machine ------------------------------------------------------------------------------

def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return user + nice + system + irq + softirq + steal, sum(f)


def own_cpu_s() -> float:
    """CPU seconds of this process and every child it has waited for (moto, the deployers, bash
    and, through bash, the aws CLI)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


# --- the report -------------------------------------------------------------------------------

def poll_table() -> str:
    return subprocess.run(["cargo", "run", "--quiet", "--locked", "--example", "poll_strategies"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()


def parse_cell(cell: str) -> tuple[float | None, int]:
    """'0.75 s late, 5 polls' / '3.3 min late, 10 polls' / 'gave up after 60 polls' → (late s, polls)."""
    m = re.match(r"([\d.]+) (s|min) late, (\d+) polls", cell.strip())
    if m:
        return float(m.group(1)) * (60 if m.group(2) == "min" else 1), int(m.group(3))
    m = re.match(r"gave up after (\d+) polls", cell.strip())
    if not m:
        raise ValueError(f"unexpected cell {cell!r}")
    return None, int(m.group(1))


def parse_table(table: str) -> tuple[list[float], list[tuple[str, list[tuple[float | None, int]]]]]:
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")][1:]
    ts = [float(h.split()[2]) * (60 if h.endswith("min") else 1) for h in header]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[0], [parse_cell(c) for c in cells[1:]]))
    return ts, rows


def fmt_s(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.2f} s"


def worst(cells: list[tuple[float | None, int]], ts: list[float]) -> str:
    gave_up = [t for (late, _), t in zip(cells, ts) if late is None]
    if gave_up:
        return f"gave up at T = {fmt_s(gave_up[0])}"
    return fmt_s(max(late for late, _ in cells))


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def span(kibs: list[int]) -> str:
    return f"{min(kibs) / 1024:.1f}–{max(kibs) / 1024:.1f}"


def only_signals() -> int:
    """`bench/run.py --only signals`: benchmark 6 alone, its section of BENCHMARKS.md replaced (or
    added before the cost section), the rest of the file left as the last full run wrote it."""
    os.environ["SELF_DEPLOYER_BIN"] = str(RELEASE)
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["MOTO_RECORDER_FILEPATH"] = str(WORK / "moto_recording.jsonl")
    load = os.getloadavg()[0]
    with Moto() as moto:
        section = signals_section(signals(moto))
    stamp = (f"_Section 6 alone by `bench/run.py --only signals` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{cpu_model()}, {os.cpu_count()} cores, load average {load:.2f} at the start: the rest of this file is "
             f"from the last full run)._\n")
    section = section.replace("\n\n", "\n\n" + stamp + "\n", 1)
    path = ROOT / "BENCHMARKS.md"
    md = path.read_text()
    if "## 6. Signals" in md:
        md = re.sub(r"## 6\. Signals.*?(?=\n## |\Z)", lambda _: section.rstrip("\n") + "\n", md, flags=re.S)
    else:
        md = md.replace("\n## Cost", "\n" + section + "\n## Cost", 1)
    path.write_text(md)
    print(section)
    return 0


def main() -> int:
    if sys.argv[1:] == ["--only", "fanout"]:
        # Virtual time: needs neither the release build nor the emulator.
        fanout_sim.write(fanout_sim.section(fanout_sim.measure()))
        return 0
    if not RELEASE.exists():
        print(f"{RELEASE} missing: `make bench` builds it", file=sys.stderr)
        return 1
    if sys.argv[1:] == ["--only", "signals"]:
        return only_signals()
    build_maxrss()
    os.environ["SELF_DEPLOYER_BIN"] = str(RELEASE)  # the harness's World.handle runs this build
    os.environ["MOTO_RECORDER_FILEPATH"] = str(WORK / "moto_recording.jsonl")

    table = poll_table()
    table_again = poll_table()  # a second run, to see which rows vary (the SDK waiter has jitter)
    ts, poll_rows = parse_table(table)
    _, poll_rows_again = parse_table(table_again)
    varied = [name for (name, a), (_, b) in zip(poll_rows, poll_rows_again) if a != b]

    load_start = os.getloadavg()
    busy0, total0 = cpu_jiffies()
    own0, wall0 = own_cpu_s(), time.monotonic()
    with Moto() as moto:
        flow = whole_flow(moto)
        moto.reset()
        rb = rollback(moto)
        fan = fan_out(moto)
        starts = startup(moto)
        mem = memory(moto)
        sig = signals(moto)
        # Rollouts: the model stands without its measurement, so a failure here costs only that.
        try:
            rollout, rollout_why = rollout_model.measure(moto, RUNS, Calls), ""
        except Exception as e:  # noqa: BLE001
            rollout, rollout_why = None, f"{type(e).__name__}: {e}"
    busy1, total1 = cpu_jiffies()
    own1, wall1 = own_cpu_s(), time.monotonic()
    load_end = os.getloadavg()
    size_x86 = RELEASE.stat().st_size
    arm = ARM_ZIP.stat() if ARM_ZIP.exists() else None
    # Virtual time: the simulation's numbers do not depend on the load, so it runs outside the
    # measured window; a failure costs only its section.
    try:
        fanout, fanout_why = fanout_sim.measure(), ""
    except Exception as e:  # noqa: BLE001
        fanout, fanout_why = None, f"{type(e).__name__}: {e}"

    # CPU sharing over the measured part (after the poll-strategy example).
    tick = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count() or 1
    wall = wall1 - wall0
    busy_s = (busy1 - busy0) / tick
    own_s = own1 - own0
    others_s = max(0.0, busy_s - own_s)
    shared = others_s / (wall * cores)
    if shared >= 0.10:
        sharing = (f"Other processes on the machine used {others_s:.0f} CPU-seconds while it ran, {shared:.0%} of "
                   f"its {cores} cores over those {wall:.0f} s, so the absolute times are pessimistic.")
    else:
        sharing = (f"Other processes on the machine used {others_s:.0f} CPU-seconds while it ran ({shared:.0%} of "
                   f"its {cores} cores over those {wall:.0f} s).")

    # Cost: a fixed scenario (PUSHES_PER_DAY, AWS_UPDATE_WAIT_S) priced with what we measured.
    pushes = PUSHES_PER_DAY * 30
    mem_gb = LAMBDA_MIN_MB / 1024
    cost = lambda secs: pushes * (secs * mem_gb * ARM_GB_SECOND + PER_REQUEST)  # noqa: E731
    measured_cost = cost(flow["ours"] / 1000)
    aws_cost = cost(AWS_UPDATE_WAIT_S + flow["ours"] / 1000)
    rollback_cost = rb["ours"] / 1000 * mem_gb * ARM_GB_SECOND + PER_REQUEST

    ours_row = poll_rows[0]
    if not ours_row[0].startswith("self-deployer"):
        raise RuntimeError(f"poll_strategies: first row is {ours_row[0]!r}, expected self-deployer's")
    ours_ok = all(late is not None and late <= 1 for late, _ in ours_row[1])
    polls_per_s = [polls / t for (_, polls), t in zip(ours_row[1], ts)]
    worst_lines = "\n".join(f"- {name}: worst {worst(cells, ts)}" for name, cells in poll_rows)
    if varied:
        variation = "Rows that differed between two runs of the example in this session: " + "; ".join(varied) + "."
    else:
        variation = "Two runs of the example in this session printed the same table."

    calls_ours, calls_floor, calls_script = flow["calls_ours"], flow["calls_floor"], flow["calls_script"]
    if calls_floor == calls_ours:
        floor_check = "the same calls in the same order (compared in this run)"
    else:
        floor_check = (f"**the floor's calls differ from self-deployer's**: {len(calls_floor)} calls, "
                       f"{sequence(calls_floor)}")
    waiter_polls = Counter(calls_script)["GetFunctionConfiguration"]
    after_update = calls_ours[calls_ours.index("UpdateFunctionCode") + 1:] if "UpdateFunctionCode" in calls_ours else []
    polls_ours = Counter(after_update)["GetFunction"]
    outside = flow["script"] - flow["script_floor"]
    if flow["calls_script_floor"] == calls_script:
        script_floor_check = "the same calls in the same order (compared in this run)"
    else:
        script_floor_check = (f"**calls differ from the script's**: {len(flow['calls_script_floor'])} calls, "
                              f"{sequence(flow['calls_script_floor'])}")

    h, lam, hwm, py, floor = (statistics.median(mem[k]) for k in ("handle", "lambda", "hwm", "python", "floor"))
    peak = max(mem["handle"] + mem["lambda"])
    start_ms = [s * 1000 for s in starts]

    machine = (f"{cpu_model()}, {platform.machine()}, {cores} cores, Linux {platform.release()}, "
               f"Python {platform.python_version()}")
    md = f"""# Benchmarks

Written by `make bench` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}) on {machine}.
Load average (1 min) {load_start[0]:.2f} when the measurements started, {load_end[0]:.2f} when they ended.
{sharing}
Medians of {RUNS} runs unless said otherwise; the two sides of each comparison ran alternately in
the same session against the same emulator (moto server on loopback), so the ratios are the numbers
to trust, not the absolute milliseconds. Rerun: `make bench` (`BENCH_RUNS=N` for more runs).

## 1. Noticing that an update finished (virtual time)

A simulated function whose update finishes after T; each strategy polls GetFunction on the modelled
Lambda world (`examples/poll_strategies.rs`). "late" is the time between completion and detection.
{variation}

{table}

Worst lateness over these T:

{worst_lines}

Target: detection within 1 s at every T, with about one poll per second: {met(ours_ok)} in this run
(self-deployer: worst {worst(ours_row[1], ts)} late, {min(polls_per_s):.2f}–{max(polls_per_s):.2f} polls
per second of update).

## 2. The whole flow on the local emulator

| | median |
|---|---|
| seed script (`bench/seed_deploy.sh`: bash + aws CLI) | {flow['script']:.0f} ms |
| seed floor: the script's API calls, back to back from one process (boto3) | {flow['script_floor']:.0f} ms |
| `self-deployer handle` with an ECR event (release build) | {flow['ours']:.0f} ms |
| floor: self-deployer's API calls, back to back from one process (boto3) | {flow['floor']:.0f} ms |

self-deployer is **{flow['script'] / flow['ours']:.1f}× faster** than the seed's script (target ≥ 20×:
{met(flow['script'] / flow['ours'] >= 20)}) and **{flow['ours'] / flow['floor']:.2f}× the floor** (target ≤ 1.5×:
{met(flow['ours'] / flow['floor'] <= 1.5)}).

Calls the emulator received in one untimed counting run of each (moto's request recorder):

- self-deployer: {len(calls_ours)} calls: {sequence(calls_ours)};
- floor: {floor_check};
- seed script: {len(calls_script)} calls from {flow['aws_processes']} aws CLI processes: {sequence(calls_script)};
- seed floor: {script_floor_check}.

{outside:.0f} ms ({outside / flow['script']:.0%}) of the script's median is spent outside its API calls (script
minus seed floor), in bash and {flow['aws_processes']} aws CLI processes: {outside / flow['aws_processes']:.0f} ms per process,
against {flow['aws_start']:.0f} ms for one `aws --version` (a start-up without a request). The script's
`wait function-updated` made {waiter_polls} GetFunctionConfiguration {"call" if waiter_polls == 1 else "calls"}
and self-deployer {polls_ours} GetFunction after UpdateFunctionCode: on the emulator neither side
waited for an update to apply; table 1 models that wait.

## 3. Rollback

Both move `live` from version {rb['from']} back to version 2 (checked in the counting run).

| | median |
|---|---|
| seed: `aws lambda update-alias --function-version N` | {rb['script']:.0f} ms |
| `self-deployer rollback --function F` | {rb['ours']:.0f} ms |

Calls (one counting run each): self-deployer {len(rb['calls_ours'])}: {sequence(rb['calls_ours'])};
seed {len(rb['calls_script'])}: {sequence(rb['calls_script'])}.

## 4. Fan-out: one push, many functions

| functions | wall time, `DEPLOYER_MAX_PARALLEL=4` | wall time, `=32` | per function (4 / 32) |
|---|---|---|---|
""" + "\n".join(f"| {n} | {a:.0f} ms | {b:.0f} ms | {a / n:.0f} / {b / n:.0f} ms |" for n, a, b in fan) + f"""

Medians of {FAN_RUNS}. On this emulator, with {fan[-1][0]} functions `=32` took {fan[-1][2] / fan[-1][1]:.2f}× the
wall time of `=4`; at `=32`, {fan[-1][0]} functions took {fan[-1][2] / fan[0][2]:.1f}× as long as {fan[0][0]}.

## 5. Start-up and footprint

| | |
|---|---|
| spawn → first runtime-API request (median; min–max of {RUNS}) | {statistics.median(start_ms):.1f} ms ({min(start_ms):.1f}–{max(start_ms):.1f}) |
| peak RSS, one deploy with `handle` (median; min–max of {RUNS}) | {mib(h)} ({span(mem['handle'])}) |
| peak RSS, one deploy served as a Lambda through the runtime API (median; min–max of {RUNS}) | {mib(lam)} ({span(mem['lambda'])}) |
| release binary, {platform.machine()} | {size_x86 / 1e6:.1f} MB |
| arm64 `bootstrap.zip` (`make verify-arm64`) | {f"{arm.st_size / 1e6:.1f} MB (file dated {time.strftime('%Y-%m-%d', time.gmtime(arm.st_mtime))})" if arm else 'not measured in this run: no target/lambda/self-deployer/bootstrap.zip when it ran (`make verify-arm64` builds it, checks it, boots it under qemu and prints its size)'} |

**Start-up**: a plain listening socket stands in for the runtime API; the clock starts just before
`os.posix_spawn` of the binary (a vfork-style spawn: no Python code runs in the child before
`execve`) and stops when the headers of its first request have arrived, read by a thread blocked in
`accept`/`recv`. Every run checked that this first request was `GET /2018-06-01/runtime/invocation/next`.
So the figure is the exec, the binary's initialisation and its first connection, plus the wake-up
of this script's reading thread.

**Memory**: the deployer runs as the forked child of `bench/maxrss.c`, a small C wrapper that
reports the child's `ru_maxrss` from `wait4`. A child spawned from Python cannot be measured that
way: Linux keeps the high-water RSS of the address space a process had before `execve` (Python's,
with fork, vfork or posix_spawn alike) in its `ru_maxrss`; for the same deploy spawned straight
from Python, `wait4` reported {mib(py)} (median). `ru_maxrss` is a maximum, not a sum, so the
wrapper's own address space ({mib(floor)}: the figure for `/bin/true` under it) could only show
through for a program smaller than that. Cross-check: VmHWM read from
`/proc/PID/status` every ~0.5 ms while a directly spawned deployer runs (after `execve` its address
space is its own) reached {mib(hwm)} at the last reading before exit (median; {span(mem['hwm'])}; each a lower
bound for its own run).
The highest peak in this run, {mib(peak)}, is {peak / 1024 / LAMBDA_MIN_MB:.0%} of {LAMBDA_MIN_MB} MB,
Lambda's smallest memory size.

""" + signals_section(sig) + f"""
## Cost

A fixed scenario priced with the measured deploy time: {PUSHES_PER_DAY} pushes a day
({pushes:,} deploys a month), {LAMBDA_MIN_MB} MB, arm64 at ${ARM_GB_SECOND:.10f} per GB-second and
$0.20 per million requests (us-east-1 list price for the first 6 billion GB-s):

- as measured here ({flow['ours'] / 1000:.2f} s per deploy): **${measured_cost:.4f} a month**;
- if each run also waits {AWS_UPDATE_WAIT_S} s for Lambda to apply the image (an assumption): **${aws_cost:.2f} a month**.

One rollback as measured here ({rb['ours'] / 1000:.2f} s) costs ${rollback_cost:.8f}.

""" + rollout_model.section(rollout, rollout_why) + "\n" + fanout_sim.section(fanout, fanout_why)
    (ROOT / "BENCHMARKS.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
