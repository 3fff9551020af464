"""The Tracker: settings, extraction and the sender, held together for the adapters."""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from ._sink import active_sink
from .client import PirschClient
from .extract import _NO_EXTRA, Draft, Extractor
from .records import Event, Hit, Record, check_meta, check_tags
from .request import RequestData
from .sender import REPORT_INTERVAL, Sender
from .settings import Settings, SettingsOptions
from .stats import Counts, RateLimitedLog, Stats, logger

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Tracker"]


class Tracker:
    """Turns requests into Pirsch page hits, events and sessions and sends them in the background.

    Build it once per app, from a :class:`Settings` or the same options as keywords (keywords
    override the settings' values). Every ``track_*`` call only takes what its record needs and
    queues it (the sender thread builds the record): it does no I/O and never raises because of
    the network. Adapters judge :meth:`route_skip` when a request arrives, then
    :meth:`response_skip` and :meth:`header_skip` when the response starts, and queue the page
    view with :meth:`queue_page_view`.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Unpack[SettingsOptions],
    ) -> None:
        if settings is None:
            settings = Settings(**options)
        elif options:
            settings = settings.replace(**options)
        self.settings = settings
        self._extractor = Extractor(settings)
        self._skipped = Counts()
        self._log = RateLimitedLog(REPORT_INTERVAL)
        self._before_send = settings.before_send
        self._enabled = settings.enabled
        factory = None
        if settings.auth_mode != "none":

            def factory() -> PirschClient:
                return PirschClient(settings=settings, transport=transport)

        elif settings.enabled:
            logger.warning(
                "pirsch_middleware: no Pirsch credentials (PIRSCH_ACCESS_KEY, or PIRSCH_CLIENT_ID "
                "and PIRSCH_CLIENT_SECRET): hits are logged at INFO level, not sent"
            )
        self._sender = Sender(settings, factory, self._complete)

    def __repr__(self) -> str:
        return (
            f"Tracker(auth={self.settings.auth_mode!r}, base_url={self.settings.base_url!r}, "
            f"enabled={self._enabled!r})"
        )

    def request_skip(self, request: RequestData) -> str | None:
        """Why this request is not a page view, judged before the app answers (and counted).

        ``None`` means: track it if the response is a successful HTML page.
        """
        return self.route_skip(request.method, request.path) or self.header_skip(request)

    def route_skip(self, method: str, path: str) -> str | None:
        """:meth:`request_skip` for what the method and path alone decide (counted)."""
        if not self._enabled:
            return "disabled"
        reason = self._extractor.route_skip(method, path)
        if reason is not None:
            self._skipped.add(reason)
        return reason

    def header_skip(self, request: RequestData) -> str | None:
        """:meth:`request_skip` for what the headers decide, after :meth:`route_skip` (counted)."""
        reason = self._extractor.header_skip(request)
        if reason is not None:
            self._skipped.add(reason)
        return reason

    def response_skip(self, status: int, content_type: str | None) -> str | None:
        """Why a response is no page view: a redirect, an error, not HTML (counted). Adapters
        ask it before :meth:`header_skip`, so such a response copies no header."""
        reason = self._extractor.response_skip(status, content_type)
        if reason is not None:
            self._skipped.add(reason)
        return reason

    def track_page_view(
        self,
        request: RequestData,
        status: int = 200,
        content_type: str | None = "text/html",
        *,
        title: str | None = None,
        tags: Mapping[str, object] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
        time: float | None = None,
        request_checked: bool = False,
    ) -> bool:
        """Queue a page hit for a response; ``False`` when it is skipped or dropped now (the
        record is built, and ``before_send`` runs, in the sender thread: what they skip is
        counted then).

        ``request_checked`` says :meth:`request_skip` already passed this request. ``time`` is
        when the request arrived (Unix seconds; now by default). Bad ``tags`` raise ``ValueError``.
        """
        checked_tags = check_tags(tags) if tags else None
        if not request_checked and self.request_skip(request) is not None:
            return False
        if not self._enabled:
            return False
        reason = self._extractor.response_skip(status, content_type)
        if reason is not None:
            self._skipped.add(reason)
            return False
        return self.queue_page_view(
            request,
            time=time,
            title=title,
            tags=checked_tags,
            screen_width=_size("screen_width", screen_width),
            screen_height=_size("screen_height", screen_height),
        )

    def queue_page_view(
        self,
        request: RequestData,
        *,
        time: float | None = None,
        title: str | None = None,
        tags: dict[str, str] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
    ) -> bool:
        """Queue the page hit of a request every rule has already passed (the adapters judge
        the request and response rules themselves, in their own order); ``tags`` as
        :func:`~pirsch_middleware.records.check_tags` returns them."""
        draft = self._extractor.draft(
            Hit,
            request,
            _time.time() if time is None else time,
            title,
            tags,
            screen_width,
            screen_height,
            _NO_EXTRA,
        )
        return self._enqueue_or_skip(draft)

    def track_event(
        self,
        request: RequestData,
        name: str,
        *,
        meta: Mapping[str, object] | None = None,
        duration: float | None = None,
        non_interactive: bool = False,
        title: str | None = None,
        tags: Mapping[str, object] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
        time: float | None = None,
    ) -> bool:
        """Queue an event for a request; ``False`` when it is skipped or dropped now (see
        :meth:`track_page_view`).

        ``duration`` is in seconds; ``meta`` values become strings. Arguments over the API's
        limits raise ``ValueError`` here rather than a rejected request later.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name: expected a non-empty event name, got {name!r}")
        checked_meta = check_meta(meta) if meta else None
        checked_tags = check_tags(tags) if tags else None
        seconds = _duration(duration)
        if not self._visitor_ok(request):
            return False
        draft = self._extractor.draft(
            Event,
            request,
            _time.time() if time is None else time,
            title,
            checked_tags,
            _size("screen_width", screen_width),
            _size("screen_height", screen_height),
            {
                "event_name": name.strip(),
                "event_duration": seconds,
                "event_meta": checked_meta,
                "non_interactive": bool(non_interactive),
            },
        )
        return self._enqueue_or_skip(draft)

    def track_session(self, request: RequestData, *, time: float | None = None) -> bool:
        """Queue a session keep-alive for the visitor of a request."""
        if not self._visitor_ok(request):
            return False
        built = self._extractor.session(request, _time.time() if time is None else time)
        return self._enqueue_or_skip(built)

    def count_skip(self, reason: str) -> None:
        """Count a record not sent for a reason an adapter decided (see ``SKIP_REASONS``)."""
        self._skipped.add(reason)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is delivered; ``True`` only if all of it was
        accepted (``False`` if ``timeout`` passed or any of it was dropped)."""
        return self._sender.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flush within ``timeout`` seconds (``shutdown_timeout`` by default) and stop."""
        return self._sender.close(self.settings.shutdown_timeout if timeout is None else timeout)

    def stats(self) -> Stats:
        """The counters: queued, pending, sent, retried, maybe_duplicated, dropped and skipped
        by reason."""
        sender = self._sender.stats()
        return Stats(
            queued=sender.queued,
            pending=sender.pending,
            sent=sender.sent,
            retried=sender.retried,
            maybe_duplicated=sender.maybe_duplicated,
            dropped=sender.dropped,
            skipped=self._skipped.snapshot(),
        )

    def _visitor_ok(self, request: RequestData) -> bool:
        if not self._enabled:
            return False
        reason = self._extractor.visitor_skip(request)
        if reason is not None:
            self._skipped.add(reason)
        return reason is None

    def _enqueue_or_skip(self, built: Record | Draft | str) -> bool:
        if isinstance(built, str):
            self._skipped.add(built)
            return False
        sink = active_sink()
        if sink is not None:  # a test capturing what would be sent: build it now
            record = self._complete(built)
            if record is None:
                return False
            sink(record)
            return True
        return self._sender.put(built)

    def _complete(self, item: Record | Draft) -> Record | None:
        """The record to send for a queued item (the sender thread calls this), after
        ``before_send``; ``None`` when it is skipped or dropped (and counted)."""
        if isinstance(item, tuple):
            try:
                built = self._extractor.complete(item)
            except Exception:  # a bug, or data beyond repair: lose this record, not the batch
                self._log.warning(
                    "complete", "pirsch_middleware: could not build a record", exc_info=True
                )
                self._sender.count_drop("error")
                return None
            if isinstance(built, str):
                self._skipped.add(built)
                return None
            record: Record = built
        else:
            record = item
        if self._before_send is not None:
            try:
                changed = self._before_send(record)
            except Exception:
                self._log.warning(
                    "before_send", "pirsch_middleware: before_send raised", exc_info=True
                )
                self._sender.count_drop("before_send_error")
                return None
            if changed is None:
                self._skipped.add("before_send")
                return None
            record = changed
        return record


def _size(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}: expected a whole number of pixels, 0 or more, got {value!r}")
    return value or None


def _duration(value: float | None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1e9:
        raise ValueError(f"duration: expected seconds, 0 or more, got {value!r}")
    return round(value)
