"""A stand-in for Lambda's asynchronous invocation queue, in front of moto: the binary's AWS calls
go through it (AWS_ENDPOINT_URL = the recorder), and an asynchronous Invoke
(`X-Amz-Invocation-Type: Event`) of the one function it stands for is not forwarded but recorded
and answered 202 Accepted, as Lambda answers when it has queued the event. Everything else goes to
moto through FaultProxy (its RevisionId bookkeeping included).

moto runs no code without Docker and keeps no record of what an asynchronous Invoke carried, so
this is how a test sees the fan-out's payloads. `refuse` names functions (the payload's "function")
whose invocation is answered 429 TooManyRequestsException instead of being queued; `hang` names
functions whose invocation is queued and then never answered (the answer hung: Lambda has the
event, the caller never hears so). Loopback only.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fault_proxy import FaultProxy, _answer_error, _read_body


class InvokeRecorder(FaultProxy):
    def __init__(self, upstream: str, function_arn: str, refuse: set[str] = frozenset(),
                 hang: set[str] = frozenset()) -> None:
        self.function_arn = function_arn
        self.refuse = set(refuse)
        self.hang = set(hang)
        self.queued: list[dict] = []
        self.refused: list[dict] = []
        self.queue_lock = threading.Lock()
        super().__init__(upstream)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(h.path).path)
        event = (h.headers.get("X-Amz-Invocation-Type") or "").lower() == "event"
        if not (event and h.command == "POST" and path == f"/2015-03-31/functions/{self.function_arn}/invocations"):
            super()._handle(h)
            return
        payload = json.loads(_read_body(h) or b"null")
        if isinstance(payload, dict) and payload.get("function") in self.refuse:
            with self.queue_lock:
                self.refused.append(payload)
            _answer_error(h, 429, "TooManyRequestsException", "Rate exceeded (refused by invoke_recorder)")
            return
        with self.queue_lock:
            self.queued.append(payload)
        if isinstance(payload, dict) and payload.get("function") in self.hang:
            h.close_connection = True
            self.stopping.wait()
            return
        h.send_response(202)
        h.send_header("Content-Length", "0")
        h.end_headers()
