"""The external checkers, installed by `make` into their own venvs. Missing ones fail the test
with how to install them; they are never skipped."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str, env_var: str, venv: str) -> str:
    path = os.environ.get(env_var) or str(ROOT / venv / "bin" / name)
    if not Path(path).exists():
        found = shutil.which(name)
        if not found:
            raise AssertionError(f"{name} is not installed: run `make {venv.lstrip('.')}` (or set {env_var})")
        path = found
    return path


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION="eu-west-1", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, cwd=ROOT, **kw)
