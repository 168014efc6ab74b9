#!/usr/bin/env python3
"""`make demo`: the self-deployer story on a local AWS emulator, with no AWS account.

Starts moto, creates a sample function with a `live` alias and an SNS topic with a queue
subscribed, then: a push is deployed, a broken image fails its smoke test while production stays
put, an image whose ECR scan found a critical vulnerability is blocked before it reaches `$LATEST`,
a rollback moves `live` back instantly, a canary is rolled back by its alarm, another canary
completes step by step, `status` shows where everything points, and a multi-platform push (an
image index with attestations) goes to an x86_64 and an arm64 function, each running its own
image. Exits non-zero if any step of
the story did not happen as told.

The canaries need EventBridge Scheduler and CloudWatch. moto keeps schedules but never fires them,
so the demo plays the scheduler (it reads the schedule moto holds and invokes the deployer with its
input); a check "five minutes later" is the same payload with its step's start dated back. The Rust
SDK speaks CBOR to CloudWatch, which moto does not: a small translating proxy sits in between
(tests/e2e/cbor_proxy.py).
"""

import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from harness import Moto, World, ecr_event  # noqa: E402
from lambda_like import LambdaLikeProxy  # noqa: E402
from rollouts import Rollouts, alarm_event, parse_time, rfc3339  # noqa: E402

FUNCTION = "hello-api"
REPO = "hello-api"
# Only images whose ECR scan found no critical vulnerability go further.
TARGETS = [{"repository": REPO, "functions": [FUNCTION], "tags": ["v*"],
            "image_checks": {"max_findings": {"CRITICAL": 0}, "require_scan": True}}]
ALARM = "hello-api-errors"
ROLLOUT = {"steps": [10, 50], "interval_secs": 300, "check_secs": 60, "alarms": [ALARM],
           "max_error_rate": 0.05, "min_invocations": 20}
CANARY_TARGETS = [dict(TARGETS[0], rollout=ROLLOUT)]
problems: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)


def chapter(n: int, title: str) -> None:
    say()
    say(f"── {n}. {title} " + "─" * max(0, 70 - len(title)))


def expect(ok: bool, what: str) -> None:
    say(f"   {'✓' if ok else '✗'} {what}")
    if not ok:
        problems.append(what)


def show_report(report: dict) -> None:
    for d in report.get("deployments", []):
        steps = "  ".join(f"{s['step']} {s['ms']}ms" for s in d.get("steps", []))
        say(f"   {d['function']}: {d['outcome']}  (alias {d['alias']}: "
            f"v{d.get('previous_version') or '-'} → v{d.get('version') or '-'})")
        if steps:
            say(f"   steps: {steps}")
        checks = d.get("image_checks")
        if checks:
            counts = ", ".join(f"{k} {v}" for k, v in checks["counts"].items()) or "no findings"
            say(f"   image checks: {checks['verdict']} (scan {checks['scan_status']}: {counts})")
        if d.get("failed_step"):
            say(f"   failed at {d['failed_step']}: {d['reason']}")
        smoke = d.get("smoke_test")
        if smoke and not smoke["passed"]:
            say(f"   smoke test answer: {smoke.get('payload_excerpt')}")
        if d.get("latest_restore"):
            r = d["latest_restore"]
            say(f"   $LATEST restored: {r['restored']} ({r['detail']})")


def show_notifications(world: World) -> list[dict]:
    bodies = [json.loads(m["Body"]) for m in world.messages()]
    for b in bodies:
        say(f"   notification received: outcome={b['outcome']}  reason={b.get('reason')!r}")
    return bodies


def split(r: Rollouts) -> str:
    version, weights = r.alias(FUNCTION)
    extra = "".join(f" + {round(w * 100)}% v{v}" for v, w in weights.items())
    return f"v{version}{extra}"


def show_schedule(r: Rollouts) -> dict | None:
    found = r.schedules()
    for s in found:
        payload = json.loads(s["Target"]["Input"])
        say(f"   schedule {s['Name']}: {s['ScheduleExpression']} UTC, then "
            f"{s['ActionAfterCompletion'].lower()}; input step {payload['step']}, started {payload['started']}")
    return found[0] if len(found) == 1 else None


def show_rollout(run) -> None:
    for d in (run.report or {}).get("deployments", []):
        info = d.get("rollout") or {}
        rate = info.get("error_rate")
        gate = (f"; error-rate gate: {rate['errors']:g} of {rate['invocations']:g} invocations failed"
                f"{'' if rate['judged'] else ' (too few to judge)'}") if rate else ""
        say(f"   {d['function']}: {d['outcome']} — {d.get('reason')}{gate}")


def pushed_now(digest: str, tag: str) -> dict:
    """The ECR event of a push happening now: pushes older than the last rollback are stale."""
    return ecr_event(REPO, digest, tag, time_=rfc3339(dt.datetime.now(dt.timezone.utc)))


def canaries(world: World, moto: Moto, stable_image: str) -> None:
    """Chapters 6 and 7: progressive delivery."""
    r = Rollouts(world)
    try:
        r.alarm(ALARM, "OK")
        chapter(6, "docker push hello-api:v5 → canary at 10%, its alarm fires → rolled back")
        say("   progressive delivery on: 10% → 50% → 100%, a step every 5 min, gates checked every")
        say(f"   minute: alarm {ALARM}, and the new version's own error rate above 5% (from 20 invocations)")
        v5 = world.push_image(REPO, "v5", "hello v5, leaks connections")
        world.scan(REPO, v5, {})
        moto.queue_invoke_results({"statusCode": 200, "body": "healthy"})
        run = r.handle(pushed_now(v5, "v5"), CANARY_TARGETS)
        show_rollout(run)
        expect(run.code == 0 and run.report["outcome"] == "rolling_out", "rolling out (exit 0)")
        expect(r.alias(FUNCTION) == ("1", {"3": 0.1}), f"live → {split(r)}: 10% of traffic on version 3")
        sched = show_schedule(r)
        expect(sched is not None and sched["FlexibleTimeWindow"] == {"Mode": "OFF"},
               "one one-time schedule brings the next check")
        show_notifications(world)
        if sched is None:
            return
        say("   a minute later the scheduler invokes the deployer with that input:")
        started = parse_time(json.loads(sched["Target"]["Input"])["started"])
        r.version_metrics(FUNCTION, "3", invocations=8, errors=0, at=started - dt.timedelta(seconds=30))
        run = r.fire(sched, CANARY_TARGETS, later_by=61)
        show_rollout(run)
        expect(run.report and run.report["outcome"] == "rolling_out", "inconclusive (8 of 20 invocations), and the step has not lasted 5 min: same weight")
        expect(r.alias(FUNCTION) == ("1", {"3": 0.1}), f"live still → {split(r)}")
        say(f"   then v5 starts failing: alarm {ALARM} goes to ALARM, EventBridge delivers the state change")
        r.set_alarm(ALARM, "ALARM")
        t = time.monotonic()
        run = r.handle(alarm_event(ALARM, "ALARM"), CANARY_TARGETS)
        took = time.monotonic() - t
        show_report(run.report or {})
        expect(run.code == 1 and run.report["outcome"] == "failed", f"rolled back in {took:.2f}s, reported as failed (exit 1)")
        expect(r.alias(FUNCTION) == ("1", {}), f"live → {split(r)}: all traffic back on version 1")
        expect(r.schedules() == [], "the pending check was deleted")
        expect(world.latest_image(FUNCTION) == World.image_uri(REPO, stable_image), "$LATEST is back on what production runs")
        notes = show_notifications(world)
        expect(len(notes) == 1 and notes[0]["outcome"] == "failed", "the rollback was notified")
        r.set_alarm(ALARM, "OK")

        chapter(7, "docker push hello-api:v6 → 10% → 50% → 100%, every gate green")
        v6 = world.push_image(REPO, "v6", "hello v6")
        world.scan(REPO, v6, {})
        moto.queue_invoke_results({"statusCode": 200, "body": "healthy"})
        run = r.handle(pushed_now(v6, "v6"), CANARY_TARGETS)
        show_rollout(run)
        expect(run.code == 0 and r.alias(FUNCTION) == ("1", {"4": 0.1}), f"rolling out: live → {split(r)}")
        show_notifications(world)
        for n, (weight, outcome) in enumerate([(("1", {"4": 0.5}), "rolling_out"), (("4", {}), "deployed")], 1):
            sched = show_schedule(r)
            if sched is None:
                expect(False, "a schedule was pending")
                return
            started = parse_time(json.loads(sched["Target"]["Input"])["started"])
            r.version_metrics(FUNCTION, "4", invocations=120, errors=1, at=started - dt.timedelta(seconds=30))
            say(f"   five minutes into step {n} (simulated), the scheduler invokes the deployer:")
            run = r.fire(sched, CANARY_TARGETS, later_by=301)
            show_rollout(run)
            expect(run.code == 0 and run.report["outcome"] == outcome and r.alias(FUNCTION) == weight,
                   f"{outcome}: live → {split(r)}")
        expect(r.schedules() == [], "no check left pending")
        notes = show_notifications(world)
        expect([n["outcome"] for n in notes] == ["rolling_out", "deployed"], "50% and 100% were notified")
    finally:
        r.stop()


def multi_platform(world: World, moto: Moto) -> None:
    """Chapter 9: what `docker buildx build --platform linux/amd64,linux/arm64 --push` pushes with
    BuildKit's default provenance attestations: an image index. Lambda refuses an index (moto's
    Lambda would not, so a proxy answers as Lambda does); each function gets its own image."""
    chapter(9, "docker buildx --platform linux/amd64,linux/arm64 → one index, two architectures")
    repo, targets = "hello-multi", [{"repository": "hello-multi", "functions": ["hello-x86", "hello-arm"]}]
    world.repository(repo)
    first = world.push_image(repo, "v1", "hello multi v1")
    world.function("hello-x86", repo, first)
    world.function("hello-arm", repo, first, arch="arm64")
    index, images = world.push_index(repo, "v2", ["linux/amd64", "linux/arm64"])
    say(f"   pushed index {index[:19]}… (tag v2): linux/amd64, linux/arm64 and an attestation for each")
    lambda_like = LambdaLikeProxy(moto.endpoint)
    try:
        expect(lambda_like.is_index(World.image_uri(repo, index)), "Lambda would refuse the index itself")
        oci = "application/vnd.oci.image.manifest.v1+json"
        skipped = [world.handle(ecr_event(repo, d, None, media_type=oci), targets, via=lambda_like)
                   for d in images.values()]
        expect(all(r.report and r.report["outcome"] == "skipped" for r in skipped),
               "the untagged per-platform events were skipped quietly")
        moto.queue_invoke_results({"statusCode": 200, "body": "healthy"}, {"statusCode": 200, "body": "healthy"})
        run = world.handle(ecr_event(repo, index, "v2", media_type="application/vnd.oci.image.index.v1+json"),
                           targets, via=lambda_like)
        show_report(run.report or {})
        for d in (run.report or {}).get("deployments", []):
            say(f"   {d['function']} runs {d.get('image_digest', '')[:19]}… ({d.get('platform')})")
        expect(run.code == 0 and run.report["outcome"] == "deployed", "the index push was deployed (exit 0)")
        for f, platform in (("hello-x86", "linux/amd64"), ("hello-arm", "linux/arm64")):
            expect(world.latest_image(f) == World.image_uri(repo, images[platform]) and world.alias_version(f) == "2",
                   f"{f} live → version 2 running its {platform} image")
        expect(lambda_like.refused == [], "no index ever reached Lambda")
        show_notifications(world)
    finally:
        lambda_like.stop()


def main() -> int:
    say("self-deployer demo: ECR push → smoke-tested version → `live` alias, on a local AWS emulator")
    with Moto() as moto:
        say(f"   emulator (moto) running on {moto.endpoint}")
        world = World.build(moto)
        world.repository(REPO)
        v1 = world.push_image(REPO, "v1", "hello v1")
        world.function(FUNCTION, REPO, v1)
        say(f"   function {FUNCTION}: version 1 runs {REPO}:v1, alias live → 1; "
            f"SNS topic 'deploys' → SQS queue")

        chapter(1, "docker push hello-api:v2 → deployed")
        v2 = world.push_image(REPO, "v2", "hello v2")
        world.scan(REPO, v2, {"LOW": 1})
        moto.queue_invoke_results({"statusCode": 200, "body": "healthy"})
        run = world.handle(ecr_event(REPO, v2, "v2"), TARGETS)
        show_report(run.report or {})
        expect(run.code == 0 and run.report["outcome"] == "deployed", "the push was deployed (exit 0)")
        expect(world.alias_version(FUNCTION) == "2", "live → version 2")
        notes = show_notifications(world)
        expect(len(notes) == 1 and notes[0]["outcome"] == "deployed", "one notification arrived")

        chapter(2, "the same event delivered again → nothing happens")
        run = world.handle(ecr_event(REPO, v2, "v2"), TARGETS)
        expect(run.code == 0 and run.report["outcome"] == "already_live", "already_live, nothing mutated")
        expect(world.versions(FUNCTION) == ["1", "2"], "still two versions")

        chapter(3, "docker push hello-api:v3 (broken) → smoke test fails, production untouched")
        v3 = world.push_image(REPO, "v3", "hello v3, broken")
        world.scan(REPO, v3, {})
        moto.queue_invoke_results({"statusCode": 500, "body": "KeyError: DATABASE_URL"})
        run = world.handle(ecr_event(REPO, v3, "v3"), TARGETS)
        show_report(run.report or {})
        expect(run.code == 1 and run.report["outcome"] == "failed", "the deploy failed (exit 1)")
        expect(world.alias_version(FUNCTION) == "2", "live still → version 2")
        expect(world.versions(FUNCTION) == ["1", "2"], "no version was published from the broken image")
        expect(world.latest_image(FUNCTION) == World.image_uri(REPO, v2), "$LATEST is back on v2")
        notes = show_notifications(world)
        expect(len(notes) == 1 and notes[0]["outcome"] == "failed", "the failure was notified")

        chapter(4, "docker push hello-api:v4 (critical CVE) → blocked before $LATEST changes")
        v4 = world.push_image(REPO, "v4", "hello v4, with openssl 3.0.1")
        world.scan(REPO, v4, {"CRITICAL": 1, "HIGH": 2},
                   findings=[("CVE-2026-0001", "CRITICAL", "openssl 3.0.1")])
        run = world.handle(ecr_event(REPO, v4, "v4"), TARGETS)
        show_report(run.report or {})
        d = (run.report or {}).get("deployments", [{}])[0]
        expect(run.code == 1 and d.get("failed_step") == "image_checks", "blocked at image_checks (exit 1)")
        expect(world.latest_image(FUNCTION) == World.image_uri(REPO, v2), "$LATEST never ran v4: still v2")
        expect(world.alias_version(FUNCTION) == "2" and world.versions(FUNCTION) == ["1", "2"],
               "live still → version 2, no version published")
        notes = show_notifications(world)
        expect(len(notes) == 1 and notes[0]["outcome"] == "failed", "the block was notified")

        chapter(5, "v2 misbehaves in production → rollback, instantly")
        say(f"   $ self-deployer rollback --function {FUNCTION} --reason 'v2 slow under load'")
        t = time.monotonic()
        run = world.cli(["rollback", "--function", FUNCTION, "--reason", "v2 slow under load"], TARGETS)
        took = time.monotonic() - t
        show_report(run.report or {})
        expect(run.code == 0 and run.report["outcome"] == "rolled_back", f"rolled back in {took:.2f}s (whole CLI run)")
        expect(world.alias_version(FUNCTION) == "1", "live → version 1, no rebuild")
        show_notifications(world)

        canaries(world, moto, v1)

        chapter(8, "status: where everything points")
        run = world.cli(["status"], TARGETS)
        for line in run.stdout.splitlines():
            say(f"   {line}")
        expect(run.code == 0 and f"{FUNCTION}" in run.stdout, "status printed")
        expect(world.alias_version(FUNCTION) == "4", "live → version 4, the canary that completed")

        multi_platform(world, moto)

    say()
    if problems:
        say(f"demo FAILED: {len(problems)} step(s) did not happen as told:")
        for p in problems:
            say(f"   ✗ {p}")
        return 1
    say("demo complete: every step happened as told; the emulator is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
