"""A fake GitHub REST API on 127.0.0.1 for end-to-end runs: real HTTP, every request recorded,
answers shaped like GitHub's (deployments, their statuses, a GitHub App's installation token), and
a mode for each way GitHub fails: 401, 403 rate limit, 500, and a hang. The App's JWT is checked
with the App's public key (RS256) before a token is handed out."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

INSTALLATION_TOKEN = "ghs_e2eInstallationToken0123456789"


def app_key() -> tuple[str, rsa.RSAPublicKey]:
    """A GitHub App's private key as GitHub hands it out (PKCS#1 PEM), and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@dataclass
class Seen:
    method: str
    path: str
    authorization: str
    body: dict | None


@dataclass
class FakeGitHub:
    mode: str = "normal"  # normal | 401 | 403 | 500 | hang
    # The next this many deployment creates answer 500 (GitHub failing briefly), then it works.
    fail_creates: int = 0
    app_public_key: rsa.RSAPublicKey | None = None
    app_id: str | None = None
    seen: list[Seen] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)
    jwt_checks: list[str] = field(default_factory=list)
    # Called as each status arrives, its answer kept with the status under "observed": what the
    # world looked like at that moment (a test passes a look at the function's code).
    on_status: Callable[[], object] | None = None

    def __post_init__(self) -> None:
        fake = self
        self.lock = threading.Lock()
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def statuses(self, deployment: dict) -> list[tuple[str, str]]:
        return [(s["state"], s["description"]) for s in deployment["statuses"]]

    # --- the API ---------------------------------------------------------------------------------
    def _reply(self, h: BaseHTTPRequestHandler, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        url = urlsplit(h.path)
        with self.lock:
            self.seen.append(Seen(method, h.path, h.headers.get("Authorization", ""), body))
            mode = self.mode
            if method == "POST" and url.path.endswith("/deployments") and self.fail_creates > 0:
                self.fail_creates -= 1
                mode = "500"
        if mode == "hang":
            self.release.wait(60)
            return
        if mode == "401":
            return self._reply(h, 401, {"message": "Bad credentials"})
        if mode == "403":
            return self._reply(h, 403, {"message": "API rate limit exceeded"},
                               {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000000"})
        if mode == "500":
            return self._reply(h, 500, {"message": "Server Error"})
        parts = url.path.strip("/").split("/")
        if method == "POST" and parts[:2] == ["app", "installations"] and parts[-1] == "access_tokens":
            return self._token(h)
        if h.headers.get("Accept") != "application/vnd.github+json":
            return self._reply(h, 415, {"message": "Unsupported Media Type"})
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "deployments":
            if method == "POST":
                return self._create(h, body or {})
            env = parse_qs(url.query).get("environment", [""])[0]
            with self.lock:
                listed = [d for d in reversed(self.deployments) if d["environment"] == env]
            return self._reply(h, 200, listed)
        if len(parts) == 6 and parts[0] == "repos" and parts[5] == "statuses" and method == "GET":
            with self.lock:
                d = next((d for d in self.deployments if str(d["id"]) == parts[4]), None)
                listed = None if d is None else [
                    {"state": s["state"], "description": s["description"]} for s in reversed(d["statuses"])]
            if listed is None:
                return self._reply(h, 404, {"message": "Not Found"})
            return self._reply(h, 200, listed)  # newest first, as GitHub lists them
        if len(parts) == 6 and parts[0] == "repos" and parts[5] == "statuses" and method == "POST":
            # Outside the lock: the look may take a round trip to the emulator.
            observed = self.on_status() if self.on_status else None
            with self.lock:
                d = next((d for d in self.deployments if str(d["id"]) == parts[4]), None)
                if d is None:
                    return self._reply(h, 404, {"message": "Not Found"})
                d["statuses"].append(dict(body, observed=observed))
            return self._reply(h, 201, {"id": len(d["statuses"]), "state": body["state"]})
        return self._reply(h, 404, {"message": "Not Found"})

    def _create(self, h, body: dict) -> None:
        for required in ("ref", "environment", "payload"):
            if required not in body:
                return self._reply(h, 422, {"message": f"missing {required}"})
        with self.lock:
            d = {"id": len(self.deployments) + 1, "sha": body["ref"], "ref": body["ref"],
                 "environment": body["environment"], "payload": body["payload"],
                 "description": body.get("description"), "auto_merge": body.get("auto_merge"),
                 "required_contexts": body.get("required_contexts"), "statuses": []}
            self.deployments.append(d)
        return self._reply(h, 201, {k: v for k, v in d.items() if k != "statuses"})

    def _token(self, h) -> None:
        """Checks the App's JWT (RS256 with the App's key, iss = app id, not expired)."""
        jwt = h.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            header_b64, claims_b64, sig_b64 = jwt.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            assert header["alg"] == "RS256", "alg"
            self.app_public_key.verify(_b64url_decode(sig_b64), f"{header_b64}.{claims_b64}".encode(),
                                       padding.PKCS1v15(), hashes.SHA256())
            now = time.time()
            assert str(claims["iss"]) == self.app_id, "iss"
            assert claims["iat"] <= now + 5 and claims["exp"] > now, "times"
            assert claims["exp"] - claims["iat"] <= 600, "at most ten minutes"
        except Exception as e:  # noqa: BLE001 - any defect is GitHub's 401
            self.jwt_checks.append(f"refused: {e!r}")
            return self._reply(h, 401, {"message": "A JSON web token could not be decoded"})
        self.jwt_checks.append("verified")
        return self._reply(h, 201, {"token": INSTALLATION_TOKEN, "expires_at": "2099-01-01T00:00:00Z"})
