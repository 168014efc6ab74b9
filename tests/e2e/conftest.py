import pytest

from fault_proxy import FaultProxy
from harness import World, running_moto
from rollouts import Rollouts

moto = pytest.fixture(scope="session", name="moto")(running_moto)


@pytest.fixture
def world(moto):
    """A fresh account for each test."""
    moto.reset()
    return World.build(moto)


@pytest.fixture
def fault_proxy(moto):
    """Starts a FaultProxy in front of moto with the given rules; stopped after the test (which
    also releases any request it holds)."""
    started = []

    def start(*rules):
        p = FaultProxy(moto.endpoint, list(rules))
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def rollouts(world):
    """The Scheduler, CloudWatch and alarms around the world, for rollout tests; stopped after."""
    r = Rollouts(world)
    yield r
    r.stop()
