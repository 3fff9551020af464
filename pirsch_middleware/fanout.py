"""Every record to several dashboards: one :class:`Sender` per dashboard behind one object."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from .client import PirschClient
from .records import Ready
from .sender import Sender
from .settings import Settings
from .stats import Stats

__all__ = ["Fanout", "make_sender"]


def make_sender(
    settings: Settings,
    transport: httpx.BaseTransport | None,
    complete: Callable[[Any], Ready | None],
) -> Sender | Fanout:
    """The sender of a tracker: a :class:`Sender` for one dashboard (or none: records are
    logged), a :class:`Fanout` for several (see ``Settings.dashboards``)."""
    dashboards = settings.dashboards()
    if len(dashboards) <= 1:
        chosen = dashboards[0][1] if dashboards else settings
        return Sender(chosen, _factory(chosen, transport) if dashboards else None, complete)
    return Fanout(dashboards, transport, complete)


def _factory(settings: Settings, transport: httpx.BaseTransport | None) -> Callable[[], Any]:
    def factory() -> PirschClient:
        return PirschClient(settings=settings, transport=transport)

    return factory


class Fanout:
    """Looks like one :class:`Sender` to the tracker, and queues each record to one sender per
    dashboard: each with its own queue, thread, retries and order, so a dashboard that fails
    holds back none of the others. ``dashboards`` are (name, settings) pairs, as
    ``Settings.dashboards`` gives them; ``complete`` makes a queued item ready to send."""

    def __init__(
        self,
        dashboards: Sequence[tuple[str, Settings]],
        transport: httpx.BaseTransport | None,
        complete: Callable[[Any], Ready | None],
    ) -> None:
        self._complete = complete
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._senders = [
            (name, Sender(settings, _factory(settings, transport), self._build, name))
            for name, settings in dashboards
        ]
        self._puts = [sender.put for _, sender in self._senders]

    def _build(self, shared: list[Any]) -> Ready | None:
        # Every queue holds the same one-item list: [item] until one sender builds it, then
        # [item, ready]; so the record is built (and before_send run, and skips counted) once.
        # A list, not an object of our own: it is the cheapest thing to make per record.
        if self._pid != os.getpid():
            # A forked child: the parent's lock may have been held by a thread the child
            # does not have. (Each sender starts afresh in the child itself.)
            self._lock, self._pid = threading.Lock(), os.getpid()
        with self._lock:
            if len(shared) == 1:
                shared.append(self._complete(shared[0]))
                shared[0] = None  # a lagging dashboard's queue keeps the record alone
            return shared[1]  # type: ignore[no-any-return]

    def put(self, item: Any) -> bool:
        """Queue an item to every dashboard; ``False`` when every queue dropped it."""
        shared = [item]
        queued = False
        for put in self._puts:
            queued = put(shared) or queued
        return queued

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is delivered to every dashboard, within one
        ``timeout`` for all; ``True`` only if all of it was accepted everywhere."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for _, sender in self._senders:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ok = sender.flush(left) and ok
        return ok

    def close(self, timeout: float | None = None) -> bool:
        """Close every dashboard's sender at once, within one ``timeout`` for all (not one per
        dashboard): a dashboard that does not answer loses what it holds (``shutdown``), the
        others deliver theirs meanwhile. ``False`` if any was cut short."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for _, sender in self._senders:
            sender.begin_close(deadline)
        # Every sender ends (and reports), even after one was cut short: no short-circuit.
        ended = [sender.end_close(deadline) for _, sender in self._senders]
        return all(ended)

    def reopen(self) -> None:
        """Every dashboard's sender accepts records again after :meth:`close`."""
        for _, sender in self._senders:
            sender.reopen()

    def stats(self) -> Stats:
        """The sums over the dashboards (a record counts once per dashboard), and each
        dashboard's own counters in ``destinations``."""
        each = {name: sender.stats() for name, sender in self._senders}
        dropped: dict[str, int] = {}
        for counts in each.values():
            for reason, n in counts.dropped.items():
                dropped[reason] = dropped.get(reason, 0) + n
        return Stats(
            queued=sum(s.queued for s in each.values()),
            pending=sum(s.pending for s in each.values()),
            sent=sum(s.sent for s in each.values()),
            retried=sum(s.retried for s in each.values()),
            maybe_duplicated=sum(s.maybe_duplicated for s in each.values()),
            dropped=dropped,
            destinations=each,
        )

    def count_drop(self, reason: str, n: int = 1) -> None:
        """Count records lost before they were built: lost to every dashboard."""
        for _, sender in self._senders:
            sender.count_drop(reason, n)
