import pytest

from harness import World, running_moto

moto = pytest.fixture(scope="session", name="moto")(running_moto)


@pytest.fixture
def world(moto):
    """A fresh account for each test."""
    moto.reset()
    return World.build(moto)
