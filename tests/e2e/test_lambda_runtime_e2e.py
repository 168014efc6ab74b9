"""The binary as a Lambda: AWS_LAMBDA_RUNTIME_API points it at a runtime API served by the test;
it takes ECR events from there and posts its answers back. Proves the artifact works under the
real runtime client, not only as a CLI."""

import json
import os
import subprocess

import pytest

from harness import ACCOUNT, REGION, command, ecr_event
from runtime_api import RuntimeApi

ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:self-deployer"


@pytest.fixture
def lambda_process(world):
    started = []

    def start(targets):
        api = RuntimeApi(ARN)
        env = world.env(targets)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "self-deployer",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/self-deployer",
            "AWS_LAMBDA_LOG_STREAM_NAME": "test",
        })
        proc = subprocess.Popen(command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append((api, proc))
        return api, proc

    yield start
    for api, proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        api.stop()


def test_a_push_is_deployed_and_a_failure_is_posted_as_an_error(world, lambda_process):
    world.repository("api")
    good = world.push_image("api", "v1", "release 1")
    world.function("api-dev", "api", good)
    targets = [{"repository": "api", "functions": ["api-dev"]}]
    api, proc = lambda_process(targets)

    new = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results({"statusCode": 200})
    api.invoke("req-1", ecr_event("api", new, "v2"))
    ok = api.wait_for("req-1")
    assert ok["kind"] == "response", ok
    assert ok["body"]["outcome"] == "deployed"
    assert world.alias_version("api-dev") == "2"

    bad = world.push_image("api", "v3", "release 3")
    world.moto.queue_invoke_results({"statusCode": 500})
    api.invoke("req-2", ecr_event("api", bad, "v3"))
    err = api.wait_for("req-2")
    assert err["kind"] == "error", err
    assert err["body"]["errorType"] == "DeploymentFailed"
    report = json.loads(err["body"]["errorMessage"])
    assert report["deployments"][0]["failed_step"] == "smoke_test"
    assert world.alias_version("api-dev") == "2"

    api.invoke("req-3", {"action": "rollback", "function": "api-dev"})
    back = api.wait_for("req-3")
    assert back["kind"] == "response" and back["body"]["outcome"] == "rolled_back"
    assert world.alias_version("api-dev") == "1"
    assert proc.poll() is None, "one process served every invocation"


def test_bad_payload_and_bad_configuration_are_answered_not_crashed(world, lambda_process):
    api, proc = lambda_process([{"repository": "api", "functions": ["api-dev"]}])
    api.invoke("bad-1", {"hello": "world"})
    err = api.wait_for("bad-1")
    assert err["kind"] == "error"
    assert err["body"]["errorType"] == "InvalidPayload"
    assert "payload: is neither an ECR Image Action event" in err["body"]["errorMessage"]

    api2, proc2 = lambda_process([{"repository": "api", "functions": []}])
    api2.invoke("cfg-1", ecr_event("api", "sha256:" + "a" * 64, "v1"))
    err = api2.wait_for("cfg-1")
    assert err["kind"] == "error"
    assert err["body"]["errorType"] == "InvalidConfiguration"
    assert "DEPLOYER_TARGETS[0].functions: must not be empty" in err["body"]["errorMessage"]
