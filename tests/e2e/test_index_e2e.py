"""Image indexes on moto (issue 24): moto's ECR keeps a pushed index with its media type and
BatchGetImage returns it; moto's Lambda would run any URI, so the binary talks to Lambda through
LambdaLikeProxy, which refuses an index in UpdateFunctionCode as real Lambda does."""

import pytest

from harness import World, ecr_event
from lambda_like import LambdaLikeProxy

OK = {"statusCode": 200, "body": "ok"}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
TARGETS = [{"repository": "api", "functions": ["api-x86", "api-arm"], "allow_untagged": True}]


@pytest.fixture
def lambda_like(moto):
    p = LambdaLikeProxy(moto.endpoint)
    yield p
    p.stop()


def setup(world: World):
    world.repository("api")
    first = world.push_image("api", "v1", "release 1")
    world.function("api-x86", "api", first)
    world.function("api-arm", "api", first, arch="arm64")
    return world.push_index("api", "v2", ["linux/amd64", "linux/arm64/v8"])


def test_the_proxy_refuses_an_index_as_lambda_does(world, lambda_like):
    index, _ = setup(world)
    # A deploy of the index by URI with no resolution would be refused: the model holds.
    assert lambda_like.is_index(World.image_uri("api", index))
    assert not lambda_like.is_index(World.image_uri("api", world.push_image("api", "v3", "plain")))


def test_one_index_goes_live_on_an_x86_64_and_an_arm64_function(world, lambda_like):
    index, images = setup(world)
    assert len(set(images.values())) == 2, images
    world.moto.queue_invoke_results(OK, OK)
    run = world.handle(ecr_event("api", index, "v2", media_type=OCI_INDEX), TARGETS, via=lambda_like)
    assert run.code == 0, run.stderr
    assert run.report["outcome"] == "deployed", run.report
    assert lambda_like.refused == []
    for f, platform in (("api-x86", "linux/amd64"), ("api-arm", "linux/arm64/v8")):
        assert world.latest_image(f) == World.image_uri("api", images[platform]), f
        assert world.alias_version(f) == "2"
        d = next(d for d in run.report["deployments"] if d["function"] == f)
        assert (d["index_digest"], d["image_digest"], d["platform"]) == (index, images[platform], platform)
        desc = world.version_config(f, "2")["Configuration"]["Description"]
        assert f"digest={images[platform]}" in desc and f"index={index}" in desc


def test_the_untagged_events_of_an_index_push_are_skipped_with_no_lambda_call(world, lambda_like):
    index, images = setup(world)
    for d in images.values():
        run = world.handle(ecr_event("api", d, None, media_type=OCI_MANIFEST), TARGETS, via=lambda_like)
        assert run.code == 0, run.stderr
        assert run.report["outcome"] == "skipped", run.report
        assert f"of index {index} (tagged v2)" in run.report["reason"]
    assert not [op for op in lambda_like.ops() if op in (
        "GetFunction", "GetAlias", "UpdateFunctionCode", "Invoke", "PublishVersion", "UpdateAlias")]
    assert world.messages() == []


def test_an_index_without_the_platform_fails_at_resolve_and_changes_nothing(world, lambda_like):
    world.repository("api")
    first = world.push_image("api", "v1", "release 1")
    world.function("api-arm", "api", first, arch="arm64")
    index, _ = world.push_index("api", "v2", ["linux/amd64"])
    run = world.handle(ecr_event("api", index, "v2", media_type=OCI_INDEX),
                       [{"repository": "api", "functions": ["api-arm"]}], via=lambda_like)
    assert run.code != 0
    d = run.report["deployments"][0]
    assert (d["outcome"], d["failed_step"]) == ("failed", "resolve")
    assert d["reason"] == f"no linux/arm64 image in index {index}: it has linux/amd64"
    assert world.alias_version("api-arm") == "1"
    assert world.latest_image("api-arm") == World.image_uri("api", first)
    assert "UpdateFunctionCode" not in lambda_like.ops()
