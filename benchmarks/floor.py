"""What deciding page views on the request path costs at least, against the least possible tracker.

Run: python benchmarks/floor.py [rounds]

Issue 15 asks a tracked page view to add at most 1.5 times what the least possible tracker adds
(``peers.py``: copy the headers, note the status and content type, append a tuple). This measures
a *skeleton* tracker beside it in one run: only the bare bones of what a tracker that follows
Pirsch's JavaScript snippet must do before the response leaves, none of this package's code but
``find_title``:

- the route rules (method, an excluded prefix or path), then the response rules (2xx, HTML);
- the header verdict: one cache lookup keyed by the rule headers' raw values, read at C speed
  (``map(headers.get, names)``); the cache is warm, so nothing is ever judged;
- ``Accept-CH`` added to the response (the client-hints rule);
- the title, read from the first body chunk;
- one tuple appended to a deque.

No visitor IP, no proxy rules, no URL, no context for view helpers, no counters, no sender.
Variants leave out the verdict or the title, as if the sender thread did them; that would need
the raw headers and the first body chunk of every HTML response in the queue (about 2 KB of
headers, up to 8 KB of body: 500 MB for a full default queue of 50,000), which is why this
package does not. The figures are the requesting thread's CPU µs added over the bare app,
medians of the rounds, every case once per round in turn.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from hotpath_apps import PATHS, asgi_runner, flask_app, starlette_app, wsgi_runner
from peers import LeastASGI, LeastWSGI

from pirsch_middleware.title import find_title

# What the verdict reads: the prefetch, visitor, client-hint and navigation rules' headers.
_NAMES = (
    *("x-moz", "x-purpose", "purpose", "sec-purpose", "x-sec-purpose", "user-agent"),
    *("accept-language", "accept-encoding", "dnt", "sec-gpc", "sec-ch-ua", "sec-ch-ua-mobile"),
    *("sec-ch-ua-platform", "sec-ch-ua-platform-version", "sec-ch-width", "sec-fetch-mode"),
    *("sec-ch-viewport-width", "sec-fetch-dest", "sec-fetch-site", "upgrade-insecure-requests"),
    *("accept", "hx-boosted", "hx-history-restore-request", "x-turbo-request-id", "hx-request"),
    *("turbo-frame", "x-up-version", "x-up-target", "x-requested-with"),
)
RAW_NAMES = tuple(name.encode("latin-1") for name in _NAMES)
ENVIRON_KEYS = tuple("HTTP_" + name.upper().replace("-", "_") for name in _NAMES)
EXCLUDED_PREFIXES = ("/static/", "/.well-known/")
EXCLUDED = frozenset({"/favicon.ico", "/robots.txt"})
ACCEPT_CH = "Sec-CH-UA, Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version"
RAW_ACCEPT_CH = (b"accept-ch", ACCEPT_CH.encode("latin-1"))
Seen = deque[tuple[Any, ...]]


class SkeletonASGI:
    def __init__(self, app: Any, seen: Seen, verdict: bool = True, title: bool = True) -> None:
        self.app, self.seen, self.verdict, self.title = app, seen, verdict, title
        self.verdicts: dict[tuple[Any, ...], bool] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "/")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or path in EXCLUDED
            or path.startswith(EXCLUDED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        raw = dict(scope["headers"])
        state: list[Any] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                kind = b""
                for name, value in headers:
                    if name == b"content-type":
                        kind = value
                if 200 <= message["status"] < 300 and kind.startswith(b"text/html"):
                    page = True
                    if self.verdict:
                        key = tuple(map(raw.get, RAW_NAMES))
                        page = self.verdicts.setdefault(key, True)
                    if page:
                        state.append(raw)
                        message["headers"] = [*headers, RAW_ACCEPT_CH]
            elif len(state) == 1:
                body = message.get("body", b"")
                state.append(find_title(body) if self.title else body[:8192])
            await send(message)

        await self.app(scope, receive, watch)
        if state:
            client = scope.get("client")
            self.seen.append((arrived, client and client[0], path, *state))


class SkeletonWSGI:
    def __init__(self, app: Any, seen: Seen, verdict: bool = True, title: bool = True) -> None:
        self.app, self.seen, self.verdict, self.title = app, seen, verdict, title
        self.verdicts: dict[tuple[Any, ...], bool] = {}

    def __call__(self, environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "/")
        if (
            environ["REQUEST_METHOD"] != "GET"
            or path in EXCLUDED
            or path.startswith(EXCLUDED_PREFIXES)
        ):
            return self.app(environ, start_response)
        arrived = time.time()
        page: list[bool] = []

        def watch(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kind = ""
            for name, value in headers:
                if name.lower() == "content-type":
                    kind = value
            if status.startswith("2") and kind.startswith("text/html"):
                ok = True
                if self.verdict:
                    key = tuple(map(environ.get, ENVIRON_KEYS))
                    ok = self.verdicts.setdefault(key, True)
                if ok:
                    page.append(ok)
                    headers = [*headers, ("Accept-CH", ACCEPT_CH)]
            return start_response(status, headers, exc_info)

        result = self.app(environ, watch)
        if page:
            first = result[0] if isinstance(result, list) and result else b""
            title = find_title(first) if self.title else first[:8192]
            self.seen.append(
                (arrived, environ.get("REMOTE_ADDR"), path, environ.get("HTTP_USER_AGENT"), title)
            )
        return result


def measure(
    runs: dict[str, Callable[[int], tuple[float, float]]], rounds: int, seen: dict[str, Seen]
) -> None:
    for run in runs.values():
        run(300)
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            cpu[name].append(run(1000)[1])
    for name, noted in seen.items():  # each tracker really saw the page views it was timed on
        if not noted:
            sys.exit(f"FAILED: {name} noted no page view")
    bare = statistics.median(cpu["bare app"])
    least = statistics.median(cpu["least possible tracker"]) - bare
    for name, values in cpu.items():
        added = statistics.median(values) - bare
        print(f"| {name} | {added:+.2f} | {added / least:.2f} |")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    variants = {
        "skeleton": (True, True),
        "skeleton, verdict later": (False, True),
        "skeleton, title later": (True, False),
        "skeleton, both later": (False, False),
    }
    seen: dict[str, Seen] = {}

    def kept(name: str) -> Seen:
        seen[name] = deque(maxlen=1000)
        return seen[name]

    print("| ASGI (Starlette) | CPU µs added | ÷ least tracker |\n|---|---|---|")
    loop = asyncio.new_event_loop()
    asgi: dict[str, Any] = {
        "bare app": starlette_app(),
        "least possible tracker": LeastASGI(starlette_app(), kept("least possible tracker")),
    }
    for name, (verdict, title) in variants.items():
        asgi[name] = SkeletonASGI(starlette_app(), kept(name), verdict, title)
    runs = {name: asgi_runner(app, PATHS["page"], loop) for name, app in asgi.items()}
    measure(runs, rounds, seen)
    loop.close()
    print("\n| WSGI (Flask) | CPU µs added | ÷ least tracker |\n|---|---|---|")
    seen.clear()
    flask = flask_app().wsgi_app
    wsgi: dict[str, Any] = {
        "bare app": flask,
        "least possible tracker": LeastWSGI(flask, kept("least possible tracker")),
    }
    for name, (verdict, title) in variants.items():
        wsgi[name] = SkeletonWSGI(flask, kept(name), verdict, title)
    measure({name: wsgi_runner(app, PATHS["page"]) for name, app in wsgi.items()}, rounds, seen)
    print(f"\n({rounds} rounds of 1,000 requests per case; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
