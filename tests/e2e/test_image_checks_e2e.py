"""Image checks end to end: the real binary against moto's ECR scan findings (configured through
moto's scan-finding-results endpoint). moto has no DescribeImageSigningStatus: signatures are
tested on the modelled world (tests/image_checks.rs)."""

import json

from harness import World, ecr_event

OK = {"statusCode": 200, "body": "ok"}
LIMITS = {"max_findings": {"CRITICAL": 0, "HIGH": 3}, "require_scan": True}


def setup(world: World, checks=None):
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    world.function("api-dev", "api", good)
    target = {"repository": "api", "functions": ["api-dev"]}
    if checks is not None:
        target["image_checks"] = checks
    return good, [target]


def assert_untouched(world: World, good: str):
    assert world.alias_version("api-dev") == "1"
    assert world.versions("api-dev") == ["1"]
    assert world.latest_image("api-dev") == World.image_uri("api", good)


def test_counts_above_the_limits_block_the_image_before_anything_changes(world):
    # The default for every target, from DEPLOYER_IMAGE_CHECKS.
    good, targets = setup(world)
    bad = world.push_image("api", "v2", "release 2 with openssl 3.0.1")
    world.scan("api", bad, {"CRITICAL": 2, "HIGH": 5, "LOW": 7},
               findings=[("CVE-2026-0001", "CRITICAL", "openssl 3.0.1"), ("CVE-2026-0002", "HIGH", "zlib 1.2.11")])
    world.messages()
    run = world.handle(ecr_event("api", bad, "v2"), targets, DEPLOYER_IMAGE_CHECKS=json.dumps(LIMITS))

    assert run.code == 1, run.stderr
    d = run.report["deployments"][0]
    assert (run.report["outcome"], d["failed_step"]) == ("failed", "image_checks")
    assert d["reason"] == "CRITICAL 2 > 0, HIGH 5 > 3"
    assert d["image_checks"]["verdict"] == "blocked"
    assert d["image_checks"]["counts"] == {"CRITICAL": 2, "HIGH": 5, "LOW": 7}
    assert d["image_checks"]["findings"][0] == {"name": "CVE-2026-0001", "severity": "CRITICAL", "package": "openssl 3.0.1"}
    assert [s["step"] for s in d["steps"]] == ["resolve", "image_checks"]
    assert "latest_restore" not in d, "nothing was changed, nothing to restore"
    assert_untouched(world, good)
    assert [e["Subject"] for e in world.envelopes()] == ["FAILED api-dev at image_checks (v2)"]


def test_under_the_limits_the_image_deploys_with_its_counts(world):
    good, targets = setup(world, LIMITS)
    new = world.push_image("api", "v2", "release 2")
    world.scan("api", new, {"HIGH": 3, "MEDIUM": 1}, findings=[("CVE-2026-0003", "HIGH", "libxml2 2.9.1")])
    world.moto.queue_invoke_results(OK)
    run = world.handle(ecr_event("api", new, "v2"), targets)

    assert run.code == 0, run.stderr
    d = run.report["deployments"][0]
    assert run.report["outcome"] == "deployed"
    assert d["image_checks"]["verdict"] == "passed"
    assert d["image_checks"]["scan_status"] == "COMPLETE"
    assert d["image_checks"]["counts"] == {"HIGH": 3, "MEDIUM": 1}
    assert d["image_checks"]["signature"] is None
    assert [s["step"] for s in d["steps"]][:3] == ["resolve", "image_checks", "wait_ready"]
    assert world.alias_version("api-dev") == "2"
    assert world.latest_image("api-dev") == World.image_uri("api", new)


def test_no_scan_blocks_with_require_scan(world):
    good, targets = setup(world, LIMITS)
    new = world.push_image("api", "v2", "release 2, never scanned")
    run = world.handle(ecr_event("api", new, "v2"), targets)

    assert run.code == 1, run.stderr
    d = run.report["deployments"][0]
    assert d["failed_step"] == "image_checks"
    assert d["reason"] == (
        "no scan: ECR has no scan of this image (is scan on push on for repository api?), and require_scan is set"
    )
    assert d["image_checks"]["scan_status"] == "NONE"
    assert_untouched(world, good)


def test_no_scan_without_require_scan_deploys_with_a_warning(world):
    good, targets = setup(world, {"max_findings": {"CRITICAL": 0}})
    new = world.push_image("api", "v2", "release 2, never scanned")
    world.moto.queue_invoke_results(OK)
    run = world.handle(ecr_event("api", new, "v2"), targets)

    assert run.code == 0, run.stderr
    d = run.report["deployments"][0]
    assert d["outcome"] == "deployed"
    assert d["warnings"] == [
        "image not checked for vulnerabilities: ECR has no scan of this image (is scan on push on for repository api?)"
    ]
    assert world.alias_version("api-dev") == "2"


def test_a_failed_scan_blocks_only_with_require_scan(world):
    good, targets = setup(world, LIMITS)
    new = world.push_image("api", "v2", "release 2, unsupported")
    world.scan("api", new, {}, status="UNSUPPORTED_IMAGE")
    run = world.handle(ecr_event("api", new, "v2"), targets)
    assert run.code == 1, run.stderr
    assert run.report["deployments"][0]["reason"] == (
        "no usable scan: ECR reports UNSUPPORTED_IMAGE (The scan ended: UNSUPPORTED_IMAGE.), and require_scan is set"
    )
    assert_untouched(world, good)


def test_an_ecr_image_scan_event_is_skipped(world):
    good, targets = setup(world, LIMITS)
    event = ecr_event("api", good, "v1")
    event["detail-type"] = "ECR Image Scan"
    event["detail"] = {"scan-status": "COMPLETE", "repository-name": "api", "image-digest": good,
                       "image-tags": ["v1"], "finding-severity-counts": {"HIGH": 1}}
    run = world.handle(event, targets)
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "skipped"
    assert run.report["reason"].startswith('an "ECR Image Scan" event deploys nothing')
