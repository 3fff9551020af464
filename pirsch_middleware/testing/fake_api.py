"""A local HTTP server that speaks the Pirsch API: ingestion, tokens and statistics.

It runs on 127.0.0.1, answers as the API document says (status codes, error bodies, the token
flow, the statistics endpoints' example answers), records what it accepted, and can be told to
fail: scripted answers, slow answers, refused connections, expired tokens and rejected records.
"""

from __future__ import annotations

import copy
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

from .examples import EXAMPLES

__all__ = ["FakePirschAPI", "Received", "Reply"]

MISSING_FIELDS = (
    "Missing required request parameters. The URL, IP address, and User-Agent must be set."
)
_KINDS = frozenset({"hit", "event", "session"})


@dataclass(frozen=True)
class Reply:
    """A scripted answer: status, JSON body, extra headers, and a delay before answering."""

    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One record the fake API accepted."""

    kind: str  # "hit", "event" or "session"
    body: dict[str, Any]
    batch: bool  # sent to a /batch endpoint
    token: str


class FakePirschAPI:
    """The Pirsch API on 127.0.0.1, for tests. Use it as a context manager.

    ``access_keys`` and ``clients`` (id to secret) are the credentials it accepts; with neither,
    any bearer token and any OAuth client are accepted. ``token_lifetime`` is how long issued
    OAuth tokens live. ``host`` (an IPv4 address) and ``port`` are where it listens (a free port on
    127.0.0.1 by default).
    """

    def __init__(
        self,
        *,
        access_keys: tuple[str, ...] = (),
        clients: dict[str, str] | None = None,
        token_lifetime: float = 3600.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.access_keys = set(access_keys)
        self.clients = dict(clients or {})
        self.token_lifetime = token_lifetime
        self.received: list[Received] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        #: The statistics requests: (path, query parameters in order).
        self.stats_requests: list[tuple[str, list[tuple[str, str]]]] = []
        #: What each statistics path answers (the document's examples; change to taste).
        self.examples: dict[str, Any] = copy.deepcopy(EXAMPLES)
        self.tokens_issued = 0
        #: What ``GET /pa.js`` answers: a stand-in for Pirsch's snippet (change it to see a
        #: refresh), with ``script_status``; ``script_requests`` counts the requests.
        self.script: bytes = files(__package__).joinpath("standin_pa.js").read_bytes()
        self.script_status = 200
        self.script_requests = 0
        self.delay = 0.0
        self.reject: Callable[[str, dict[str, Any]], str | None] | None = None
        #: Called (in the server's thread) with each record the fake API accepts.
        self.on_receive: Callable[[Received], None] | None = None
        self._replies: list[Reply] = []
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.host = host
        self.port = port

    # Life cycle

    def __enter__(self) -> FakePirschAPI:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen (again, on the same port after :meth:`stop`)."""
        server = ThreadingHTTPServer((self.host, self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut open connections: clients now get refused connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @contextmanager
    def down(self) -> Iterator[None]:
        """Refuse connections inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    # Failure injection and inspection

    def fail_next(self, *replies: Reply) -> None:
        """Answer the next ingestion requests with these replies, in order."""
        with self._lock:
            self._replies.extend(replies)

    def expire_tokens(self) -> None:
        """Make every issued OAuth token invalid: the next request with one gets a 401."""
        with self._lock:
            self._tokens.clear()

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The bodies accepted of one kind, in the order they arrived."""
        with self._lock:
            return [r.body for r in self.received if r.kind == kind]

    @property
    def hits(self) -> list[dict[str, Any]]:
        return self.of_kind("hit")

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.of_kind("event")

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return self.of_kind("session")

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` records were accepted; returns them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise TimeoutError(f"{len(self.received)} of {count} records arrived in {timeout} s")

    # Request handling

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with api._lock:
                    api._connections.add(self.connection)

            def finish(self) -> None:
                with api._lock:
                    api._connections.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, headers = api._answer(self.path, self.headers, raw)
                self._reply(status, body, headers)

            def do_GET(self) -> None:
                if self.path.partition("?")[0] == "/pa.js":
                    with api._lock:
                        api.script_requests += 1
                    script_type = {"Content-Type": "text/javascript; charset=utf-8"}
                    self._reply(api.script_status, api.script, script_type)
                    return
                status, body, headers = api._statistics(self.path, self.headers)
                self._reply(status, body, headers)

            def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
                if isinstance(body, bytes):
                    data = body
                else:
                    data = b"" if body is None else json.dumps(body).encode()
                with api._lock:
                    api.requests.append((self.command, self.path, status))
                try:
                    self.send_response(status)
                    if "Content-Type" not in headers:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

        return Handler

    def _answer(self, path: str, headers: Any, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if path == "/api/v1/token":
            return self._token(raw)
        parts = path.strip("/").split("/")
        if len(parts) not in (3, 4) or parts[:2] != ["api", "v1"] or parts[2] not in _KINDS:
            return 404, {"validation": {}, "error": ["not found"]}, {}
        if len(parts) == 4 and parts[3] != "batch":
            return 404, {"validation": {}, "error": ["not found"]}, {}
        early, token = self._gate(headers)
        if early is not None:
            return early
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"validation": {}, "error": ["invalid JSON"]}, {}
        batch = len(parts) == 4
        items = body if batch else [body]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return 400, {"validation": {}, "error": ["expected an array of objects"]}, {}
        kind = parts[2]
        for item in items:
            problem = self._problem(kind, item, batch)
            if problem is not None:
                return 400, problem, {}
        accepted = [Received(kind, item, batch, token) for item in items]
        with self._lock:
            self.received.extend(accepted)
        if self.on_receive is not None:
            for record in accepted:
                self.on_receive(record)
        return 200, None, {}

    def _problem(self, kind: str, item: dict[str, Any], batch: bool) -> dict[str, Any] | None:
        required = ("ip", "user_agent") if kind == "session" else ("url", "ip", "user_agent")
        if not all(isinstance(item.get(name), str) and item[name] for name in required):
            return {"validation": {}, "error": [MISSING_FIELDS]}
        if kind == "event" and not item.get("event_name"):
            return {"validation": {"event_name": "required"}, "error": []}
        if batch:
            try:
                datetime.fromisoformat(str(item.get("time")).replace("Z", "+00:00"))
            except ValueError:
                return {"validation": {"time": "invalid or missing time"}, "error": []}
        if self.reject is not None:
            message = self.reject(kind, item)
            if message is not None:
                return {"validation": {}, "error": [message]}
        return None

    def _statistics(self, target: str, headers: Any) -> tuple[int, Any, dict[str, str]]:
        path, _, query = target.partition("?")
        if path not in self.examples:
            return 404, {"validation": {}, "error": ["not found"]}, {}
        params = parse_qsl(query, keep_blank_values=True)
        with self._lock:
            self.stats_requests.append((path, params))
        early, token = self._gate(headers)
        if early is not None:
            return early
        if token in self.access_keys:
            return 403, {"validation": {}, "error": ["access keys cannot read statistics"]}, {}
        names = {name for name, _ in params}
        needed: tuple[str, ...] = () if path == "/api/v1/domain" else ("id",)
        if path.startswith("/api/v1/statistics/") and not path.endswith("/overview"):
            needed = ("id", "from", "to")
        missing = {name: "required" for name in needed if name not in names}
        if missing:
            return 400, {"validation": missing, "error": []}, {}
        # Encoded here, so an example of None is the JSON null the API may answer.
        return 200, json.dumps(self.examples[path]).encode(), {}

    def _gate(self, headers: Any) -> tuple[tuple[int, Any, dict[str, str]] | None, str]:
        """A scripted reply (after its delay) or a 401, else ``None`` and the caller's token."""
        with self._lock:
            reply = self._replies.pop(0) if self._replies else None
        time.sleep(reply.delay if reply else self.delay)
        if reply is not None:
            return (reply.status, reply.body, reply.headers), ""
        token = self._check_auth(headers.get("Authorization", ""))
        if token is None:
            return (401, {"validation": {}, "error": ["unauthorized"]}, {}), ""
        return None, token

    def _check_auth(self, header: str) -> str | None:
        if not header.startswith("Bearer "):
            return None
        token = header[len("Bearer ") :]
        if not self.access_keys and not self.clients:
            return token
        if token in self.access_keys:
            return token
        with self._lock:
            expires = self._tokens.get(token)
        return token if expires is not None and expires > time.time() else None

    def _token(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            body = json.loads(raw)
            client_id, client_secret = body["client_id"], body["client_secret"]
        except (ValueError, KeyError, TypeError):
            return 400, {"validation": {"client_id": "required"}, "error": []}, {}
        open_to_all = not self.access_keys and not self.clients
        if not open_to_all and self.clients.get(client_id) != client_secret:
            return 401, {"validation": {}, "error": ["invalid client credentials"]}, {}
        token = secrets.token_urlsafe(24)
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.token_lifetime)
        with self._lock:
            self._tokens[token] = expires.timestamp()
            self.tokens_issued += 1
        return (
            200,
            {"access_token": token, "expires_at": expires.isoformat().replace("+00:00", "Z")},
            {},
        )
