"""A real local AWS for end-to-end runs: moto server on a free loopback port, and a world built
through the AWS API (IAM role, ECR repository and images, target functions with a `live` alias,
an SNS topic with an SQS queue subscribed with raw delivery so we read exactly what was published).

The product is the real `self-deployer` binary, pointed at moto only through AWS_ENDPOINT_URL and
dummy credentials: no test-only code path in it.

Known gaps of stock moto 5.2 (see README "Testing"): functions have no RevisionId, no CodeSha256 or
RevisionId enforcement, LastUpdateStatus is never InProgress, Invoke ignores the Qualifier, version
numbers are reused after deletions, versions an alias uses can be deleted, and Invoke never sets
FunctionError (a failing smoke test is a queued `statusCode` 500). Scenarios that depend on those
are covered by the Rust tests on the modelled Lambda world (tests/deploy.rs), not here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
CREDS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION}


def binary() -> Path:
    """The self-deployer binary under test (built by `make`, or named by SELF_DEPLOYER_BIN)."""
    p = Path(os.environ.get("SELF_DEPLOYER_BIN", ROOT / "target" / "debug" / "self-deployer"))
    if not p.exists():
        raise RuntimeError(f"{p} does not exist: run `cargo build` (make does it) first")
    return p


def command() -> list[str]:
    """How to start the binary: directly, or under qemu for the arm64 artifact
    (SELF_DEPLOYER_QEMU=qemu-aarch64-static; no -L, which hangs threaded programs)."""
    qemu = os.environ.get("SELF_DEPLOYER_QEMU")
    return [qemu, str(binary())] if qemu else [str(binary())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """A moto server process on loopback, stopped by `stop()` (or the context manager)."""

    def __init__(self) -> None:
        exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
        if not exe:
            raise RuntimeError(
                "moto_server is not installed: run `make venv` (pip install -r requirements-dev.txt into .venv)"
            )
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MOTO_LAMBDA_STUB_ECR="false", **CREDS)
        self.log = open(ROOT / "target" / f"moto-{self.port}.log", "w") if (ROOT / "target").exists() else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not start on {self.endpoint}")
                time.sleep(0.1)
        self.configure()

    def post(self, path: str, body: dict) -> bytes:
        req = urllib.request.Request(
            self.endpoint + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        return urllib.request.urlopen(req, timeout=10).read()

    def configure(self) -> None:
        # No Docker here: Lambda invocations answer from the queue below instead of running code.
        self.post("/moto-api/config", {"lambda": {"use_docker": False}})

    def reset(self) -> None:
        self.post("/moto-api/reset", {})
        self.configure()

    def queue_invoke_results(self, *results: dict | str) -> None:
        """What the next Invoke calls return, in order (moto's static Lambda responses)."""
        payloads = [r if isinstance(r, str) else json.dumps(r) for r in results]
        self.post("/moto-api/static/lambda-simple/response", {"results": payloads, "region": REGION})

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Moto":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def running_moto():
    """A pytest session fixture body: one emulator, stopped at the end (no leftover process)."""
    m = Moto()
    try:
        yield m
    finally:
        m.stop()


@dataclass
class Run:
    """One run of the binary."""
    code: int
    report: dict | None
    stdout: str
    stderr: str


def why(run: Run) -> str:
    """What an assertion on a run says when it fails: the exit code, stdout and stderr's end."""
    return f"exit {run.code}\nstdout: {run.stdout}\nstderr: {run.stderr[-3000:]}"


@dataclass
class World:
    moto: Moto
    role_arn: str = ""
    topic_arn: str = ""
    queue_url: str = ""
    envelope_queue_url: str = ""
    targets: list = field(default_factory=list)

    @classmethod
    def build(cls, moto: Moto) -> "World":
        w = cls(moto)
        iam = moto.client("iam")
        w.role_arn = iam.create_role(RoleName="target-fn", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        sns, sqs = moto.client("sns"), moto.client("sqs")
        w.topic_arn = sns.create_topic(Name="deploys")["TopicArn"]
        w.queue_url = sqs.create_queue(QueueName="deploys-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=w.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=w.topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "true"})
        # A second queue without raw delivery receives SNS's envelope, which carries the Subject.
        w.envelope_queue_url = sqs.create_queue(QueueName="deploys-envelopes")["QueueUrl"]
        env_arn = sqs.get_queue_attributes(QueueUrl=w.envelope_queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=w.topic_arn, Protocol="sqs", Endpoint=env_arn)
        return w

    # --- ECR -------------------------------------------------------------------------------
    def repository(self, name: str) -> None:
        self.moto.client("ecr").create_repository(repositoryName=name)

    def push_image(self, repo: str, tag: str | None, content: str) -> str:
        """Puts an image manifest into ECR (what `docker push` does) and returns its digest."""
        layer = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(content), "digest": layer},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(content), "digest": layer}],
        })
        kw = {"imageTag": tag} if tag else {}
        image = self.moto.client("ecr").put_image(repositoryName=repo, imageManifest=manifest, **kw)["image"]
        return image["imageId"]["imageDigest"]

    def push_index(self, repo: str, tag: str | None, platforms: list[str],
                   attestations: bool = True) -> tuple[str, dict[str, str]]:
        """What `docker buildx build --platform ... --push` does with provenance on (BuildKit's
        default): each platform's image and an attestation manifest for it, untagged, then an
        OCI image index naming them all, with the tag. Returns the index digest and each
        platform's image digest."""
        ecr = self.moto.client("ecr")
        oci = "application/vnd.oci.image.manifest.v1+json"
        entries, images = [], {}
        for platform in platforms:
            content = f"{repo} for {platform}"
            layer = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
            # moto derives a manifest's digest from its layers: each image has its own layer.
            body = json.dumps({"schemaVersion": 2, "mediaType": oci,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "size": len(content), "digest": layer},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                           "size": len(content), "digest": layer}]})
            d = ecr.put_image(repositoryName=repo, imageManifest=body,
                              imageManifestMediaType=oci)["image"]["imageId"]["imageDigest"]
            images[platform] = d
            os_, arch, *variant = platform.split("/")
            p = {"os": os_, "architecture": arch, **({"variant": variant[0]} if variant else {})}
            entries.append({"mediaType": oci, "digest": d, "size": len(body), "platform": p})
            if attestations:
                att = json.dumps({"schemaVersion": 2, "mediaType": oci,
                                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                             "size": 2, "digest": layer},
                                  "layers": [{"mediaType": "application/vnd.in-toto+json", "size": 1,
                                              "digest": "sha256:" + hashlib.sha256(
                                                  f"provenance of {content}".encode()).hexdigest()}]})
                a = ecr.put_image(repositoryName=repo, imageManifest=att,
                                  imageManifestMediaType=oci)["image"]["imageId"]["imageDigest"]
                entries.append({"mediaType": oci, "digest": a, "size": len(att),
                                "platform": {"os": "unknown", "architecture": "unknown"},
                                "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                                "vnd.docker.reference.digest": d}})
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": entries})
        kw = {"imageTag": tag} if tag else {}
        ix = ecr.put_image(repositoryName=repo, imageManifest=index,
                           imageManifestMediaType="application/vnd.oci.image.index.v1+json",
                           **kw)["image"]["imageId"]["imageDigest"]
        return ix, images

    def scan(self, repo: str, digest: str, counts: dict[str, int], status: str = "COMPLETE",
             findings: list[tuple[str, str, str]] = ()) -> None:
        """ECR scans the image and finds `counts` (and `findings`: name, severity, package). moto
        keeps a scan only once StartImageScan ran, and answers DescribeImageScanFindings with the
        result posted to its scan-finding-results endpoint for that image."""
        self.moto.client("ecr").start_image_scan(repositoryName=repo, imageId={"imageDigest": digest})
        listed = [{"name": name, "severity": sev, "uri": f"https://cve.example/{name}",
                   "attributes": [{"key": "package_name", "value": pkg.split(" ")[0]},
                                  {"key": "package_version", "value": pkg.split(" ")[-1]}]}
                  for name, sev, pkg in findings]
        result = {
            "registryId": ACCOUNT, "repositoryName": repo, "imageId": {"imageDigest": digest},
            "imageScanStatus": {"status": status, "description": f"The scan ended: {status}."},
            "imageScanFindings": {"findingSeverityCounts": counts, "findings": listed},
        }
        self.moto.post("/moto-api/static/ecr/scan-finding-results",
                       {"results": [result], "region": REGION, "account_id": ACCOUNT})

    @staticmethod
    def image_uri(repo: str, digest: str) -> str:
        return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repo}@{digest}"

    # --- Lambda ----------------------------------------------------------------------------
    def function(self, name: str, repo: str, digest: str, alias: str = "live",
                 arch: str = "x86_64") -> str:
        """A container-image function whose version 1 runs `digest`, with `alias` on version 1."""
        lam = self.moto.client("lambda")
        lam.create_function(FunctionName=name, Role=self.role_arn, PackageType="Image",
                            Code={"ImageUri": self.image_uri(repo, digest)}, Timeout=30,
                            Architectures=[arch])
        v = lam.publish_version(FunctionName=name, Description="initial")["Version"]
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=v)
        return v

    def alias_version(self, name: str, alias: str = "live") -> str:
        return self.moto.client("lambda").get_alias(FunctionName=name, Name=alias)["FunctionVersion"]

    def versions(self, name: str) -> list[str]:
        vs = self.moto.client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
        return [v["Version"] for v in vs if v["Version"] != "$LATEST"]

    def version_config(self, name: str, version: str) -> dict:
        return self.moto.client("lambda").get_function(FunctionName=name, Qualifier=version)

    def latest_image(self, name: str) -> str:
        return self.moto.client("lambda").get_function(FunctionName=name)["Code"]["ImageUri"]

    # --- SNS via SQS -------------------------------------------------------------------------
    def messages(self) -> list[dict]:
        """Every message published since the last call, with its attributes (raw delivery)."""
        self._drain(self.envelope_queue_url)
        return self._drain(self.queue_url)

    def envelopes(self) -> list[dict]:
        """SNS envelopes (Subject, Message, MessageAttributes) published since the last call."""
        return [json.loads(m["Body"]) for m in self._drain(self.envelope_queue_url)]

    def _drain(self, url: str) -> list[dict]:
        sqs = self.moto.client("sqs")
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                      MessageAttributeNames=["All"], WaitTimeSeconds=0)
            msgs = got.get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    # --- the product -------------------------------------------------------------------------
    def env(self, targets: list, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DEPLOYER_"))}
        env.update(CREDS)
        env.update({
            "AWS_ENDPOINT_URL": self.moto.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "DEPLOYER_TARGETS": json.dumps(targets),
            "DEPLOYER_TOPIC_ARN": self.topic_arn,
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        })
        env.update(extra)
        return env

    def handle(self, payload: dict | str, targets: list, via=None, timeout: float = 120, **extra: str) -> Run:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        return self.cli(["handle", "-"], targets, stdin=data, via=via, timeout=timeout, **extra)

    def cli(self, args: list[str], targets: list, stdin: str = "", via=None, timeout: float = 120,
            **extra: str) -> Run:
        """Runs `self-deployer ARGS...` against the emulator, or through `via` (a FaultProxy in
        front of it: the binary's AWS calls go through the proxy, the test's own go to moto)."""
        if via is not None:
            extra.setdefault("AWS_ENDPOINT_URL", via.endpoint)
        p = subprocess.run([str(binary()), *args], input=stdin, capture_output=True, text=True,
                           env=self.env(targets, **extra), timeout=timeout)
        try:
            report = json.loads(p.stdout) if p.stdout.strip() else None
        except json.JSONDecodeError:
            report = None
        return Run(p.returncode, report, p.stdout, p.stderr)


def ecr_event(repo: str, digest: str, tag: str | None, action: str = "PUSH", result: str = "SUCCESS",
              time_: str = "2026-11-26T07:00:00Z", media_type: str | None = None) -> dict:
    detail = {"result": result, "repository-name": repo, "image-digest": digest, "action-type": action}
    if tag:
        detail["image-tag"] = tag
    if media_type:
        detail["manifest-media-type"] = media_type
    return {"version": "0", "id": "e2e", "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": ACCOUNT, "time": time_, "region": REGION, "resources": [], "detail": detail}
