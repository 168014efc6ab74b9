import sys
from pathlib import Path

import pytest

# The emulator harness lives with the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import running_moto  # noqa: E402

moto = pytest.fixture(scope="session", name="moto")(running_moto)
