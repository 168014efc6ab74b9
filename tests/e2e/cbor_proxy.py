"""CloudWatch over Smithy RPC v2 CBOR, in front of moto, which only speaks it over JSON and query.

The Rust `aws-sdk-cloudwatch` speaks Smithy RPC v2 CBOR: `POST /service/GraniteServiceVersion20100801
/operation/<Op>`, header `smithy-protocol: rpc-v2-cbor`, CBOR bodies with timestamps as CBOR tag 1
(epoch seconds). moto 5.2 serves CloudWatch over awsJson1_0 (`X-Amz-Target:
GraniteServiceVersion20100801.<Op>`) and query, not CBOR. This proxy translates, so the rollout gates
(DescribeAlarms, GetMetricData) run on the real HTTP path, with the real SDK's serializers and
deserializers, against moto's CloudWatch:

    request:  CBOR -> JSON (tag-1 timestamps -> epoch seconds, byte strings -> base64), forwarded to
              moto as awsJson1_0 with the SDK's own Authorization header (moto reads the region and
              the service, `monitoring`, from its credential scope);
    answer:   JSON -> CBOR, shaped by botocore's CloudWatch model (timestamps -> tag 1, doubles as
              CBOR floats, blobs as byte strings, members the model does not know dropped), with
              `smithy-protocol: rpc-v2-cbor` and `Content-Type: application/cbor`;
    errors:   moto's status kept; the body a CBOR map with `__type` (the error's shape id, which is
              what the SDK's rpc-v2-cbor error parser reads, trimming everything up to `#`) and
              `message`; `x-amzn-query-error` passed on (CloudWatch is awsQueryCompatible: the SDK
              takes the error code from that header when present).

Only CloudWatch goes through it: the binary gets `AWS_ENDPOINT_URL_CLOUDWATCH` = the proxy (aws-config
honours service-specific endpoint variables), every other service still goes to moto directly.

`fail` injects errors: {"GetMetricData": 500} answers every such call with a CBOR
InternalServiceFault, never forwarded (the SDK retries it, as it would a real one). `seen` lists
the operations received, in order; `asked`, the metrics each GetMetricData asked. moto has no
percentiles: a `p99` is forwarded as `Maximum` (see `percentiles_as_maximum`). Loopback only.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2

from fault_proxy import _read_body

TARGET_PREFIX = "GraniteServiceVersion20100801"
PATH_PREFIX = f"/service/{TARGET_PREFIX}/operation/"
SHAPE_NAMESPACE = "com.amazonaws.cloudwatch"
# Request headers the translation replaces or that belong to one hop only.
DROP = {"content-type", "content-length", "smithy-protocol", "accept", "connection", "keep-alive",
        "transfer-encoding", "te", "trailer", "upgrade", "host", "expect"}

_model = None


def model():
    """botocore's CloudWatch service model (loaded once; it ships with boto3)."""
    global _model
    if _model is None:
        _model = botocore.session.get_session().get_service_model("cloudwatch")
    return _model


def cbor_to_json(value):
    """A decoded CBOR value as JSON can carry it (awsJson1_0: timestamps are epoch seconds)."""
    if isinstance(value, dict):
        return {k: cbor_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cbor_to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        return float(value.value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def _timestamp(value) -> dt.datetime:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def json_to_cbor(shape, value):
    """moto's JSON answer, typed by the model as the SDK's CBOR deserializer expects it."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for k, v in value.items():
            member = shape.members.get(k)
            if member is not None and v is not None:
                out[k] = json_to_cbor(member, v)
        return out
    if kind == "list":
        return [json_to_cbor(shape.member, v) for v in value]
    if kind == "map":
        return {str(k): json_to_cbor(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value


def percentiles_as_maximum(params: dict) -> dict:
    """moto computes no percentile statistics (it answers `p99` with nothing), so a `pNN` asked
    is forwarded as `Maximum`. The tests put one `Duration` datapoint per version and minute, whose
    value stands for that minute's p99: over a window, CloudWatch's p99 of all requests is then at
    most the maximum, which is what the rollout's latency gates are tested against. The binary's
    request itself (stat `p99`, one period spanning the window) is recorded in `asked`."""
    for q in params.get("MetricDataQueries") or []:
        stat = (q.get("MetricStat") or {}).get("Stat")
        if isinstance(stat, str) and stat.startswith("p") and stat[1:].replace(".", "").isdigit():
            q["MetricStat"]["Stat"] = "Maximum"
    return params


def error_shape_id(code: str) -> str:
    """The shape id of the error moto named (by shape name or by its query error code)."""
    code = code.split("#")[-1].split(":")[0]
    shapes = model().error_shapes
    for s in shapes:
        if s.name == code:
            return f"{SHAPE_NAMESPACE}#{s.name}"
    for s in shapes:
        if s.metadata.get("error", {}).get("code") == code:
            return f"{SHAPE_NAMESPACE}#{s.name}"
    return f"{SHAPE_NAMESPACE}#{code}"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # The binary exits with its keep-alive connections open: a reset then is not an error.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class CborProxy:
    def __init__(self, upstream: str, fail: dict[str, int] | None = None) -> None:
        up = urllib.parse.urlsplit(upstream)
        if up.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"upstream {upstream} is not a loopback address")
        self.upstream = (up.hostname, up.port)
        self.fail = dict(fail or {})
        self.seen: list[str] = []
        # Per GetMetricData: (metric, stat, period, ExecutedVersion) of each query, as the SDK sent it.
        self.asked: list[list[tuple]] = []
        self.lock = threading.Lock()
        model()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                proxy._handle(self)

            def do_GET(self):
                _send(self, 404, _error_body("UnknownOperationException", "the SDK only POSTs"), {})

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self, op: str) -> int:
        with self.lock:
            return self.seen.count(op)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        path = urllib.parse.urlsplit(h.path).path
        if not path.startswith(PATH_PREFIX) or h.headers.get("smithy-protocol") != "rpc-v2-cbor":
            _send(h, 400, _error_body("UnknownOperationException",
                                      f"not a Smithy RPC v2 CBOR request for CloudWatch: {h.command} {path}"), {})
            return
        op = path[len(PATH_PREFIX):]
        with self.lock:
            self.seen.append(op)
        try:
            op_model = model().operation_model(op)
        except Exception:
            _send(h, 400, _error_body("UnknownOperationException", f"no operation {op}"), {})
            return
        if op in self.fail:
            status = self.fail[op]
            _send(h, status, _error_body("InternalServiceFault", f"{op}: error injected by cbor_proxy"),
                  {"x-amzn-query-error": "InternalServiceError;Receiver"})
            return
        params = cbor_to_json(cbor2.loads(body)) if body else {}
        if op == "GetMetricData":
            with self.lock:
                self.asked.append([
                    (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"], q["MetricStat"]["Period"],
                     {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"].get("Dimensions", [])}.get("ExecutedVersion"))
                    for q in params.get("MetricDataQueries") or [] if "MetricStat" in q])
            params = percentiles_as_maximum(params)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in DROP}
        headers.update({"Content-Type": "application/x-amz-json-1.0",
                        "X-Amz-Target": f"{TARGET_PREFIX}.{op}"})
        try:
            status, resp_headers, data = self._forward(json.dumps(params).encode(), headers)
        except OSError as e:
            _send(h, 502, _error_body("InternalServiceFault", f"cbor_proxy could not reach moto: {e}"), {})
            return
        try:
            doc = json.loads(data) if data.strip() else {}
        except ValueError:  # not JSON (moto failing inside): an error whose message is the text
            status = status if status >= 400 else 500
            doc = {"__type": "InternalServiceFault", "message": data.decode(errors="replace")[:500]}
        if 200 <= status < 300:
            shape = op_model.output_shape
            out = json_to_cbor(shape, doc) if shape is not None else {}
            _send(h, status, cbor2.dumps(out, datetime_as_timestamp=True, timezone=dt.timezone.utc), {})
            return
        code = doc.get("__type") or resp_headers.get("x-amzn-errortype") or "InternalServiceFault"
        message = doc.get("message") or doc.get("Message") or ""
        extra = {}
        if "x-amzn-query-error" in resp_headers:
            extra["x-amzn-query-error"] = resp_headers["x-amzn-query-error"]
        _send(h, status, _error_body(error_shape_id(code), message, raw=True), extra)

    def _forward(self, body: bytes, headers: dict):
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers["Content-Length"] = str(len(body))
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "CborProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _error_body(code: str, message: str, raw: bool = False) -> bytes:
    return cbor2.dumps({"__type": code if raw else error_shape_id(code), "message": message})


def _send(h: BaseHTTPRequestHandler, status: int, data: bytes, extra: dict) -> None:
    h.send_response(status)
    h.send_header("Content-Type", "application/cbor")
    h.send_header("smithy-protocol", "rpc-v2-cbor")
    for k, v in extra.items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)
