"""Sending from the request path where no thread can run (uWSGI before 2.0.27 started without
``--enable-threads``, see :func:`~pirsch_middleware.lifecycle.threads_unavailable`): a thread
never runs while such a worker waits for requests, so the request that finds records due sends
a small batch itself, rather than nothing leaving until the process ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .delivery import Delivery, by_kind
from .errors import PirschError
from .records import Ready
from .stats import logger

__all__ = ["INLINE_BATCH", "INLINE_EVERY", "InlineSender"]

# The request that finds records due sends at most this many, at most once a second, in one try
# of at most a second: a request pays for that rarely and briefly.
INLINE_BATCH = 100
INLINE_EVERY = 1.0


class InlineSender:
    """Sends from the caller's thread for a sender whose thread cannot run.

    ``take(n)`` hands over up to ``n`` queued records, ready to send; ``interval`` is how long the
    oldest may wait for company (``flush_interval``, at least ``INLINE_EVERY``). A batch that
    fails with a network error, 5xx or 429 is held in ``held`` and goes first next time.
    """

    def __init__(
        self,
        delivery: Delivery,
        take: Callable[[int], list[Ready]],
        interval: float,
        every: float = INLINE_EVERY,
    ) -> None:
        self._delivery = delivery
        self._take = take
        self._every = max(interval, every) if every else 0.0  # 0: each record as it comes
        self._next = 0.0
        #: Records ready to send whose batch failed, to go before anything queued.
        self.held: list[Ready] = []

    def send(self, waiting: int, force: bool) -> bool:
        """Send one small batch if it is due: ``INLINE_BATCH`` records wait (``waiting`` are
        queued) or the oldest has waited the interval, and no batch went within it unless
        ``force``; one try of at most ``INLINE_EVERY`` seconds per kind. ``False`` when nothing
        was due, or a batch failed and is held."""
        now = time.monotonic()
        due = self.held or waiting >= INLINE_BATCH or now >= self._next
        if not due or (not force and now < self._next):
            return False
        self._next = now + self._every
        records = self.held + self._take(INLINE_BATCH - len(self.held))
        self.held = []
        delivery = self._delivery
        batches = by_kind(records)
        for index, (kind, batch) in enumerate(batches):
            try:
                delivery.post(kind, batch, INLINE_EVERY)
            except PirschError as exc:
                if not exc.retryable:
                    delivery.failed(kind, batch, exc)
                    continue
                delivery.retried += 1
                if exc.maybe_received:
                    delivery.maybe_duplicated += len(batch)
                self.held = [(k, body) for k, later in batches[index:] for body in later]
                return False
            except Exception:
                logger.exception(delivery.says + "could not send %d records", len(batch))
                delivery.drop(len(batch), "error")
                continue
            delivery.sent += len(batch)
        delivery.report()
        return True

    def deliver_held(self) -> None:
        """At close: deliver what is held as the worker would, with retries until the deadline."""
        held, self.held = self.held, []
        for kind, batch in by_kind(held):
            self._delivery.deliver(kind, batch)
