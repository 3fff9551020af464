"""The background sender: a bounded queue drained by one worker thread per process."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .client import PirschClient, encode
from .errors import PirschError
from .lifecycle import fork_pending, threads_unavailable, watch_exit
from .records import Record
from .settings import Settings
from .stats import Counts, RateLimitedLog, Stats, logger

__all__ = ["Sender"]

# How often, at most, the log repeats that records were dropped or rejected.
REPORT_INTERVAL = 30.0
# A Retry-After longer than this is taken as this: an answer must not park the queue for hours.
MAX_RETRY_AFTER = 600.0
# How many records the worker handles between two offers of the GIL to the app's threads.
_YIELD_EVERY = 64
# During close(), a failed batch is tried again at least this often, and no try starts later
# than this before the deadline (so the worker has ended, and counted, when close() returns).
_SHUTDOWN_RETRY = 0.25
_GRACE = 0.1
# Where no thread can run (uWSGI without threads), the request that finds records due sends at
# most this many, at most once a second, in one try of at most a second: a request pays for
# that rarely and briefly, and nothing waits until the process ends.
INLINE_BATCH = 100
INLINE_EVERY = 1.0
# Drops of records that never entered the queue: flush() did not wait for those.
_NOT_QUEUED = frozenset({"queue_full", "closed"})


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
    process, sends a batch when ``batch_size`` records wait or the oldest has waited
    ``flush_interval``. A process that was forked (by anything: ``os.fork``, uWSGI, a pool) is
    noticed by its process id and starts afresh: what its parent queued is its parent's to send.
    ``client_factory`` of ``None`` means no credentials: records are logged, not sent.
    """

    def __init__(
        self,
        settings: Settings,
        client_factory: Callable[[], PirschClient] | None,
        complete: Callable[[Any], Record | None] | None = None,
    ) -> None:
        self._settings = settings
        self._factory = client_factory
        # Turns a queued item into the record to send (None: not sent); records pass as they are.
        self._complete = complete
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
        self._log = RateLimitedLog(REPORT_INTERVAL)
        self._thread: threading.Thread | None = None
        self._client: PirschClient | None = None
        self._closed = False
        self._deadline: float | None = None
        self._inline = False  # no thread can run: the request path sends (see _send_inline)
        self._eager = False  # inline, each record as it comes: a uWSGI master (see _start)
        self._inline_next = 0.0
        self._held: list[Record] = []  # built, failed, to go first in inline mode
        self._force = False
        self._taken = 0
        self._sent = 0
        self._retried = 0
        self._maybe_duplicated = 0
        self._lost = 0  # records dropped after they were queued (what flush() waited for)
        self._in_flight = 0
        self._dropped = Counts()
        self._reported: dict[str, int] = {}
        self._last_report = 0.0

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
                if self._complete is not None:
                    record = self._complete(record)
                    if record is None:
                        return False
                self._deliver([record])
            return True
        queue = self._queue
        if len(queue) >= self._max_queue:
            self.count_drop("queue_full")
            return False
        queue.append(record)
        if self._thread is None:
            if not self._inline:
                self._start()
            if self._inline:
                self._send_inline(force=False)
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
        if self._inline:
            deadline = None if timeout is None else time.monotonic() + timeout
            lost = self._lost
            while (self._queue or self._held) and (deadline is None or time.monotonic() < deadline):
                if not self._send_inline(force=True):
                    time.sleep(min(0.05, self._interval))
            return not self._queue and not self._held and self._lost == lost
        marker = _Flush(self._lost)
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
        if self._pid != os.getpid():
            self._reset()
        _live.discard(self)
        self._closed = True
        self._deadline = None if timeout is None else time.monotonic() + timeout
        thread = self._thread
        finished = True
        if thread is not None and thread.is_alive():
            self._force = True
            self._wake.set()
            self._interrupt.set()
            thread.join(timeout)
            finished = not thread.is_alive()
            if not finished:  # stuck past the deadline (a before_send that hangs, say)
                self._abandon()
        elif self._queue or self._held:
            held, self._held = self._held, []
            for batch in _by_kind(held):
                self._deliver(batch)
            self._drain(force=True)
        if self._client is not None and finished:
            self._client.close()
        self._report(final=True)
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
        self._client = None
        self._deadline = None
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
        return Stats(
            queued=self._taken + pending,
            pending=pending,
            sent=self._sent,
            retried=self._retried,
            maybe_duplicated=self._maybe_duplicated,
            dropped=self._dropped.snapshot(),
        )

    # The worker

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._inline:
                return
            watch_exit(_at_exit)
            if fork_pending():
                # No thread before uWSGI forks without Python's fork hooks, and its master runs
                # no exit hook: what the master tracks goes out as it is tracked.
                self._inline = self._eager = True
                return
            if threads_unavailable():
                self._inline = True
                return
            thread = threading.Thread(target=self._run, name="pirsch-sender", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutdown: no new threads; deliver here instead
                self._drain(force=True)
                return
            self._thread = thread

    def _send_inline(self, force: bool) -> bool:
        """Send one small batch from the caller's thread, where no thread can run: when
        ``INLINE_BATCH`` records wait or the oldest has waited ``flush_interval`` (at most once
        per ``INLINE_EVERY`` unless ``force``), one try within ``INLINE_EVERY``. A batch that
        fails with a network error, 5xx or 429 is held and goes first next time; ``False``
        then (or when nothing was due)."""
        now = time.monotonic()
        queue = self._queue
        due = self._eager or self._held or len(queue) >= INLINE_BATCH or now >= self._inline_next
        if not due or (not force and not self._eager and now < self._inline_next):
            return False
        self._inline_next = now + max(self._interval, INLINE_EVERY)
        records = self._held
        self._held = []
        while queue and len(records) < INLINE_BATCH:
            item = queue.popleft()
            self._taken += 1
            record = item if self._complete is None else self._complete(item)
            if record is not None:
                records.append(record)
        batches = _by_kind(records)
        for index, batch in enumerate(batches):
            try:
                self._post(batch, INLINE_EVERY)
            except PirschError as exc:
                if not exc.retryable:
                    self._failed(batch, exc)
                    continue
                self._retried += 1
                if exc.maybe_received:
                    self._maybe_duplicated += len(batch)
                self._held = [record for later in batches[index:] for record in later]
                return False
            except Exception:
                logger.exception("pirsch_middleware: could not send %d records", len(batch))
                self._drop(batch, "error")
                continue
            self._sent += len(batch)
        self._report()
        return True

    def _run(self) -> None:
        wake = self._wake
        while True:
            try:
                if not self._queue and not self._force:
                    wake.wait(REPORT_INTERVAL)  # idle: put() wakes us with the first record
                    wake.clear()
                # The oldest record waits for company, at most flush_interval: a full batch,
                # flush() or close() cut that short.
                since = time.monotonic()
                while not self._force and len(self._queue) < self._batch_size:
                    left = since + self._interval - time.monotonic()
                    if left <= 0:
                        break
                    wake.wait(left)
                    wake.clear()
                force = self._force or len(self._queue) < self._batch_size
                self._force = False
                self._drain(force)
                self._report()
                if self._closed and not self._queue:
                    return
            except Exception:  # a bug here must not end delivery for the process
                logger.exception("pirsch_middleware: the sender hit an unexpected error")
                time.sleep(min(1.0, self._interval))

    def _drain(self, force: bool) -> None:
        queue = self._queue
        batch: list[Record] = []
        while queue and (force or batch or len(queue) >= self._batch_size):
            if self._expired():
                self._drop(batch, "shutdown")
                self._abandon()
                return
            item = queue.popleft()
            if isinstance(item, _Flush):
                self._send(batch)
                batch = []
                item.ok = self._lost == item.lost
                item.done.set()
                continue
            self._taken += 1
            if not self._taken % _YIELD_EVERY:
                time.sleep(0)  # building records is CPU: let the app's threads have the GIL
            if self._complete is not None:
                item = self._complete(item)
                if item is None:
                    continue
            if batch and item.kind != batch[0].kind:
                self._send(batch)
                batch = []
            batch.append(item)
            if len(batch) >= self._batch_size:
                self._send(batch)
                batch = []
        self._send(batch)

    def _send(self, batch: list[Record]) -> None:
        if batch:
            self._deliver(batch)

    def _deliver(self, batch: Sequence[Record]) -> None:
        """Deliver one batch of one kind, retrying until it is sent, rejected, or out of time.

        While closing, the batch is tried again (whatever ``max_retries`` says) until shortly
        before the deadline: the server gives us that time, and nothing newer may go first.
        """
        attempt = 0
        self._in_flight = len(batch)
        try:
            while True:
                left = self._time_left()
                if left is not None and left <= 0:
                    self._drop(batch, "shutdown")
                    return
                try:
                    self._post(batch, left)
                except PirschError as exc:
                    if not self._in_flight:
                        return  # close() gave up on this batch and counted it
                    closing = self._deadline is not None
                    if exc.retryable and (closing or attempt < self._settings.max_retries):
                        attempt += 1
                        delay = self._delay(attempt, exc.retry_after)
                        left = self._time_left()
                        if left is not None:
                            delay = max(0.0, min(delay, _SHUTDOWN_RETRY, left))
                        self._retried += 1
                        if exc.maybe_received:  # no answer: the API may have stored it already
                            self._maybe_duplicated += len(batch)
                        self._pause(delay)
                        continue
                    self._failed(batch, exc)
                    return
                except Exception:
                    logger.exception("pirsch_middleware: could not send %d records", len(batch))
                    self._drop(batch, "error")
                    return
                if self._in_flight:  # else close() gave up on it and counted it as dropped
                    self._sent += len(batch)
                return
        finally:
            self._in_flight = 0

    def _time_left(self) -> float | None:
        """Seconds in which a try may still start and end while closing; ``None`` otherwise."""
        if self._deadline is None:
            return None
        return self._deadline - _GRACE - time.monotonic()

    def _expired(self) -> bool:
        left = self._time_left()
        return left is not None and left <= 0

    def _abandon(self) -> None:
        """At the deadline: count what is in flight and queued as dropped (``shutdown``), and
        release whoever waits in flush()."""
        left = self._in_flight
        self._in_flight = 0
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
        if left:
            self._drop((), "shutdown", left)

    def _failed(self, batch: Sequence[Record], exc: PirschError) -> None:
        kind = batch[0].kind
        if exc.retryable:
            self._log.warning("gave-up", "pirsch_middleware: gave up sending %ss: %s", kind, exc)
            self._drop(batch, "retries_exhausted")
        elif exc.status in (401, 403):
            self._log.warning("auth", "pirsch_middleware: the API refused the credentials: %s", exc)
            self._drop(batch, "unauthorized")
        elif len(batch) > 1:
            # Find the bad records by halves; the good ones still go out, in order.
            middle = len(batch) // 2
            self._deliver(batch[:middle])
            self._deliver(batch[middle:])
        else:
            self._log.warning("rejected", "pirsch_middleware: the API rejected a %s: %s", kind, exc)
            self._drop(batch, "rejected")

    def _post(self, batch: Sequence[Record], timeout: float | None) -> None:
        if self._factory is None:
            if not logger.isEnabledFor(logging.INFO):
                return  # nobody reads it: skip the JSON
            for record in batch:
                logger.info(
                    "pirsch_middleware: would send %s %s",
                    record.kind,
                    encode(record.payload()).decode(),
                )
            return
        if self._client is None:
            self._client = self._factory()
        if timeout is None:
            self._client.send_batch(batch)
        else:
            self._client.send_batch(batch, timeout=min(self._settings.timeout, timeout))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        ceiling = min(
            self._settings.retry_backoff_max, self._settings.retry_backoff * 2.0 ** (attempt - 1)
        )
        return ceiling * random.uniform(0.5, 1.0)

    def _pause(self, seconds: float) -> None:
        if self._deadline is None:
            self._interrupt.wait(seconds)  # close() cuts a long backoff short
        else:
            time.sleep(seconds)

    def _drop(self, batch: Sequence[Record], reason: str, n: int | None = None) -> None:
        count = len(batch) if n is None else n
        if count:
            self.count_drop(reason, count)

    def count_drop(self, reason: str, n: int = 1) -> None:
        """Count dropped records (by reason)."""
        self._dropped.add(reason, n)
        if reason not in _NOT_QUEUED:
            self._lost += n

    def _report(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_report < REPORT_INTERVAL:
            return
        counts = self._dropped.snapshot()
        new = {
            k: v - self._reported.get(k, 0)
            for k, v in counts.items()
            if v > self._reported.get(k, 0)
        }
        if new:
            detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(new.items()))
            logger.warning("pirsch_middleware: dropped %d records (%s)", sum(new.values()), detail)
            self._reported = counts
            self._last_report = now


def _by_kind(records: list[Record]) -> list[list[Record]]:
    """Runs of one kind, in order (each batch endpoint takes one kind)."""
    batches: list[list[Record]] = []
    for record in records:
        if batches and batches[-1][0].kind == record.kind:
            batches[-1].append(record)
        else:
            batches.append([record])
    return batches


_live: weakref.WeakSet[Sender] = weakref.WeakSet()


def _at_exit() -> None:
    """Where the process ends (see ``lifecycle``): close every sender it uses in time."""
    pid = os.getpid()
    for sender in list(_live):
        if sender._pid == pid:  # an inherited sender this process never used holds nothing
            sender.close(sender._settings.shutdown_timeout)
