"""End to end: rollback and status through the CLI, against the emulator."""

import json

from harness import ecr_event

OK = {"statusCode": 200}


def deployed_twice(world):
    """api-dev: v1 (initial) → v2 → v3 deployed by the deployer. Returns targets and digests."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function("api-dev", "api", d1)
    targets = [{"repository": "api", "functions": ["api-dev"]}]
    digests = [d1]
    for n in (2, 3):
        d = world.push_image("api", f"v{n}", f"release {n}")
        world.moto.queue_invoke_results(OK)
        run = world.handle(ecr_event("api", d, f"v{n}"), targets)
        assert run.report["outcome"] == "deployed", run.stdout + run.stderr
        digests.append(d)
    world.messages()
    assert world.alias_version("api-dev") == "3"
    return targets, digests


def test_rollback_to_previous_then_to_an_explicit_version(world):
    targets, _ = deployed_twice(world)
    run = world.cli(["rollback", "--function", "api-dev", "--reason", "5xx after v3"], targets)
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "rolled_back"
    assert run.report["request_reason"] == "5xx after v3"
    assert world.alias_version("api-dev") == "2"
    msgs = world.messages()
    assert len(msgs) == 1 and json.loads(msgs[0]["Body"])["outcome"] == "rolled_back"

    run = world.cli(["rollback", "--function", "api-dev", "--to", "3"], targets)
    assert run.code == 0, run.stderr
    assert world.alias_version("api-dev") == "3"


def test_rollback_dry_run_changes_nothing(world):
    targets, _ = deployed_twice(world)
    run = world.cli(["rollback", "--function", "api-dev", "--dry-run"], targets)
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "would_roll_back"
    assert world.alias_version("api-dev") == "3"
    assert world.messages() == []


def test_rollback_of_a_function_not_configured_is_refused(world):
    targets, _ = deployed_twice(world)
    world.function("payments", "api", world.push_image("api", "p1", "payments 1"))
    run = world.cli(["rollback", "--function", "payments", "--to", "1"], targets)
    assert run.code == 2
    assert "payload.function: \"payments\" is not a function this deployer manages" in run.stderr
    assert world.alias_version("payments") == "1"


def test_rollback_to_a_version_whose_image_was_deleted_is_refused(world):
    targets, digests = deployed_twice(world)
    world.moto.client("ecr").batch_delete_image(repositoryName="api", imageIds=[{"imageDigest": digests[1]}])
    run = world.cli(["rollback", "--function", "api-dev"], targets)
    assert run.code == 1, run.stderr
    d = run.report["deployments"][0]
    assert d["failed_step"] == "check_image"
    assert "no longer exists in ECR" in d["reason"]
    assert world.alias_version("api-dev") == "3"


def test_status_shows_where_everything_points(world):
    targets, digests = deployed_twice(world)
    run = world.cli(["status", "--json"], targets)
    assert run.code == 0, run.stderr
    f = run.report["functions"][0]
    assert (f["alias_target"], f["previous_version"], f["image_tag"]) == ("3", "2", "v3")
    assert f["image_digest"] == digests[2]
    assert f["latest_differs"] is False
    table = world.cli(["status"], targets)
    assert table.code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["FUNCTION", "ALIAS", "VERSION", "IMAGE", "PREVIOUS", "$LATEST", "VERSIONS"]
    assert lines[1].split()[:3] == ["api-dev", "live", "3"]
