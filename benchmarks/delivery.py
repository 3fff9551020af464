"""Delivery throughput: hits per second delivered end to end to a local fake Pirsch API, with
the default batching, against one POST per hit (the official SDKs' design), in the same run.
One page view is delivered first, so the burst's figures hold no start-up: the sender thread's
first batch imports httpcore and builds a TLS context, once per process (shown apart).

Then a busy app: a thread that never idles, each of its requests some 6 µs of Python, tracks
the same hits again, once with every request a page view (batches fill in milliseconds) and
once with one request in 250 a page view (a few hundred a second: each batch fills for up to a
second, see ``Sender._gather``). There the sender shares the GIL with a thread that always
wants it: each time it lets go (a GIL offer, a socket call, a wait for its queue) it waits for
the interpreter's switch interval to get it back, and blocks; a batch also finds the caches
cold after the app's work. Each line shows the sender's CPU per hit and how often it blocked
per 500 hits, and how long the app's tracked requests took (median, p99, longest): what the
sender's turns with the GIL cost them.

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
        blocked = clock.blocked_per(500)

        busy = [busy_app(tracker, requests, 1), busy_app(tracker, requests[:3000], 250)]
        tracker.close(5)
        before_single = api.received()
        batched_received = before_single - clock.sent - sum(run.sent for run in busy)

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
        + _blocked(blocked)
    )
    for run in busy:
        print(f"\nThe app's thread busy, {run.label}: " + run.summary())
    require(delivered, f"the burst was not delivered within 300 s (sent {sent:,})")
    for run in busy:
        require(run.delivered, f"the busy app's hits were not delivered ({run.label})")
    require(not tracker.stats().dropped, f"records were dropped: {tracker.stats().dropped}")
    for run in busy:
        require(run.sent == len(run.took), f"{run.label}: {run.sent:,} counted as sent")
    require(
        sent == batched_received == burst,
        f"{burst:,} tracked, {sent:,} counted as sent, {batched_received:,} received",
    )
    require(single_received == singles, f"{singles:,} posted, {single_received:,} received")


class BusyRun:
    """What a busy app's run measured: the sender's CPU per hit and how often it blocked, and
    the seconds each tracked request took."""

    def __init__(self, label: str, clock: SenderClock, took: list[float], delivered: bool):
        self.label, self.took, self.delivered = label, sorted(took), delivered
        self.sender_us = clock.per_hit()
        self.blocked = clock.blocked_per(500)
        self.sent = clock.tracker.stats().sent - clock.sent

    def summary(self) -> str:
        took = self.took
        quantiles = " / ".join(
            f"{took[min(len(took) - 1, int(len(took) * q))] * 1e6:.0f}" for q in (0.5, 0.99, 1.0)
        )
        return (
            "the sender thread's CPU per hit delivered: "
            + (f"{self.sender_us:.2f} µs" if self.sender_us is not None else "n/a")
            + _blocked(self.blocked)
            + f"; the tracked requests took {quantiles} µs (median / p99 / longest; "
            f"sent {self.sent:,})"
        )


def busy_app(tracker: Tracker, requests: list[RequestData], every: int) -> BusyRun:
    """Track ``requests`` from a thread that never idles: each of its requests runs some 6 µs
    of Python (the app's own work), and one in ``every`` is a tracked page view."""
    clock = SenderClock(tracker)
    took = []
    now = time.perf_counter
    for request in requests:
        for _ in range(every - 1):
            sum(i * i for i in range(200))  # an untracked request
        start = now()
        sum(i * i for i in range(200))
        tracker.track_page_view(request)
        took.append(now() - start)
    label = "every request a page view" if every == 1 else f"one request in {every} a page view"
    return BusyRun(f"{label} ({len(requests):,} hits)", clock, took, tracker.flush(300))


def _blocked(per_500: float | None) -> str:
    if per_500 is None:
        return ""
    return f"; it blocked {per_500:.0f} times per 500 hits"


if __name__ == "__main__":
    main()
