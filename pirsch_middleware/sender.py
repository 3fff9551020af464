"""The background sender: a bounded queue drained by one worker thread per process."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .client import PirschClient
from .delivery import REPORT_INTERVAL, Delivery
from .inline import InlineSender
from .lifecycle import fork_pending, threads_unavailable, watch_exit
from .records import Ready, Record
from .settings import Settings
from .stats import Stats, logger

__all__ = ["REPORT_INTERVAL", "Sender"]

# How many records the worker handles between two offers of the GIL to the app's threads.
_YIELD_EVERY = 64
# How long, at most, the oldest record waits for a batch to fill while records keep coming
# (seconds; flush_interval, where that is longer).
_FILL_WAIT = 1.0


class _Flush:
    """A marker in the queue: set once everything queued before it is delivered or dropped;
    ``ok`` stays true only if nothing queued before it was dropped after it was put."""

    __slots__ = ("done", "lost", "ok")

    def __init__(self, lost: int) -> None:
        self.done = threading.Event()
        self.lost = lost
        self.ok = False


class Sender:
    """Delivers records to the batch endpoints in the order they were queued.

    ``put`` only appends to a bounded deque; a daemon thread, started on first use in each
    process, sends a batch when ``batch_size`` records wait, when none came for
    ``flush_interval``, or when the oldest has waited a second (see :meth:`_gather`). A process
    that was forked (by anything: ``os.fork``, uWSGI, a pool) is noticed by its process id and
    starts afresh: what its parent queued is its parent's to send. ``client_factory`` of
    ``None`` means no credentials: records are logged, not sent.
    """

    def __init__(
        self,
        settings: Settings,
        client_factory: Callable[[], PirschClient] | None,
        complete: Callable[[Any], Ready | None] | None = None,
        name: str | None = None,
    ) -> None:
        self._settings = settings
        self._name = name  # the dashboard's, in the log lines, where there are several
        self._factory = client_factory
        # Turns a queued item into its kind and JSON body (None: not sent); by default the
        # items are records.
        self._complete = _ready if complete is None else complete
        self._batch_size = settings.batch_size
        self._max_queue = settings.max_queue_size
        self._interval = settings.flush_interval
        self._reset()
        _live.add(self)

    def _reset(self) -> None:
        """Fresh state: at start-up, and in a forked child, which must not touch its parent's."""
        self._pid = os.getpid()
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._delivery = Delivery(self._settings, self._factory, self._interrupt, self._name)
        self._closed = False
        self._inline: InlineSender | None = None  # set where no thread can run
        self._force = False
        self._taken = 0

    # The request path

    def put(self, record: Any) -> bool:
        """Queue a record (or an item ``complete`` makes one of); ``False`` when it was dropped
        (queue full, or closed). Never blocks."""
        if self._pid != os.getpid():
            self._reset()  # a forked child (by whatever forked it): nothing of the parent's is ours
        if self._closed:
            self.count_drop("closed")
            return False
        if self._settings.sync:
            with self._lock:
                self._taken += 1
                ready = self._complete(record)
                if ready is None:
                    return False
                self._delivery.deliver(ready[0], [ready[1]])
            return True
        queue = self._queue
        if len(queue) >= self._max_queue:
            self.count_drop("queue_full")
            return False
        queue.append(record)
        if self._thread is None:
            if self._inline is None:
                self._start()
            if self._inline is not None:
                self._inline.send(len(queue), force=False)
                return True
        waiting = len(queue)
        # The first record starts the worker's flush_interval clock; a full batch goes now.
        if (waiting == 1 or waiting >= self._batch_size) and not self._wake.is_set():
            self._wake.set()
        return True

    # Control

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is delivered or dropped; ``True`` only if all of
        it was accepted (``False`` on timeout, or when any of it was dropped)."""
        if self._pid != os.getpid():
            self._reset()
        if self._settings.sync or self._closed or (self._thread is None and not self._queue):
            return True  # nothing can be waiting: inline delivery, closed, or never used
        inline = self._inline
        if inline is not None:
            deadline = None if timeout is None else time.monotonic() + timeout
            lost, queue = self._delivery.lost, self._queue
            while (queue or inline.held) and (deadline is None or time.monotonic() < deadline):
                if not inline.send(len(queue), force=True):
                    time.sleep(min(0.05, self._interval))
            return not queue and not inline.held and self._delivery.lost == lost
        marker = _Flush(self._delivery.lost)
        self._queue.append(marker)
        if self._thread is None:
            self._start()
        self._force = True
        self._wake.set()
        return marker.done.wait(timeout) and marker.ok

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued within ``timeout`` seconds, then stop; ``False`` if cut short.

        A failed batch is tried again until shortly before the deadline, and nothing newer is
        sent before it. What is left at the deadline, in flight or queued, is dropped, counted
        (``shutdown``) and logged once.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self.begin_close(deadline)
        return self.end_close(deadline)

    def begin_close(self, deadline: float | None) -> None:
        """The first half of :meth:`close`: accept nothing more and set the worker delivering
        what it holds until ``deadline`` (a ``time.monotonic()`` value), without waiting. Several
        senders closed together begin all, then end each (:func:`close_together`), so they share
        one deadline instead of adding theirs up."""
        if self._pid != os.getpid():
            self._reset()
        _live.discard(self)
        self._closed = True
        self._delivery.close_by(deadline)
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._force = True
            self._wake.set()
            self._interrupt.set()

    def end_close(self, deadline: float | None) -> bool:
        """The second half of :meth:`close`: wait for the worker until ``deadline``, then count
        and log what is left; ``False`` if the worker was still running at the deadline."""
        delivery = self._delivery
        thread = self._thread
        finished = True
        if thread is not None and thread.is_alive():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            finished = not thread.is_alive()
            if not finished:  # stuck past the deadline (a before_send that hangs, say)
                self._abandon()
        elif self._queue or (self._inline is not None and self._inline.held):
            if self._inline is not None:
                self._inline.deliver_held()
            self._drain(force=True)
        if finished:
            delivery.close_client()
        delivery.report(final=True)
        return finished

    def reopen(self) -> None:
        """Accept records again after :meth:`close`, for an app served again in the same process
        after its lifespan ended (test clients do that): the next record starts a thread and a
        connection afresh; the counters carry on. Nothing changes while a worker that ``close``
        gave up on still runs (it owns the queue until it returns)."""
        if self._pid != os.getpid():
            self._reset()
            return
        thread = self._thread
        if not self._closed or (thread is not None and thread.is_alive()):
            return
        self._thread = None
        self._delivery.close_by(None)
        self._delivery.client = None  # close() closed it: the next post opens one
        self._force = False
        self._wake.clear()
        self._interrupt.clear()
        self._closed = False
        _live.add(self)

    def stats(self) -> Stats:
        """The counters as they are now."""
        if self._pid != os.getpid():
            self._reset()
        pending = sum(1 for item in tuple(self._queue) if not isinstance(item, _Flush))
        delivery = self._delivery
        return Stats(
            queued=self._taken + pending,
            pending=pending,
            sent=delivery.sent,
            retried=delivery.retried,
            maybe_duplicated=delivery.maybe_duplicated,
            dropped=delivery.dropped.snapshot(),
        )

    # The worker

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._inline is not None:
                return
            watch_exit(_at_exit)
            if fork_pending():
                # No thread before uWSGI forks without Python's fork hooks, and its master runs
                # no exit hook: what the master tracks goes out as it is tracked.
                self._inline = InlineSender(self._delivery, self._take, self._interval, every=0.0)
                return
            if threads_unavailable():
                self._inline = InlineSender(self._delivery, self._take, self._interval)
                return
            thread = threading.Thread(target=self._run, name="pirsch-sender", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutdown: no new threads; deliver here instead
                self._drain(force=True)
                return
            self._thread = thread

    def _take(self, limit: int) -> list[Ready]:
        """Up to ``limit`` records from the queue, ready to send: the inline sender's next batch."""
        queue = self._queue
        records: list[Ready] = []
        while queue and len(records) < limit:
            item = queue.popleft()
            self._taken += 1
            ready = self._complete(item)
            if ready is not None:
                records.append(ready)
        return records

    def _run(self) -> None:
        wake = self._wake
        while True:
            try:
                if not self._queue and not self._force:
                    wake.wait(REPORT_INTERVAL)  # idle: put() wakes us with the first record
                    wake.clear()
                self._gather()
                force = self._force or len(self._queue) < self._batch_size
                self._force = False
                self._drain(force)
                self._delivery.report()
                if self._closed and not self._queue:
                    return
            except Exception:  # a bug here must not end delivery for the process
                logger.exception(self._delivery.says + "the sender hit an unexpected error")
                time.sleep(min(1.0, self._interval))

    def _gather(self) -> None:
        """Wait while the oldest record waits for company: a batch goes when it is full, when no
        record came for a whole ``flush_interval``, or when the oldest has waited ``_FILL_WAIT``
        (or ``flush_interval``, if longer). flush() and close() cut that short.

        A busy app's records keep coming: its batches fill instead of leaving every
        ``flush_interval`` with a few records each, and a batch costs the sender about the same
        CPU whatever its size (``benchmarks/delivery.py``). A lone record leaves after
        ``flush_interval``, as before; a few that came together, within two."""
        queue, wake, interval = self._queue, self._wake, self._interval
        since = time.monotonic()
        limit = since + max(interval, _FILL_WAIT)
        check, seen = since + interval, len(queue)
        while not self._force and len(queue) < self._batch_size:
            now = time.monotonic()
            if now >= check:
                if len(queue) == seen or now >= limit:
                    return  # quiet for a whole interval, or waited long enough
                check, seen = min(now + interval, limit), len(queue)
            wake.wait(check - now)
            wake.clear()

    def _drain(self, force: bool) -> None:
        # Runs for every record sent: what the loop reads is held in locals.
        queue, delivery, complete = self._queue, self._delivery, self._complete
        size = self._batch_size
        batch: list[dict[str, Any]] = []
        kind = ""
        while queue and (force or batch or len(queue) >= size):
            if delivery.deadline is not None and delivery.expired():
                delivery.drop(len(batch), "shutdown")
                self._abandon()
                return
            item = queue.popleft()
            if type(item) is _Flush:
                self._send(kind, batch)
                batch = []
                item.ok = delivery.lost == item.lost
                item.done.set()
                continue
            self._taken += 1
            if not self._taken % _YIELD_EVERY:
                time.sleep(0)  # building records is CPU: let the app's threads have the GIL
            ready = complete(item)
            if ready is None:
                continue
            if ready[0] != kind:
                self._send(kind, batch)
                batch = []
                kind = ready[0]
            batch.append(ready[1])
            if len(batch) >= size:
                self._send(kind, batch)
                batch = []
        self._send(kind, batch)

    def _send(self, kind: str, batch: list[dict[str, Any]]) -> None:
        if batch:
            self._delivery.deliver(kind, batch)

    def _abandon(self) -> None:
        """At the deadline: count what is in flight and queued as dropped (``shutdown``), and
        release whoever waits in flush()."""
        left = self._delivery.take_in_flight()
        queue = self._queue
        while queue:
            try:
                item = queue.popleft()
            except IndexError:  # the worker took the last one meanwhile
                break
            if isinstance(item, _Flush):
                item.done.set()  # ok stays False
            else:
                left += 1
        self._delivery.drop(left, "shutdown")

    def count_drop(self, reason: str, n: int = 1) -> None:
        """Count dropped records (by reason)."""
        self._delivery.drop(n, reason)


_live: weakref.WeakSet[Sender] = weakref.WeakSet()


def _ready(record: Record) -> Ready:
    return record.kind, record.payload()


def close_together(senders: Sequence[tuple[Sender, float | None]]) -> list[bool]:
    """Close each sender by its own deadline, all at the same time: every worker is set
    delivering before any is waited for, so the whole takes the latest deadline, not their
    sum. Needs no new thread (it runs at interpreter exit too). One ``close()`` result each."""
    for sender, deadline in senders:
        sender.begin_close(deadline)
    return [sender.end_close(deadline) for sender, deadline in senders]


def _at_exit() -> None:
    """Where the process ends (see ``lifecycle``): close every sender it uses in time, all at
    once (an inherited sender this process never used holds nothing)."""
    pid = os.getpid()
    now = time.monotonic()
    close_together(
        [
            (sender, now + sender._settings.shutdown_timeout)
            for sender in list(_live)
            if sender._pid == pid
        ]
    )
