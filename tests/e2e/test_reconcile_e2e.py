"""End to end: the reconcile sweep (issue 16) and `status --check`, through the CLI, against the
emulator. A push whose event was never delivered is deployed by the next sweep; a sweep with
everything in sync mutates nothing; an image that failed its smoke test or was rolled back by hand
is reported and never retried; a hand-moved alias is drift, notified once; a rollout in progress is
left alone."""

import json
import time

from harness import ecr_event

OK = {"statusCode": 200}
TARGETS = [{"repository": "api", "functions": ["api-dev"]}]
REJECTED = "self-deployer:rejected"


def live_on_v1(world):
    """api-dev: version 1 runs api:v1, alias live on it; nothing else has happened."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function("api-dev", "api", d1)
    # imagePushedAt has one-second resolution at best: later pushes must be later.
    time.sleep(1.1)
    return d1


def v2_deployed_by_a_sweep(world):
    """api-dev live on release 1, release 2 pushed with its event lost, then deployed by a sweep;
    the messages so far read away."""
    live_on_v1(world)
    world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    assert sweep(world).report["deployments"][0]["outcome"] == "deployed"
    world.messages()


def state(world):
    """Everything a sweep could change: versions, the alias, $LATEST, the tags."""
    lam = world.moto.client("lambda")
    arn = lam.get_function(FunctionName="api-dev")["Configuration"]["FunctionArn"]
    alias = lam.get_alias(FunctionName="api-dev", Name="live")
    return (world.versions("api-dev"), alias["FunctionVersion"], alias.get("RoutingConfig"),
            world.latest_image("api-dev"), lam.list_tags(Resource=arn).get("Tags", {}))


def sweep(world, *args, **extra):
    return world.cli(["reconcile", *args], TARGETS, **extra)


def test_a_push_whose_event_never_came_is_deployed_by_the_next_sweep(world):
    live_on_v1(world)
    d2 = world.push_image("api", "v2", "release 2")  # its event is lost
    world.moto.queue_invoke_results(OK)
    run = sweep(world)
    assert run.code == 0, run.stdout + run.stderr
    assert run.report["action"] == "reconcile"
    [d] = run.report["deployments"]
    assert d["outcome"] == "deployed", d
    assert d["reason"].startswith("missed push of v2"), d
    assert world.alias_version("api-dev") == "2"
    desc = world.version_config("api-dev", "2")["Configuration"]["Description"]
    assert f"digest={d2}" in desc and "pushed=" in desc and desc.endswith("tag=v2"), desc
    msgs = world.messages()
    assert [json.loads(m["Body"])["outcome"] for m in msgs] == ["deployed"]

    # The next sweep: in sync, nothing touched, nothing told.
    before = state(world)
    run = sweep(world)
    assert run.code == 0, run.stderr
    assert [d["outcome"] for d in run.report["deployments"]] == ["in_sync"]
    assert state(world) == before
    assert world.messages() == []


def test_a_sweep_with_everything_in_sync_mutates_nothing(world):
    live_on_v1(world)
    before = state(world)
    run = sweep(world)
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "in_sync"
    assert [d["outcome"] for d in run.report["deployments"]] == ["in_sync"]
    assert state(world) == before
    assert world.messages() == []


def test_an_image_that_failed_its_smoke_test_is_reported_and_never_retried(world):
    live_on_v1(world)
    d2 = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results({"statusCode": 500})
    run = sweep(world)
    assert run.code == 1, run.stdout + run.stderr
    assert run.report["deployments"][0]["failed_step"] == "smoke_test"
    assert world.alias_version("api-dev") == "1"
    assert d2.split(":")[1][:16] in state(world)[4][REJECTED]
    world.messages()

    before = state(world)
    for _ in range(2):
        run = sweep(world)
        assert run.code == 0, run.stdout + run.stderr
        [d] = run.report["deployments"]
        assert d["outcome"] == "rejected", d
        assert "v2" in d["reason"]
    assert state(world) == before, "never retried"
    assert world.messages() == [], "reported in the sweep's report, not notified again"


def test_a_digest_rolled_back_by_hand_is_not_redeployed(world):
    v2_deployed_by_a_sweep(world)
    run = world.cli(["rollback", "--function", "api-dev", "--reason", "5xx"], TARGETS)
    assert run.code == 0, run.stderr
    assert world.alias_version("api-dev") == "1"

    before = state(world)
    run = sweep(world)
    assert run.code == 0, run.stderr
    assert [d["outcome"] for d in run.report["deployments"]] == ["rejected"]
    assert state(world) == before
    assert world.alias_version("api-dev") == "1"


def test_a_hand_moved_alias_is_reported_as_drift_once(world):
    v2_deployed_by_a_sweep(world)
    # An emergency move by hand: the alias's description (our record) stays.
    lam = world.moto.client("lambda")
    lam.update_alias(FunctionName="api-dev", Name="live", FunctionVersion="1")
    assert lam.get_alias(FunctionName="api-dev", Name="live")["Description"].startswith("self-deployer ")

    run = sweep(world)
    assert run.code == 0, run.stdout + run.stderr
    [d] = run.report["deployments"]
    assert d["outcome"] == "drift", d
    assert "last put it on version 2" in d["reason"]
    assert [json.loads(m["Body"])["outcome"] for m in world.messages()] == ["drift"]
    assert world.alias_version("api-dev") == "1", "a sweep never fights a person"

    run = sweep(world)
    assert [d["outcome"] for d in run.report["deployments"]] == ["drift"]
    assert run.report["deployments"][0]["notified_before"] is True
    assert world.messages() == [], "told once"
    assert world.alias_version("api-dev") == "1"


def test_a_rollout_in_progress_is_left_alone(world):
    v2_deployed_by_a_sweep(world)
    # A canary split on the alias (as a rollout sets it), and a newer push whose event is lost.
    lam = world.moto.client("lambda")
    lam.update_alias(FunctionName="api-dev", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    time.sleep(1.1)
    world.push_image("api", "v3", "release 3")
    before = state(world)
    run = sweep(world)
    assert run.code == 0, run.stdout + run.stderr
    [d] = run.report["deployments"]
    assert d["outcome"] == "rolling_out", d
    assert state(world) == before
    assert world.messages() == [], "its own run told it"


def test_status_check_exits_3_when_behind_and_0_when_in_sync(world):
    live_on_v1(world)
    run = world.cli(["status", "--check"], TARGETS)
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.startswith("api-dev: in_sync: "), run.stdout

    world.push_image("api", "v2", "release 2")
    before = state(world)
    run = world.cli(["status", "--check"], TARGETS)
    assert run.code == 3, run.stdout + run.stderr
    assert run.stdout.startswith("api-dev: behind: the newest image v2 (sha256:"), run.stdout
    assert len(run.stdout.splitlines()) == 1
    run = world.cli(["status", "--check", "--json"], TARGETS)
    assert run.code == 3
    assert [d["outcome"] for d in run.report["deployments"]] == ["would_deploy"]
    assert state(world) == before, "a check changes nothing"
    assert world.messages() == []


def test_reconcile_dry_run_deploys_nothing(world):
    live_on_v1(world)
    world.push_image("api", "v2", "release 2")
    before = state(world)
    run = sweep(world, "--dry-run")
    assert run.code == 0, run.stdout + run.stderr
    assert run.report["dry_run"] is True
    assert [d["outcome"] for d in run.report["deployments"]] == ["would_deploy"]
    assert state(world) == before


def test_two_sweeps_at_once_make_one_version(world):
    import subprocess

    from harness import binary

    live_on_v1(world)
    world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK, OK)
    env = world.env(TARGETS)
    procs = [subprocess.Popen([str(binary()), "reconcile"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    reports = [json.loads(out) for out, _ in outs]
    outcomes = sorted(r["deployments"][0]["outcome"] for r in reports)
    assert "deployed" in outcomes, outs
    assert set(outcomes) <= {"deployed", "already_live", "in_sync"}, outs
    assert [p.returncode for p in procs] == [0, 0], outs
    assert world.versions("api-dev") == ["1", "2"], "one new version"
    assert world.alias_version("api-dev") == "2"
