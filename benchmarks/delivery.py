"""Delivery throughput: hits per second delivered end to end to a local fake Pirsch API, with
the default batching, against one POST per hit (the official SDKs' design), in the same run.
One page view is delivered first, so the burst's figures hold no start-up: the sender thread's
first batch imports httpcore and builds a TLS context, once per process (shown apart).

Run: python benchmarks/delivery.py [burst] [single posts]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _support import ACCESS_KEY, BROWSER, SenderClock, fake_api, require, table

from pirsch_middleware import PirschClient, RequestData, Tracker


def main() -> None:
    burst = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    singles = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    headers = dict(BROWSER)
    requests = [
        RequestData("GET", "https", "example.com", f"/p/{i}", "", "203.0.113.7", headers)
        for i in range(burst)
    ]
    with fake_api() as api:
        url = api.url
        tracker = Tracker(access_key=ACCESS_KEY, base_url=url, environ={})
        tracker.track_page_view(requests[0])
        require(tracker.flush(60), "the first page view was not delivered")
        clock = SenderClock(tracker)
        startup_ms = clock.cpu * 1e3  # the sender thread's CPU so far: one hit and its start
        start = time.perf_counter()
        for request in requests:
            tracker.track_page_view(request)
        queued_in = time.perf_counter() - start
        delivered = tracker.flush(300)
        batched = time.perf_counter() - start
        stats = tracker.stats()
        sender_us = clock.per_hit()
        sent = stats.sent - clock.sent
        tracker.close(5)
        before_single = api.received()
        batched_received = before_single - clock.sent

        hit = tracker._extractor.hit(requests[0], time.time())
        assert not isinstance(hit, str)
        with PirschClient(access_key=ACCESS_KEY, base_url=url) as client:
            start = time.perf_counter()
            for _ in range(singles):
                client.hit(hit)
            single = time.perf_counter() - start
        single_received = api.received() - before_single
    rate, single_rate = sent / batched, singles / single
    rows = [
        [
            f"pirsch_middleware (batch_size {tracker.settings.batch_size})",
            f"{burst:,}",
            f"{batched:.2f}",
            f"{rate:,.0f}",
            f"{sum(stats.dropped.values()):,}",
        ],
        ["one POST per hit", f"{singles:,}", f"{single:.2f}", f"{single_rate:,.0f}", "0"],
    ]
    print(table(["design", "hits", "seconds", "hits/s", "dropped"], rows))
    print(
        f"\nbatched/single: {rate / single_rate:.1f}x; the burst was queued in {queued_in:.2f} s "
        f"({'all delivered' if delivered else 'NOT all delivered'}, sent {sent:,}); "
        f"received by the API: {batched_received:,} of {burst:,} batched, "
        f"{single_received:,} of {singles:,} single; "
        f"the sender thread's CPU per hit delivered: "
        + (f"{sender_us:.2f} µs" if sender_us is not None else "n/a")
        + f" (its start-up before the burst: {startup_ms:.0f} ms of CPU, once per process)"
    )
    require(delivered, f"the burst was not delivered within 300 s (sent {sent:,})")
    require(not stats.dropped, f"records were dropped: {stats.dropped}")
    require(
        sent == batched_received == burst,
        f"{burst:,} tracked, {sent:,} counted as sent, {batched_received:,} received",
    )
    require(single_received == singles, f"{singles:,} posted, {single_received:,} received")


if __name__ == "__main__":
    main()
