"""Delivering one batch: retries with back-off, the close() deadline, rejected records found by
halves, and the counters and drop report of what was sent, retried and lost.

The :class:`~pirsch_middleware.sender.Sender` decides what goes in a batch and when; this module
decides what happens to a batch once it is handed over.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from .client import PirschClient, encode
from .errors import PirschError
from .records import Ready
from .settings import Settings
from .stats import Counts, RateLimitedLog, logger

__all__ = ["REPORT_INTERVAL", "Delivery", "by_kind"]

# How often, at most, the log repeats that records were dropped or rejected.
REPORT_INTERVAL = 30.0
# A Retry-After longer than this is taken as this: an answer must not park the queue for hours.
MAX_RETRY_AFTER = 600.0
# During close(), a failed batch is tried again at least this often, and no try starts later
# than this before the deadline (so the worker has ended, and counted, when close() returns).
_SHUTDOWN_RETRY = 0.25
_GRACE = 0.1
# Drops of records that never entered the queue: flush() did not wait for those.
_NOT_QUEUED = frozenset({"queue_full", "closed"})


class Delivery:
    """Sends batches of one kind for a sender, and counts what became of them.

    ``client_factory`` of ``None`` means no credentials: records are logged, not sent. Once
    :meth:`close_by` set a deadline, a failed batch is tried again (whatever ``max_retries``
    says) until shortly before it; ``interrupt`` cuts a back-off short when that happens.
    """

    def __init__(
        self,
        settings: Settings,
        client_factory: Callable[[], PirschClient] | None,
        interrupt: threading.Event,
        name: str | None = None,
    ) -> None:
        #: How this sender's log lines begin: they name the dashboard where there are several.
        self.says = "pirsch_middleware: " if name is None else f"pirsch_middleware ({name}): "
        self._settings = settings
        self._factory = client_factory
        self._interrupt = interrupt
        self._log = RateLimitedLog(REPORT_INTERVAL)
        self.client: PirschClient | None = None
        #: When close() must have ended (``time.monotonic()``); ``None`` while not closing.
        self.deadline: float | None = None
        self.sent = 0
        self.retried = 0
        self.maybe_duplicated = 0
        #: Records dropped after they were queued (what flush() waits for).
        self.lost = 0
        #: Records of the batch being delivered; 0 once close() gave up on it (and counted it).
        self.in_flight = 0
        self._flight_lock = threading.Lock()
        self.dropped = Counts()
        self._reported: dict[str, int] = {}
        self._last_report = 0.0

    def take_in_flight(self) -> int:
        """The records in flight, for one caller only: the worker at the deadline and close()
        giving up on the worker may both reach for the same batch, which is counted once."""
        with self._flight_lock:
            count, self.in_flight = self.in_flight, 0
        return count

    def close_by(self, deadline: float | None) -> None:
        """From now on, deliver as close() must: retry until shortly before ``deadline``."""
        self.deadline = deadline

    def deliver(self, kind: str, batch: list[dict[str, Any]]) -> None:
        """Deliver one batch of one ``kind`` (records' JSON bodies), retrying until it is sent,
        rejected, or out of time.

        While closing, the batch is tried again until shortly before the deadline: the server
        gives us that time, and nothing newer may go first.
        """
        attempt = 0
        self.in_flight = len(batch)
        try:
            while True:
                left = self.time_left()
                if left is not None and left <= 0:
                    count = self.take_in_flight()  # 0: close() gave up on it and counted it
                    if count:
                        self.drop(count, "shutdown")
                    return
                try:
                    self.post(kind, batch, left)
                except PirschError as exc:
                    if not self.in_flight:
                        return  # close() gave up on this batch and counted it
                    closing = self.deadline is not None
                    if exc.retryable and (closing or attempt < self._settings.max_retries):
                        attempt += 1
                        delay = self._delay(attempt, exc.retry_after)
                        left = self.time_left()
                        if left is not None:
                            delay = max(0.0, min(delay, _SHUTDOWN_RETRY, left))
                        self.retried += 1
                        if exc.maybe_received:  # no answer: the API may have stored it already
                            self.maybe_duplicated += len(batch)
                        self._pause(delay)
                        continue
                    self.failed(kind, batch, exc)
                    return
                except Exception:
                    logger.exception(self.says + "could not send %d records", len(batch))
                    count = self.take_in_flight()
                    if count:
                        self.drop(count, "error")
                    return
                if self.take_in_flight():  # else close() gave up on it and counted it as dropped
                    self.sent += len(batch)
                return
        finally:
            self.in_flight = 0

    def time_left(self) -> float | None:
        """Seconds in which a try may still start and end while closing; ``None`` otherwise."""
        if self.deadline is None:
            return None
        return self.deadline - _GRACE - time.monotonic()

    def expired(self) -> bool:
        """Whether close()'s deadline leaves no time for another try."""
        left = self.time_left()
        return left is not None and left <= 0

    def failed(self, kind: str, batch: list[dict[str, Any]], exc: PirschError) -> None:
        """A batch the API refused, or that ran out of retries: drop, or split to find the
        records the API rejects (the good ones still go out, in order)."""
        if exc.retryable:
            self._log.warning("gave-up", self.says + "gave up sending %ss: %s", kind, exc)
            self.drop(len(batch), "retries_exhausted")
        elif exc.status in (401, 403):
            self._log.warning("auth", self.says + "the API refused the credentials: %s", exc)
            self.drop(len(batch), "unauthorized")
        elif len(batch) > 1:
            middle = len(batch) // 2
            self.deliver(kind, batch[:middle])
            self.deliver(kind, batch[middle:])
        else:
            self._log.warning("rejected", self.says + "the API rejected a %s: %s", kind, exc)
            self.drop(1, "rejected")

    def post(self, kind: str, batch: list[dict[str, Any]], timeout: float | None) -> None:
        """One try: POST the batch (at most ``timeout`` seconds); raises :class:`PirschError`."""
        if self._factory is None:
            if not logger.isEnabledFor(logging.INFO):
                return  # nobody reads it: skip the JSON
            for body in batch:
                logger.info(self.says + "would send %s %s", kind, encode(body).decode())
            return
        if self.client is None:
            self.client = self._factory()
        if timeout is None:
            self.client.send_bodies(kind, batch)
        else:
            self.client.send_bodies(kind, batch, timeout=min(self._settings.timeout, timeout))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        ceiling = min(
            self._settings.retry_backoff_max, self._settings.retry_backoff * 2.0 ** (attempt - 1)
        )
        return ceiling * random.uniform(0.5, 1.0)

    def _pause(self, seconds: float) -> None:
        if self.deadline is None:
            self._interrupt.wait(seconds)  # close() cuts a long backoff short
        else:
            time.sleep(seconds)

    def drop(self, count: int, reason: str) -> None:
        """Count ``count`` dropped records (by reason); nothing when there are none."""
        if count:
            self.dropped.add(reason, count)
            if reason not in _NOT_QUEUED:
                self.lost += count

    def close_client(self) -> None:
        """Close the connection pool, if one was opened."""
        if self.client is not None:
            self.client.close()

    def report(self, final: bool = False) -> None:
        """Log what was dropped since the last report, at most once per ``REPORT_INTERVAL``
        (``final``: now, whatever the interval)."""
        now = time.monotonic()
        if not final and now - self._last_report < REPORT_INTERVAL:
            return
        counts = self.dropped.snapshot()
        new = {
            k: v - self._reported.get(k, 0)
            for k, v in counts.items()
            if v > self._reported.get(k, 0)
        }
        if new:
            detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(new.items()))
            logger.warning(self.says + "dropped %d records (%s)", sum(new.values()), detail)
            self._reported = counts
            self._last_report = now


def by_kind(records: list[Ready]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Runs of one kind, in order (each batch endpoint takes one kind): (kind, bodies) each."""
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for kind, body in records:
        if batches and batches[-1][0] == kind:
            batches[-1][1].append(body)
        else:
            batches.append((kind, [body]))
    return batches
