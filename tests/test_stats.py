"""Counts: the lock-free counter every skipped request adds to."""

from __future__ import annotations

import sys
import threading

from pirsch_middleware.stats import Counts


def test_adds_from_many_threads_lose_no_count() -> None:
    # Threads switched as often as the interpreter can: a read-modify-write would lose counts.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _add_from_threads()
    finally:
        sys.setswitchinterval(interval)


def _add_from_threads() -> None:
    counts = Counts()
    start = threading.Barrier(8)

    def add() -> None:
        start.wait()
        for _ in range(20_000):
            counts.add("bot")
            counts.add("dnt")

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    # Read while they add: a read must not disturb the counts either.
    seen = [counts.snapshot().get("bot", 0) for _ in range(200)]
    for thread in threads:
        thread.join()
    assert counts.snapshot() == {"bot": 160_000, "dnt": 160_000}
    assert seen == sorted(seen)


def test_repeated_snapshots_read_the_same_counts() -> None:
    counts = Counts()
    counts.add("bot")
    counts.add("bot")
    assert counts.snapshot() == counts.snapshot() == {"bot": 2}
    counts.add("bot")
    assert counts.snapshot() == {"bot": 3}


def test_adds_of_several_at_once_sum_with_single_ones() -> None:
    counts = Counts()
    counts.add("queue_full", 5)
    counts.add("queue_full")
    counts.add("shutdown", 3)
    assert counts.snapshot() == {"queue_full": 6, "shutdown": 3}
    assert Counts().snapshot() == {}
