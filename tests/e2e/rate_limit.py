"""Lambda's account-wide request rates in front of moto, which enforces none: the binary's AWS
calls go through this proxy (AWS_ENDPOINT_URL), and a Lambda control-plane call beyond `rate` per
second (15, Lambda's quota for every caller of an account and Region together), or a GetFunction
beyond `get_function_rate` (100), is answered as Lambda answers it: 429 TooManyRequestsException
with `Retry-After` (the SDK's `retryAfterSeconds`), never forwarded. Invoke is not a control-plane
call and is never limited. Asynchronous Invokes of the deployer are queued as InvokeRecorder
queues them. One token bucket per quota, shared by every process that calls through the proxy.
Loopback only."""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from invoke_recorder import InvokeRecorder

_GET_FUNCTION = re.compile(r"^/2015-03-31/functions/[^/]+/?$")
_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")
_LAMBDA = ("/2015-03-31/functions", "/2017-03-31/tags")


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self) -> int | None:
        """None: a token; else whole seconds until one (at least 1)."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1, math.ceil((1 - self.tokens) / self.rate))


class RateLimitedRecorder(InvokeRecorder):
    def __init__(self, upstream: str, function_arn: str, rate: float = 15,
                 get_function_rate: float = 100) -> None:
        self.buckets = {"control": _Bucket(rate), "get_function": _Bucket(get_function_rate)}
        self.bucket_lock = threading.Lock()
        self.throttled: dict[str, int] = {"control": 0, "get_function": 0}
        self.served: dict[str, int] = {"control": 0, "get_function": 0}
        super().__init__(upstream, function_arn)

    @staticmethod
    def quota(method: str, path: str) -> str | None:
        if not path.startswith(_LAMBDA) or _INVOKE.match(path):
            return None
        if method == "GET" and _GET_FUNCTION.match(path):
            return "get_function"
        return "control"

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(h.path).path)
        quota = self.quota(h.command, path)
        if quota is not None:
            with self.bucket_lock:
                wait = self.buckets[quota].take()
                self.throttled[quota] += wait is not None
                self.served[quota] += wait is None
            if wait is not None:
                length = int(h.headers.get("Content-Length") or 0)
                if length:
                    h.rfile.read(length)
                data = json.dumps({"Type": "User", "message": "Rate exceeded",
                                   "Reason": "CallerRateLimitExceeded",
                                   "retryAfterSeconds": str(wait)}).encode()
                h.send_response(429)
                h.send_header("Content-Type", "application/json")
                h.send_header("X-Amzn-ErrorType", "TooManyRequestsException")
                h.send_header("Retry-After", str(wait))
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data)
                return
        super()._handle(h)
