"""Peak RSS growth while page views are tracked with the Pirsch API down, at the default queue
bound. Every request gets freshly decoded header strings, as under a real server.

Run: python benchmarks/memory.py [page views]
"""

from __future__ import annotations

import os
import resource
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _support import BROWSER, require

from pirsch_middleware import RequestData, Tracker
from pirsch_middleware.testing import FakePirschAPI

# A browser's headers (the Host goes into the request itself).
HEADERS = {k: v for k, v in BROWSER if k != "host"}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with FakePirschAPI() as api:
        tracker = Tracker(access_key="pa_" + "m" * 45, base_url=api.base_url, environ={})
        bound = tracker.settings.max_queue_size
        with api.down():
            tracker.track_page_view(
                RequestData("GET", "https", "example.com", "/", "", None, HEADERS)
            )
            start = peak_mb()
            at_bound = at_half = start
            for i in range(n):
                # New string objects with equal text, as a server decodes them per request.
                headers = {k: (v + " ")[:-1] for k, v in HEADERS.items()}
                request = RequestData(
                    "GET", "https", "example.com", f"/p/{i}", "a=1", "203.0.113.7", headers
                )
                tracker.track_page_view(request)
                if i == 2 * bound:
                    at_bound = peak_mb()
                if i == n // 2:
                    at_half = peak_mb()
            end = peak_mb()
        stats = tracker.stats()
        tracker.close(0.5)
    print(f"{n} page views, API down, max_queue_size {bound}")
    if n > 2 * bound:
        print(f"peak RSS growth after {2 * bound} views: {at_bound - start:6.1f} MB")
    if n // 2 > 2 * bound:
        print(f"peak RSS growth after {n // 2} views: {at_half - start:6.1f} MB")
    print(f"peak RSS growth after {n} views: {end - start:6.1f} MB")
    print(f"pending {stats.pending}, dropped {stats.dropped}")
    # Every view was queued or dropped for a full queue, and the queue kept its bound.
    require(stats.pending <= bound, f"{stats.pending} pending over the bound of {bound}")
    require(set(stats.dropped) <= {"queue_full"}, f"dropped: {stats.dropped}")
    tracked = stats.queued + stats.dropped.get("queue_full", 0)
    # The warm-up view before the loop has no peer address: skipped as no_ip.
    require(stats.skipped == {"no_ip": 1}, f"skipped: {stats.skipped}")
    require(tracked == n, f"{n} page views, {tracked} queued or dropped")


if __name__ == "__main__":
    main()
