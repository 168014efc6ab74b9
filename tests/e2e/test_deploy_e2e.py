"""End to end: the real binary against a real local AWS (moto server), asserting on AWS state."""

import json

from harness import World, ecr_event

OK = {"statusCode": 200, "body": "ok"}


def setup(world: World, functions=("api-dev",)):
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    for f in functions:
        world.function(f, "api", good)
    targets = [{"repository": "api", "functions": list(functions)}]
    return good, targets


def test_a_push_goes_live_and_is_notified(world):
    _, targets = setup(world)
    new = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    run = world.handle(ecr_event("api", new, "v2"), targets)

    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "deployed"
    envelopes = world.envelopes()
    assert [e["Subject"] for e in envelopes] == ["DEPLOYED api-dev v2 (v2)"]
    d = run.report["deployments"][0]
    assert (d["previous_version"], d["version"]) == ("1", "2")
    assert world.alias_version("api-dev") == "2"
    desc = world.version_config("api-dev", "2")["Configuration"]["Description"]
    assert f"digest={new}" in desc and "previous=1" in desc and "tag=v2" in desc
    assert world.latest_image("api-dev") == World.image_uri("api", new)
    msgs = world.messages()
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert body["outcome"] == "deployed" and body["deployments"][0]["function"] == "api-dev"
    attrs = {k: v["StringValue"] for k, v in msgs[0]["MessageAttributes"].items()}
    assert attrs == {"outcome": "deployed", "function": "api-dev", "repository": "api"}


def test_the_same_event_again_is_already_live_and_silent(world):
    _, targets = setup(world)
    new = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK)
    assert world.handle(ecr_event("api", new, "v2"), targets).code == 0
    world.messages()
    again = world.handle(ecr_event("api", new, "v2"), targets)
    assert again.code == 0, again.stderr
    assert again.report["outcome"] == "already_live"
    assert world.versions("api-dev") == ["1", "2"]
    assert world.messages() == []


def test_a_failed_smoke_test_keeps_production_and_restores_latest(world):
    good, targets = setup(world)
    bad = world.push_image("api", "v2", "broken release")
    # moto never sets FunctionError: a 500 answer is the failing smoke test.
    world.moto.queue_invoke_results({"statusCode": 500, "body": "db unreachable"})
    run = world.handle(ecr_event("api", bad, "v2"), targets)

    assert run.code == 1
    d = run.report["deployments"][0]
    assert (d["outcome"], d["failed_step"]) == ("failed", "smoke_test")
    assert d["reason"] == "statusCode 500 is not one of [200]"
    assert "db unreachable" in d["smoke_test"]["payload_excerpt"]
    assert d["latest_restore"]["restored"] is True, d["latest_restore"]
    assert world.alias_version("api-dev") == "1"
    assert world.versions("api-dev") == ["1"]
    assert world.latest_image("api-dev") == World.image_uri("api", good)
    msgs = world.messages()
    assert len(msgs) == 1 and json.loads(msgs[0]["Body"])["outcome"] == "failed"


def test_events_not_for_us_are_skipped_and_change_nothing(world):
    good, targets = setup(world)
    targets[0]["tags"] = ["v*"]
    new = world.push_image("api", "latest", "release 2")
    cases = [
        (ecr_event("api", new, "latest"), "matches none"),
        (ecr_event("other", new, "v2"), "no target is configured"),
        (ecr_event("api", new, "v2", action="DELETE"), "only pushes"),
        (ecr_event("api", new, "v2", result="FAILURE"), "only successful pushes"),
    ]
    for event, why in cases:
        run = world.handle(event, targets)
        assert run.code == 0, run.stderr
        assert run.report["outcome"] == "skipped"
        assert why in run.report["reason"]
    assert world.alias_version("api-dev") == "1"
    assert world.versions("api-dev") == ["1"]
    assert world.latest_image("api-dev") == World.image_uri("api", good)
    assert world.messages() == []


def test_one_repository_three_functions_one_failing(world):
    _, targets = setup(world, ("api-a", "api-b", "api-c"))
    new = world.push_image("api", "v2", "release 2")
    # One at a time, so the queued answers meet the functions in order.
    world.moto.queue_invoke_results(OK, {"statusCode": 503}, OK)
    run = world.handle(ecr_event("api", new, "v2"), targets, DEPLOYER_MAX_PARALLEL="1")

    assert run.code == 1
    outcomes = {d["function"]: d["outcome"] for d in run.report["deployments"]}
    assert outcomes == {"api-a": "deployed", "api-b": "failed", "api-c": "deployed"}
    assert [world.alias_version(f) for f in ("api-a", "api-b", "api-c")] == ["2", "1", "2"]


def test_malformed_payloads_and_configs_exit_2_and_mutate_nothing(world):
    good, targets = setup(world)
    new = world.push_image("api", "v2", "release 2")
    bad_digest = ecr_event("api", "sha256:nope", "v2")
    cases = [
        (world.handle("{oops", targets), "payload: not JSON"),
        (world.handle(bad_digest, targets), "payload.detail.image-digest"),
        (world.handle({"hello": "world"}, targets), "is neither an ECR Image Action event"),
        (world.handle(ecr_event("api", new, "v2"), [{"repository": "api"}]), "DEPLOYER_TARGETS[0]: missing field `functions`"),
        (world.handle(ecr_event("api", new, "v2"), targets, DEPLOYER_MAX_PARALLEL="lots"), "DEPLOYER_MAX_PARALLEL"),
    ]
    for run, why in cases:
        assert run.code == 2, run.stderr
        assert why in run.stderr, run.stderr
        assert run.stdout == ""
    assert world.alias_version("api-dev") == "1"
    assert world.versions("api-dev") == ["1"]
    assert world.latest_image("api-dev") == World.image_uri("api", good)
    assert world.messages() == []


def test_a_filter_policy_subscription_gets_only_failures(world):
    _, targets = setup(world)
    sqs, sns = world.moto.client("sqs"), world.moto.client("sns")
    url = sqs.create_queue(QueueName="failures-only")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=world.topic_arn, Protocol="sqs", Endpoint=arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicy": json.dumps({"outcome": ["failed"]})})
    good = world.push_image("api", "v2", "release 2")
    bad = world.push_image("api", "v3", "release 3")
    world.moto.queue_invoke_results(OK, {"statusCode": 500})
    assert world.handle(ecr_event("api", good, "v2"), targets).code == 0
    assert world.handle(ecr_event("api", bad, "v3"), targets).code == 1
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert [json.loads(m["Body"])["outcome"] for m in got] == ["failed"]
    assert len(world.messages()) == 2, "the unfiltered queue got both"
