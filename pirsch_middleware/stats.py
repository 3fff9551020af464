"""Counters a user can read, and the log that reports drops once per interval."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Counts", "RateLimitedLog", "Stats", "logger"]

logger = logging.getLogger("pirsch_middleware")


@dataclass(frozen=True)
class Stats:
    """A snapshot of a tracker's counters.

    ``queued``: records accepted into the queue; ``pending``: still waiting in it; ``sent``:
    accepted by the API; ``retried``: delivery attempts repeated; ``maybe_duplicated``: records
    sent again after a try that got no answer (a timeout), which the API may have stored twice
    (Pirsch has no idempotency key); ``dropped`` and ``skipped``: counts by reason (see the
    README for the reasons); ``address_warnings``: records sent with an address that is likely
    wrong, by kind (``untrusted_proxy``, ``internal_ip``). With several dashboards (the
    ``destinations`` setting) the delivery counters are sums over them (a record counts once per
    dashboard) and ``destinations`` maps each dashboard's name to its own; else it is empty.
    """

    queued: int = 0
    pending: int = 0
    sent: int = 0
    retried: int = 0
    maybe_duplicated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    address_warnings: dict[str, int] = field(default_factory=dict)
    destinations: dict[str, Stats] = field(default_factory=dict)


class Counts:
    """Thread-safe counts by reason.

    Adding one takes no lock (every skipped request adds one): each reason has an
    ``itertools.count``, whose ``next()`` is one C call that the GIL never splits, so no count is
    lost between threads. Reading one advances it too, so :meth:`snapshot` takes off its own reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}
        self._reads: dict[str, int] = {}
        self._more: dict[str, int] = {}  # what add() was given beyond one at a time

    def add(self, reason: str, n: int = 1) -> None:
        counter = self._counters.get(reason)
        if counter is None or n != 1:
            with self._lock:
                if n != 1:
                    self._more[reason] = self._more.get(reason, 0) + n
                    return
                counter = self._counters.setdefault(reason, itertools.count())
        next(counter)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for reason, counter in self._counters.items():
                reads = self._reads.get(reason, 0)
                self._reads[reason] = reads + 1
                counts[reason] = next(counter) - reads
            for reason, more in self._more.items():
                counts[reason] = counts.get(reason, 0) + more
            return counts


class RateLimitedLog:
    """Logs a message of each kind at most once per interval, with how often it was held back."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.WARNING, key, message, *args, exc_info=exc_info)

    def log(
        self, level: int, key: str, message: str, *args: object, exc_info: bool = False
    ) -> None:
        """Log at ``level`` unless a message of this ``key`` was logged within the interval."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._held[key] = self._held.get(key, 0) + 1
                return
            self._last[key] = now
            held = self._held.pop(key, 0)
        if held:
            message += " (%d more like this since the last report)"
            args = (*args, held)
        logger.log(level, message, *args, exc_info=exc_info)
