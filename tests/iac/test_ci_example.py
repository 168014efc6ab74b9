"""examples/github-actions/build-and-push.yml: actionlint-clean, and the CI half only: OIDC (no
stored keys), an image tagged with the commit SHA pushed to ECR, and no deploy step of its own."""

import yaml

from tools import ROOT, run, tool

WORKFLOW = ROOT / "examples" / "github-actions" / "build-and-push.yml"


def actionlint() -> str:
    return tool("actionlint", "ACTIONLINT_BIN", ".venv-actionlint")


def test_actionlint_finds_nothing():
    res = run([actionlint(), "-no-color", str(WORKFLOW)])
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The check above can fail: an undefined step output and a bad runner label are reported."""
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text()
    text = text.replace("steps.push.outputs.digest", "steps.pushh.outputs.digest")
    text = text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest")
    broken.write_text(text)
    res = run([actionlint(), "-no-color", str(broken)])
    assert res.returncode != 0
    assert "pushh" in res.stdout and "ubuntu-lastest" in res.stdout, res.stdout


def test_the_workflow_pushes_by_oidc_and_does_nothing_else():
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert wf["permissions"] == {"id-token": "write", "contents": "read"}
    text = WORKFLOW.read_text()
    for secret in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id", "secrets."):
        assert secret not in text, f"{secret}: no long-lived keys"
    steps = wf["jobs"]["build-and-push"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses[:6] == [
        "actions/checkout",
        "aws-actions/configure-aws-credentials",
        "aws-actions/amazon-ecr-login",
        "docker/setup-qemu-action",
        "docker/setup-buildx-action",
        "docker/build-push-action",
    ]
    by_action = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    creds = by_action["aws-actions/configure-aws-credentials"]["with"]
    assert creds["role-to-assume"] == "${{ vars.AWS_PUSH_ROLE_ARN }}"
    push = by_action["docker/build-push-action"]["with"]
    assert push["push"] is True
    assert push["tags"].endswith(":${{ github.sha }}"), "tagged with the commit SHA"
    # Issue 24: the deployer resolves an image index per function architecture, so the example
    # builds every platform with BuildKit's attestations left on (they were switched off while
    # Lambda's refusal of an index reached the deployer).
    assert push["platforms"].split(",") == ["linux/amd64", "linux/arm64"]
    # Issue 27: the commit (GitHub deployments) and the build time (lead time) as OCI labels, the
    # build time from a step before the push.
    labels = push["labels"].splitlines()
    assert "org.opencontainers.image.revision=${{ github.sha }}" in labels
    assert "org.opencontainers.image.created=${{ steps.built.outputs.at }}" in labels
    built = next(i for i, s in enumerate(steps) if s.get("id") == "built")
    assert built < steps.index(by_action["docker/build-push-action"])
    assert "date -u +%Y-%m-%dT%H:%M:%SZ" in steps[built]["run"]
    assert "provenance" not in push and "sbom" not in push, "attestations left on"
    # The deployer takes it from there: no step deploys, nothing runs the aws CLI.
    scripts = "\n".join(s.get("run", "") for s in steps)
    for deploying in ("aws ", "update-function-code", "update-alias", "self-deployer deploy -", "self-deployer handle"):
        assert deploying not in scripts, deploying
    assert all("lambda" not in u for u in uses)
