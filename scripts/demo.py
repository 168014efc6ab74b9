#!/usr/bin/env python3
"""`make demo`: the self-deployer story on a local AWS emulator, with no AWS account.

Starts moto, creates a sample function with a `live` alias and an SNS topic with a queue
subscribed, then: a push is deployed, a broken image fails its smoke test while production stays
put, an image whose ECR scan found a critical vulnerability is blocked before it reaches `$LATEST`,
a rollback moves `live` back instantly, and `status` shows where everything points. Exits non-zero
if any step of the story did not happen as told.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from harness import Moto, World, ecr_event  # noqa: E402

FUNCTION = "hello-api"
REPO = "hello-api"
# Only images whose ECR scan found no critical vulnerability go further.
TARGETS = [{"repository": REPO, "functions": [FUNCTION], "tags": ["v*"],
            "image_checks": {"max_findings": {"CRITICAL": 0}, "require_scan": True}}]
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

        chapter(6, "status: where everything points")
        run = world.cli(["status"], TARGETS)
        for line in run.stdout.splitlines():
            say(f"   {line}")
        expect(run.code == 0 and f"{FUNCTION}" in run.stdout, "status printed")

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
