"""A proxy in front of moto that answers UpdateFunctionCode as real Lambda does for an image
index: moto's Lambda accepts any image URI, real Lambda refuses an index ("The image manifest,
config or layer media type for the source image ... is not supported."). Everything else is the
FaultProxy (RevisionIds included). Whether a digest is an index is asked of moto's ECR, which
keeps each manifest with the media type it was pushed with. Loopback only.
"""

from __future__ import annotations

import json
import re
import urllib.parse

import boto3

from fault_proxy import OPS, FaultProxy, _json
from harness import CREDS, REGION

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
ACCEPTED = [*INDEX_TYPES, "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json"]


class LambdaLikeProxy(FaultProxy):
    def __init__(self, upstream: str, **kw) -> None:
        super().__init__(upstream, **kw)
        self.ecr = boto3.client("ecr", endpoint_url=upstream, region_name=REGION,
                                aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"])
        self.refused: list[str] = []

    def is_index(self, uri: str) -> bool:
        name, _, digest = uri.partition("@")
        repo = name.split("/", 1)[1] if "/" in name else name
        if not digest:
            return False
        try:
            got = self.ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}],
                                           acceptedMediaTypes=ACCEPTED)["images"]
        except self.ecr.exceptions.RepositoryNotFoundException:
            return False
        return any(i.get("imageManifestMediaType") in INDEX_TYPES for i in got)

    def _forward(self, method: str, target: str, headers, body: bytes):
        m, p = OPS["UpdateFunctionCode"]
        path = urllib.parse.urlsplit(target).path
        doc = _json(body)
        uri = doc.get("ImageUri") if isinstance(doc, dict) else None
        if method == m and re.fullmatch(p, path) and uri and self.is_index(uri):
            self.refused.append(uri)
            data = json.dumps({
                "Type": "User", "__type": "InvalidParameterValueException",
                "message": f"The image manifest, config or layer media type for the source image {uri} is not supported.",
            }).encode()
            headers = [("Content-Type", "application/json"),
                       ("X-Amzn-ErrorType", "InvalidParameterValueException")]
            return 400, "Bad Request", headers, data
        return super()._forward(method, target, headers, body)
