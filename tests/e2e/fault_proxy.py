"""A fault-injecting HTTP proxy between the binary and moto: everything the binary sends to AWS
goes through it (AWS_ENDPOINT_URL = the proxy), while the test builds and inspects the world
directly against moto.

Each request is forwarded to moto unless a rule picks it. A rule names the call (a Lambda
operation from OPS, or "METHOD /path-regex"), which matching request it hits (`nth`, 1-based;
None hits every match) and what happens to it:

- `lose`:  forwarded, so AWS applies it, then the connection is closed without an answer (a
           response lost on the way back: the SDK sees the connection drop and retries the call);
- `hang`:  never answered; the connection is held open until the proxy stops;
- `error`: answered 500 (or `status`) with an AWS error body, never forwarded.

`after` (an operation name) starts counting only once such a request has been seen, e.g. "the
first GetFunction after UpdateFunctionCode".

RevisionIds: real Lambda gives `$LATEST` and each alias a RevisionId that changes with every
update, and refuses a guarded update (UpdateFunctionCode, UpdateFunctionConfiguration,
PublishVersion, UpdateAlias) whose RevisionId is not the current one with 412
PreconditionFailedException. That is what an SDK retry of a lost update meets: the lost attempt
was applied and changed the revision. Stock moto has none of it (no function RevisionId; an alias
RevisionId that never changes and is never checked), so the proxy keeps the revisions itself
(`revisions=True`, the default): it writes its own RevisionId into the answers that carry one
(`$LATEST`, published versions, aliases), advances it when moto applies an update, and answers a
stale one 412 without forwarding.

The proxy records every request it receives (method, path, operation, what it did) in `seen`.
Loopback only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_FN = r"/2015-03-31/functions/[^/]+"
# Lambda's REST API (the SDK's request URIs; the function name is URL-encoded in the path).
OPS: dict[str, tuple[str, str]] = {
    "GetFunction": ("GET", _FN + r"/?"),
    "GetFunctionConfiguration": ("GET", _FN + r"/configuration"),
    "UpdateFunctionConfiguration": ("PUT", _FN + r"/configuration"),
    "UpdateFunctionCode": ("PUT", _FN + r"/code"),
    "Invoke": ("POST", _FN + r"/invocations"),
    "PublishVersion": ("POST", _FN + r"/versions"),
    "ListVersionsByFunction": ("GET", _FN + r"/versions"),
    "DeleteFunction": ("DELETE", _FN + r"/?"),
    "CreateAlias": ("POST", _FN + r"/aliases"),
    "GetAlias": ("GET", _FN + r"/aliases/[^/]+"),
    "UpdateAlias": ("PUT", _FN + r"/aliases/[^/]+"),
}

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
ACTIONS = ("lose", "hang", "error")

# RevisionId bookkeeping: which operations are guarded by, advance, or report which revision.
GUARDED = {"UpdateFunctionCode": "function", "UpdateFunctionConfiguration": "function",
           "PublishVersion": "function", "UpdateAlias": "alias"}
ADVANCES = {"UpdateFunctionCode": "function", "UpdateFunctionConfiguration": "function",
            "UpdateAlias": "alias", "CreateAlias": "alias"}
REPORTS = {"GetFunction": "function", "GetFunctionConfiguration": "function",
           "UpdateFunctionCode": "function", "UpdateFunctionConfiguration": "function",
           "GetAlias": "alias", "UpdateAlias": "alias", "CreateAlias": "alias"}


def _matcher(spec: str) -> tuple[str, re.Pattern]:
    if spec in OPS:
        method, path = OPS[spec]
    else:
        method, _, path = spec.partition(" ")
        if not path.startswith("/"):
            raise ValueError(f"{spec!r} is neither an operation in OPS nor 'METHOD /path-regex'")
    return method.upper(), re.compile(path)


def operation(method: str, path: str, headers, body: bytes) -> str:
    """A readable name for a request: the Lambda operation, the X-Amz-Target of JSON protocols
    (ECR), or the Action of query protocols (SNS)."""
    for name, (m, p) in OPS.items():
        if m == method and re.fullmatch(p, path):
            return name
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action")
    return action[0] if action else f"{method} {path}"


@dataclass
class Rule:
    match: str
    action: str
    nth: int | None = 1
    after: str | None = None
    status: int = 500
    error_type: str = "ServiceException"

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action {self.action!r} is not one of {ACTIONS}")
        self.method, self.path = _matcher(self.match)
        self.after_m = _matcher(self.after) if self.after else None
        self.armed = self.after is None
        self.count = 0


@dataclass
class Seen:
    method: str
    path: str
    query: str
    op: str
    action: str  # forwarded | lose | hang | error | stale_revision
    revision_id: str | None = None  # the RevisionId the request carried


class FaultProxy:
    def __init__(self, upstream: str, rules: list[Rule] = (), revisions: bool = True) -> None:
        up = urllib.parse.urlsplit(upstream)
        if up.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"upstream {upstream} is not a loopback address")
        self.upstream = (up.hostname, up.port)
        self.rules = list(rules)
        self.seen: list[Seen] = []
        self.revisions = revisions
        # How many updates moto applied through the proxy, by ("function", name) (its $LATEST),
        # ("alias", name, alias) or ("version", name, n) (never updated).
        self.generation: dict[tuple, int] = {}
        self.lock = threading.Lock()
        self.updating = threading.Lock()  # a guarded update: check, forward, advance as one
        self.stopping = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                proxy._handle(self)

            do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- what a test asks ----------------------------------------------------------------------
    def ops(self) -> list[str]:
        """The operations received, in order."""
        with self.lock:
            return [s.op for s in self.seen]

    def count(self, op: str) -> int:
        return self.ops().count(op)

    def fired(self) -> list[Seen]:
        """The requests a rule (or the RevisionId check) acted on."""
        with self.lock:
            return [s for s in self.seen if s.action != "forwarded"]

    # --- the proxy -----------------------------------------------------------------------------
    def _pick(self, method: str, path: str) -> Rule | None:
        picked = None
        for r in self.rules:
            if not r.armed:
                continue
            if r.method == method and r.path.fullmatch(path):
                r.count += 1
                if picked is None and (r.nth is None or r.count == r.nth):
                    picked = r
        # Arm `after` rules once their trigger has been seen (this request counts from the next).
        for r in self.rules:
            if not r.armed and r.after_m[0] == method and r.after_m[1].fullmatch(path):
                r.armed = True
        return picked

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(h.path)
        path, query = split.path, split.query
        body = _read_body(h)
        op = operation(h.command, path, h.headers, body)
        doc = _json(body)
        revision = doc.get("RevisionId") if isinstance(doc, dict) else None
        with self.lock:
            rule = self._pick(h.command, path)
            seen = Seen(h.command, path, query, op, rule.action if rule else "forwarded", revision)
            self.seen.append(seen)

        if seen.action == "hang":
            h.close_connection = True
            self.stopping.wait()
            return
        if seen.action == "error":
            _answer_error(h, rule.status, rule.error_type, f"{op}: error injected by fault_proxy")
            return

        key = self._key(op, path, query, doc)
        guarded = self.revisions and key is not None and op in GUARDED
        with self.updating if guarded else contextlib.nullcontext():
            if guarded and revision is not None and revision != self._revision(key):
                if seen.action == "lose":  # refused, and the refusal lost
                    h.close_connection = True
                    return
                seen.action = "stale_revision"
                _answer_error(h, 412, "PreconditionFailedException",
                              "The Revision Id provided does not match the latest Revision Id. "
                              f"Call the {'GetAlias' if key[0] == 'alias' else 'GetFunction'} API to retrieve the latest Revision Id")
                return
            try:
                status, reason, headers, data = self._forward(h.command, h.path, h.headers, body)
            except OSError as e:
                _answer_error(h, 502, "ServiceException", f"fault_proxy could not reach moto: {e}")
                return
            ok = 200 <= status < 300
            if self.revisions and key is not None and ok:
                if op in ADVANCES:
                    with self.lock:
                        self.generation[key] = self.generation.get(key, 0) + 1
                if op in REPORTS:
                    data = self._with_revision(op, key, data)
        if seen.action == "lose":
            # Applied upstream; the answer never reaches the client: the connection just closes.
            h.close_connection = True
            return
        h.send_response(status, reason)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    # --- RevisionIds, as Lambda keeps them --------------------------------------------------------
    @staticmethod
    def _key(op: str, path: str, query: str, doc) -> tuple | None:
        """Whose revision a Lambda request concerns: $LATEST of a function, a published version,
        or an alias (None: not a revision-bearing Lambda call)."""
        kind = GUARDED.get(op) or ADVANCES.get(op) or REPORTS.get(op)
        if kind is None:
            return None
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        function = parts[2]
        if kind == "function":
            qualifier = urllib.parse.parse_qs(query).get("Qualifier", ["$LATEST"])[0]
            if qualifier == "$LATEST":
                return ("function", function)
            # A published version is immutable: its RevisionId never changes.
            return ("version", function, qualifier) if qualifier.isdigit() and op in REPORTS else None
        alias = parts[4] if len(parts) > 4 else (doc or {}).get("Name")
        return ("alias", function, alias) if alias else None

    def _revision(self, key: tuple) -> str:
        with self.lock:
            n = self.generation.get(key, 0)
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fault-proxy:{'/'.join(key)}#{n}"))

    def _with_revision(self, op: str, key: tuple, data: bytes) -> bytes:
        doc = _json(data)
        if not isinstance(doc, dict):
            return data
        target = doc.get("Configuration") if op == "GetFunction" else doc
        if isinstance(target, dict):
            target["RevisionId"] = self._revision(key)
        return json.dumps(doc).encode()

    def _forward(self, method: str, target: str, headers, body: bytes):
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            out["Content-Length"] = str(len(body))
            conn.request(method, target, body=body, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()  # releases every hung request
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


def _json(data: bytes):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _answer_error(h: BaseHTTPRequestHandler, status: int, error_type: str, message: str) -> None:
    """An AWS error as restJson1 (Lambda) and awsJson1.1 (ECR) clients both read it."""
    data = json.dumps({"__type": error_type, "Type": "User" if status < 500 else "Service",
                       "message": message}).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("X-Amzn-ErrorType", error_type)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)
