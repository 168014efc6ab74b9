import sys
from pathlib import Path

import pytest

# The emulator harness lives with the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import Moto  # noqa: E402


@pytest.fixture(scope="session")
def moto():
    m = Moto()
    try:
        yield m
    finally:
        m.stop()
