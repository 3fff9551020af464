"""Cost of the core on the request path, against baselines measured in the same run.

Run: python benchmarks/core.py [requests] [repeats]

Rows (medians of the repeats, microseconds per request):
- baseline: building the normalised request alone (what every adapter pays anyway);
- skipped by path: request_skip on an asset;
- skipped at response: request_skip, then a JSON response;
- tracked page view: request_skip + track_page_view with the sender queueing the hit against
  a local fake API;
- tracked page view, API down: the same while connections are refused (queue bound reached);
- tracked page view, new user agent each time: bot detection and its cache miss every time.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(__file__))
from _support import BROWSER as HEADERS
from _support import require

from pirsch_middleware import RequestData, Tracker
from pirsch_middleware.testing import FakePirschAPI


def make(path: str, user_agent: str | None = None) -> RequestData:
    headers = dict(HEADERS)
    if user_agent is not None:
        headers["user-agent"] = user_agent
    return RequestData("GET", "https", "example.com", path, "a=1", "203.0.113.7", headers)


def timed(fn: Callable[[int], object], n: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with FakePirschAPI() as api:
        # Room for every page view the loop tracks: a tight loop queues faster than the in-process
        # API takes batches, and records dropped at the bound would make the check below fail.
        tracker = Tracker(
            access_key="pa_" + "b" * 45,
            base_url=api.base_url,
            environ={},
            max_queue_size=max(50_000, 2 * n * repeats + 1_000),
        )

        def baseline(i: int) -> object:
            return make("/page")

        def skipped_path(i: int) -> object:
            return tracker.request_skip(make("/static/app.css"))

        def skipped_response(i: int) -> object:
            req = make("/api/items")
            if tracker.request_skip(req) is None:
                tracker.track_page_view(req, 200, "application/json", request_checked=True)
            return None

        def page_view(i: int) -> object:
            req = make("/page")
            if tracker.request_skip(req) is None:
                tracker.track_page_view(req, 200, "text/html; charset=utf-8", request_checked=True)
            return None

        def new_agent(i: int) -> object:
            agent = f"{HEADERS[1][1]} Build/{next(serial)}"
            req = make("/page", agent)
            if tracker.request_skip(req) is None:
                tracker.track_page_view(req, 200, "text/html; charset=utf-8", request_checked=True)
            return None

        serial = itertools.count()
        rows = [("baseline (build request)", timed(baseline, n, repeats))]
        rows.append(("skipped by path", timed(skipped_path, n, repeats)))
        rows.append(("skipped at response (JSON)", timed(skipped_response, n, repeats)))
        rows.append(("tracked page view", timed(page_view, n, repeats)))
        rows.append(("tracked, new user agent each", timed(new_agent, n, repeats)))
        require(tracker.flush(30), "the tracked page views were not delivered within 30 s")
        tracked = 2 * n * repeats  # the two "tracked" rows
        sent, received = tracker.stats().sent, len(api.received)
        require(sent == received == tracked, f"{tracked} tracked, {sent} sent, {received} received")
        with api.down():
            rows.append(("tracked page view, API down", timed(page_view, n, repeats)))
        tracker.close(1)
    base = rows[0][1]
    print(f"{'case':32} {'us/request':>10} {'added us':>9}")
    for name, us in rows:
        print(f"{name:32} {us:10.2f} {us - base:9.2f}")
    print(f"({n} requests x {repeats} repeats, medians; sent {tracker.stats().sent})")


if __name__ == "__main__":
    main()
