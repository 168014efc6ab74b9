"""A minimal Lambda Runtime API (the 2018-06-01 interface the Lambda service offers a custom
runtime), so the real binary can be run as a Lambda here: it hands out queued events on
`/invocation/next` and records what the function posts back to `/response` or `/error`."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn
        self.events: queue.Queue = queue.Queue()
        self.results: dict[str, dict] = {}
        self.init_error: dict | None = None
        self.next_calls = 0
        self.done = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    self.send_error(404)
                    return
                api.next_calls += 1
                # Long-poll as Lambda does; give up after a while so the server can shut down.
                try:
                    request_id, event = api.events.get(timeout=30)
                except queue.Empty:
                    self.send_error(504)
                    return
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", api.function_arn)
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts[:1] == ["init"]:
                    api.init_error = {"body": raw.decode(errors="replace")}
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    with api.done:
                        api.results[parts[1]] = {
                            "kind": parts[2],
                            "body": json.loads(raw) if raw else None,
                            "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                        }
                        api.done.notify_all()
                else:
                    self.send_error(404)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def invoke(self, request_id: str, event: dict) -> None:
        self.events.put((request_id, event))

    def wait_for(self, request_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        with self.done:
            while request_id not in self.results:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer for invocation {request_id} within {timeout}s")
                self.done.wait(left)
            return self.results[request_id]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
