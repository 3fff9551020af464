"""Cost of the ASGI and WSGI middleware per request, against the bare app in the same run.

Run: python benchmarks/adapters.py [requests] [repeats]

The app answers a 2 KB HTML page (or JSON); the server is left out: the request is the same
pre-built ASGI scope or WSGI environ every time, so the rows show what the middleware adds. The
tracker queues against a local fake API. Rows are medians of the repeats, microseconds per
request; "added" is over the bare app of the same protocol.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pirsch_middleware import Tracker
from pirsch_middleware.asgi import PirschMiddleware as ASGIMiddleware
from pirsch_middleware.wsgi import PirschMiddleware as WSGIMiddleware

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from core import HEADERS

PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>Pricing &amp; plans</title>"
    + b"<link rel=stylesheet href=/s.css></head><body>"
    + b"<p>lorem ipsum</p>" * 110
    + b"</body></html>"
)
HTML = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"2048")]
JSON = [(b"content-type", b"application/json")]


def asgi_app(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE})

    return app


def wsgi_app(content_type: str) -> Any:
    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", content_type)])
        return iter([PAGE])  # a plain iterator: the middleware must wrap it to read the title

    return app


def asgi_timed(app: Any, path: str, n: int, repeats: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(k.encode(), v.encode()) for k, v in HEADERS],
        "client": ("203.0.113.7", 50000),
        "server": ("10.0.0.1", 443),
    }

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        pass

    async def run() -> list[float]:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(n):
                await app(dict(scope), receive, send)
            runs.append((time.perf_counter() - start) / n * 1e6)
        return runs

    return statistics.median(asyncio.run(run()))


def wsgi_timed(app: Any, path: str, n: int, repeats: int) -> float:
    environ = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "a=1",
        "REMOTE_ADDR": "203.0.113.7",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in HEADERS},
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        return lambda data: None

    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            result = app(dict(environ), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


@contextmanager
def fake_api_process() -> Iterator[str]:
    """The fake Pirsch API in its own process, so its JSON parsing does not share our GIL."""
    code = (
        "import sys, time\n"
        "from pirsch_middleware.testing import FakePirschAPI\n"
        "api = FakePirschAPI(); api.start(); print(api.base_url, flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        child.communicate("")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rows: list[tuple[str, float, float]] = []
    with fake_api_process() as base_url:
        options: dict[str, Any] = {
            "access_key": "pa_" + "b" * 45,
            "base_url": base_url,
            "environ": {},
            "max_queue_size": 10_000_000,
        }
        tracker = Tracker(**options)
        untitled = Tracker(**options, read_title=False)
        for name, wrap, timed, html, json in (
            ("ASGI", ASGIMiddleware, asgi_timed, asgi_app(HTML), asgi_app(JSON)),
            ("WSGI", WSGIMiddleware, wsgi_timed, wsgi_app("text/html"), wsgi_app("text/json")),
        ):
            bare = timed(html, "/pricing", n, repeats)
            rows.append((f"{name} bare app", bare, bare))
            cases = [
                ("page view, title read", wrap(html, tracker=tracker), "/pricing"),
                ("page view, read_title=False", wrap(html, tracker=untitled), "/pricing"),
                ("JSON response (skipped)", wrap(json, tracker=tracker), "/api/items"),
                ("asset path (skipped)", wrap(html, tracker=tracker), "/static/app.css"),
            ]
            for label, app, path in cases:
                rows.append((f"{name} {label}", timed(app, path, n, repeats), bare))
                # The next row starts with an empty queue, not this row's backlog.
                tracker.flush(60)
                untitled.flush(60)
        sent = tracker.stats().sent + untitled.stats().sent
        tracker.close(5)
        untitled.close(5)
    print(f"{'case':40} {'us/request':>10} {'added us':>9}")
    for label, us, base in rows:
        print(f"{label:40} {us:10.2f} {us - base:9.2f}")
    print(f"({n} requests x {repeats} repeats, medians; {sent} hits delivered)")


if __name__ == "__main__":
    main()
