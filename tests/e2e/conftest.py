import pytest

from harness import Moto, World


@pytest.fixture(scope="session")
def moto():
    """One emulator for the session, stopped at the end (no leftover process)."""
    m = Moto()
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture
def world(moto):
    """A fresh account for each test."""
    moto.reset()
    return World.build(moto)
