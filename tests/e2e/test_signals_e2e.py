"""End to end: what a run tells machines, against the emulator. Deployment events put on a real
(emulated) EventBridge bus, routed by rules to SQS queues and read back; history from the versions
and alias on the emulator's Lambda; EMF records on stderr only when the CLI is asked for them, and
on standard output (the log) when the binary runs as a Lambda."""

import json
import subprocess

from harness import ACCOUNT, REGION, World, command, ecr_event
from runtime_api import RuntimeApi

OK = {"statusCode": 200}
BUS = "deployments"


def setup(world: World):
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    world.function("api-dev", "api", good)
    return good, [{"repository": "api", "functions": ["api-dev"]}]


def queue_for(world: World, name: str, pattern: dict) -> str:
    """A queue that receives what a rule with `pattern` on BUS matches."""
    events, sqs = world.moto.client("events"), world.moto.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def received(world: World, url: str) -> list[dict]:
    sqs = world.moto.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_deployment_events_reach_queues_through_rules_on_the_bus(world):
    _, targets = setup(world)
    world.moto.client("events").create_event_bus(Name=BUS)
    everything = queue_for(world, "all-deployments", {"source": ["self-deployer"]})
    # The rule docs/reference.md shows: failed deployments to a queue.
    failures = queue_for(world, "failed-deployments", {
        "source": ["self-deployer"], "detail-type": ["Deployment State Change"],
        "detail": {"outcome": ["failed"]}})

    good = world.push_image("api", "v2", "release 2")
    bad = world.push_image("api", "v3", "release 3")
    world.moto.queue_invoke_results(OK, {"statusCode": 500})
    ok = world.handle(ecr_event("api", good, "v2"), targets, DEPLOYER_EVENT_BUS=BUS)
    assert ok.code == 0, ok.stderr
    assert "warnings" not in ok.report["deployments"][0], ok.report
    failed = world.handle(ecr_event("api", bad, "v3"), targets, DEPLOYER_EVENT_BUS=BUS)
    assert failed.code == 1, failed.stderr
    # Already live and skipped runs put nothing on the bus.
    again = world.handle(ecr_event("api", good, "v2"), targets, DEPLOYER_EVENT_BUS=BUS)
    assert again.report["outcome"] == "already_live"

    events = received(world, everything)
    assert [e["detail"]["outcome"] for e in events] == ["deployed", "failed"]
    deployed = events[0]
    assert (deployed["source"], deployed["detail-type"]) == ("self-deployer", "Deployment State Change")
    assert deployed["region"] == REGION  # moto leaves out "account"
    d = deployed["detail"]
    assert d["schema"] == 1
    assert (d["function"], d["alias"], d["action"]) == ("api-dev", "live", "deploy")
    assert (d["version"], d["previous_version"]) == ("2", "1")
    assert d["image"] == {"repository": "api", "uri": World.image_uri("api", good), "digest": good, "tag": "v2"}
    assert d["failed_step"] is None and d["run_id"]

    only_failed = received(world, failures)
    assert len(only_failed) == 1
    f = only_failed[0]["detail"]
    assert (f["outcome"], f["failed_step"], f["version"]) == ("failed", "smoke_test", "2")
    assert f["image"]["digest"] == bad
    assert f["reason"] == "statusCode 500 is not one of [200]"


def test_a_bus_that_does_not_exist_is_a_warning_not_a_failure(world):
    _, targets = setup(world)
    good = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    run = world.handle(ecr_event("api", good, "v2"), targets, DEPLOYER_EVENT_BUS="no-such-bus")
    assert run.code == 0, run.stderr
    d = run.report["deployments"][0]
    assert d["outcome"] == "deployed"
    assert world.alias_version("api-dev") == "2"
    assert len(d["warnings"]) == 1
    assert d["warnings"][0].startswith("deployment event not sent to event bus no-such-bus: "), d["warnings"]


def test_a_bad_bus_name_is_refused_before_any_aws_call(world):
    _, targets = setup(world)
    good = world.push_image("api", "v2", "release 2")
    run = world.handle(ecr_event("api", good, "v2"), targets, DEPLOYER_EVENT_BUS="my bus")
    assert run.code == 2
    assert 'invalid configuration: DEPLOYER_EVENT_BUS: "my bus" is not an event bus name' in run.stderr
    assert world.alias_version("api-dev") == "1"


def test_history_on_the_emulator(world):
    d1, targets = setup(world)
    digests = {}
    for n in (2, 3):
        digests[n] = world.push_image("api", f"v{n}", f"release {n}")
        world.moto.queue_invoke_results(OK)
        assert world.handle(ecr_event("api", digests[n], f"v{n}"), targets).code == 0
    # Someone publishes a version by hand.
    lam = world.moto.client("lambda")
    lam.update_function_code(FunctionName="api-dev", ImageUri=World.image_uri("api", d1))
    assert lam.publish_version(FunctionName="api-dev", Description="hotfix by hand")["Version"] == "4"
    assert world.cli(["rollback", "--function", "api-dev"], targets).code == 0

    run = world.cli(["history", "--function", "api-dev", "--json"], targets)
    assert run.code == 0, run.stderr
    h = run.report
    assert h["action"] == "history" and h["total_versions"] == 4
    rows = [(v["version"], v["published_by"], v["tag"], v["previous"], v["aliases"], v["rolled_back"])
            for v in h["versions"]]
    assert rows == [
        ("4", "other", None, None, [], False),
        ("3", "self-deployer", "v3", "2", [], True),
        ("2", "self-deployer", "v2", "1", ["live"], False),
        ("1", "other", None, None, [], False),
    ]
    assert h["versions"][0]["description"] == "hotfix by hand"
    assert h["versions"][1]["digest"] == digests[3]
    live = h["aliases"][0]
    assert (live["name"], live["target"]) == ("live", "2")
    assert (live["last_move"]["kind"], live["last_move"]["from"], live["last_move"]["to"]) == ("rollback", "3", "2")

    table = world.cli(["history", "--function", "api-dev", "--limit", "2"], targets)
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "BY", "PUSHED", "TAG", "IMAGE", "PREVIOUS", "ALIASES", "NOTE"]
    assert lines[1].split()[:2] == ["4", "other"] and lines[2].split()[:2] == ["3", "self-deployer"]
    assert "(2 of 4 versions shown: --limit N for more)" in table.stdout
    assert "alias live -> 2: rollback from 3 at " in table.stdout
    # Read-only: nothing moved.
    assert world.alias_version("api-dev") == "2" and world.versions("api-dev") == ["1", "2", "3", "4"]


def emf_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            v = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(v, dict) and "_aws" in v:
            out.append(v)
    return out


def test_the_cli_writes_emf_to_stderr_only_when_asked(world):
    _, targets = setup(world)
    quiet_image = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    quiet = world.handle(ecr_event("api", quiet_image, "v2"), targets)
    assert quiet.code == 0 and quiet.report["outcome"] == "deployed"
    assert emf_lines(quiet.stderr) == [] and emf_lines(quiet.stdout) == []

    new = world.push_image("api", "v3", "release 3")
    world.moto.queue_invoke_results(OK)
    run = world.cli(["--metrics", "handle", "-"], targets, stdin=json.dumps(ecr_event("api", new, "v3")),
                    DEPLOYER_METRICS_NAMESPACE="E2E/Deploys")
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "deployed", "stdout is still exactly the report"
    records = emf_lines(run.stderr)
    main = [r for r in records if "Deployments" in r]
    assert len(main) == 1
    m = main[0]
    assert m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "E2E/Deploys"
    assert (m["FunctionName"], m["Outcome"], m["Deployments"], m["ImageDigest"]) == ("api-dev", "deployed", 1, new)
    steps = {r["Step"] for r in records if "StepDuration" in r}
    assert {"resolve", "update_code", "smoke_test", "publish", "promote_alias"} <= steps
    # No GitHub target, so no image config read: the lead time counts from the push, and says so.
    dora = [r for r in records if "LeadTimeSeconds" in r]
    assert len(dora) == 1 and dora[0]["LeadTimeFrom"] == "pushed", dora


def test_as_a_lambda_emf_goes_to_the_log_and_events_to_the_bus(world):
    _, targets = setup(world)
    world.moto.client("events").create_event_bus(Name=BUS)
    everything = queue_for(world, "all-deployments", {"source": ["self-deployer"]})
    api = RuntimeApi(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer")
    env = world.env(targets, DEPLOYER_EVENT_BUS=BUS, RUST_LOG="warn")
    env.update({"AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": "self-deployer",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"})
    proc = subprocess.Popen(command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        new = world.push_image("api", "v2", "release 2")
        world.moto.queue_invoke_results(OK)
        api.invoke("req-1", ecr_event("api", new, "v2"))
        result = api.wait_for("req-1")
        assert result["kind"] == "response" and result["body"]["outcome"] == "deployed", result
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        api.stop()
    main = [r for r in emf_lines(out) if "Deployments" in r]
    assert len(main) == 1, out
    assert main[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SelfDeployer"
    assert main[0]["RunId"] == "req-1", "the Lambda request id names the run"
    events = received(world, everything)
    assert [(e["detail"]["outcome"], e["detail"]["run_id"]) for e in events] == [("deployed", "req-1")]
