"""Counters a user can read, and the log that reports drops once per interval."""

from __future__ import annotations

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
    """Thread-safe counts by reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


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
