"""The Tracker: settings, extraction and the sender, held together for the adapters."""

from __future__ import annotations

import logging
import time as _time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from ._sink import _active as _capturing
from ._sink import active_sink, skip_listeners
from .address import AddressCheck
from .explain import Verdict, explain
from .extract import _NO_EXTRA, Draft, Extractor
from .fanout import make_sender
from .records import Event, Hit, Ready, Record, check_meta, check_tags
from .request import RequestData
from .sender import REPORT_INTERVAL
from .settings import Settings, SettingsOptions
from .stats import Counts, RateLimitedLog, Stats, logger

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Tracker", "trackers"]

_TRACKERS: weakref.WeakSet[Tracker] = weakref.WeakSet()


def trackers() -> list[Tracker]:
    """The trackers alive in this process (each middleware builds one), oldest first: the way
    to their :meth:`~Tracker.stats` from a shell, a health check or a test, whatever the
    framework hides the middleware behind."""
    return sorted(_TRACKERS, key=lambda tracker: tracker._created)


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
        self._address_check = AddressCheck(self._extractor.resolver, self._log)
        self._extractor.check_address = self._address_check
        # One DEBUG line per skip reason and second: "why no hits?" answered at DEBUG level.
        self._skip_log = RateLimitedLog(1.0)
        self._created = _time.monotonic()
        self._before_send = settings.before_send
        self._enabled = settings.enabled
        # snippet="only": the snippet counts page views, the middleware none of its own.
        self._snippet_only = settings.snippet == "only"
        if settings.enabled and settings.auth_mode == "none" and not settings.destinations:
            logger.warning(
                "pirsch_middleware: no Pirsch credentials (PIRSCH_ACCESS_KEY, or PIRSCH_CLIENT_ID "
                "and PIRSCH_CLIENT_SECRET): hits are not sent but logged at INFO level on the "
                "'pirsch_middleware' logger, which shows nothing until logging is configured "
                "(logging.basicConfig(level=logging.INFO))"
            )
        for variable, meant in settings.misspelt_variables():
            logger.warning(
                "pirsch_middleware: the environment variable %s is no setting's, so it is "
                "ignored: did you mean %s?",
                variable,
                meant,
            )
        self._sender = make_sender(settings, transport, self._ready)
        _TRACKERS.add(self)

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
        if self._snippet_only:
            return "snippet"
        reason = self._extractor.route_skip(method, path)
        if reason is not None:
            self._skip(reason, "%s %s", method, path)
        return reason

    def header_skip(self, request: RequestData) -> str | None:
        """:meth:`request_skip` for what the headers decide, after :meth:`route_skip` (counted)."""
        reason = self._extractor.header_skip(request)
        if reason is not None:
            self._skip(reason, "%s %s", request.method, request.path)
        return reason

    def response_skip(self, status: int, content_type: str | None) -> str | None:
        """Why a response is no page view: a redirect, an error, not HTML (counted). Adapters
        ask it before :meth:`header_skip`, so such a response copies no header."""
        reason = self._extractor.response_skip(status, content_type)
        if reason is not None:
            self._skip(reason, "status %s, Content-Type %s", status, content_type)
        return reason

    @property
    def response_events(self) -> bool:
        """Whether ``not_found_event`` or ``download_event`` is on (see :meth:`response_event`)."""
        return self._extractor.response_events

    def response_event(
        self, request: RequestData, status: int, disposition: str | None = None
    ) -> tuple[str, dict[str, str]] | None:
        """The event (name, meta) a navigation's response that is no page view stands for: a
        404, or a file download (``Content-Disposition``); adapters send it as an event."""
        return self._extractor.response_event(request, status, disposition)

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
            self._skip(reason, "status %s, Content-Type %s", status, content_type)
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
        if _capturing or isinstance(draft, str):
            return self._enqueue_or_skip(draft, request)
        return self._sender.put(draft)  # the usual case, in as few calls as it takes

    def track_snippet_page_view(
        self,
        request: RequestData,
        *,
        title: str | None = None,
        tags: Mapping[str, object] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
    ) -> bool:
        """Queue the page hit the snippet reports for the page ``request`` stands for (see
        :mod:`~pirsch_middleware.snippet`): ``exclude_paths`` and the visitor rules apply, not
        the navigation rules (the snippet's request is a script's, not a navigation's)."""
        checked_tags = check_tags(tags) if tags else None
        width, height = _size("screen_width", screen_width), _size("screen_height", screen_height)
        if not self._enabled:
            return False
        if self._extractor.path_excluded(request.path):
            self._skip("excluded_path", "%s %s", request.method, request.path)
            return False
        if not self._visitor_ok(request):
            return False
        return self.queue_page_view(
            request, title=title, tags=checked_tags, screen_width=width, screen_height=height
        )

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
        return self._enqueue_or_skip(draft, request)

    def track_session(self, request: RequestData, *, time: float | None = None) -> bool:
        """Queue a session keep-alive for the visitor of a request."""
        if not self._visitor_ok(request):
            return False
        built = self._extractor.session(request, _time.time() if time is None else time)
        return self._enqueue_or_skip(built, request)

    def count_skip(self, reason: str, request: RequestData | None = None) -> None:
        """Count a record not sent for a reason an adapter decided (see ``SKIP_REASONS``), for
        ``request`` when there is one (named in the DEBUG line and the test helpers)."""
        if request is None:
            self._skip(reason, "decided by the view or the adapter")
        else:
            self._skip(reason, "%s %s", request.method, request.path)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is delivered; ``True`` only if all of it was
        accepted (``False`` if ``timeout`` passed or any of it was dropped)."""
        return self._sender.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flush within ``timeout`` seconds (``shutdown_timeout`` by default) and stop."""
        return self._sender.close(self.settings.shutdown_timeout if timeout is None else timeout)

    def reopen(self) -> None:
        """Track again after :meth:`close` (an ASGI lifespan that ended and started again in
        one process, as test clients do); the counters carry on."""
        self._sender.reopen()

    def stats(self) -> Stats:
        """The counters: queued, pending, sent, retried, maybe_duplicated, dropped and skipped
        by reason, and records sent with a likely wrong address (``address_warnings``)."""
        sender = self._sender.stats()
        return Stats(
            queued=sender.queued,
            pending=sender.pending,
            sent=sender.sent,
            retried=sender.retried,
            maybe_duplicated=sender.maybe_duplicated,
            dropped=sender.dropped,
            skipped=self._skipped.snapshot(),
            address_warnings=self._address_check.snapshot(),
            destinations=sender.destinations,
        )

    def explain(
        self, request: RequestData, status: int = 200, content_type: str | None = "text/html"
    ) -> Verdict:
        """Would this request, answered with ``status`` and ``content_type``, be sent as a page
        view, and if not, which rule says no? Judged by the rules the adapters use, in their
        order, without counting or sending anything (``before_send`` is not run)."""
        return explain(
            self._extractor,
            self._enabled,
            request,
            status,
            content_type,
            snippet_only=self._snippet_only,
        )

    def _skip(self, reason: str, subject: str, *args: object) -> None:
        """Count a skip; at DEBUG level, say why (at most once a second per reason). The message
        is made only when someone reads it: an asset or a JSON answer pays for no more."""
        self._skipped.add(reason)
        if skip_listeners or logger.isEnabledFor(logging.DEBUG):
            self._tell(reason, subject, *args)

    def _tell(self, reason: str, subject: str, *args: object) -> None:
        """Why a record is not sent, to the skip listeners and at DEBUG level."""
        if skip_listeners:  # a test capturing records: tell it why this one is not
            for listen in skip_listeners:
                listen(reason, subject % args)
        if logger.isEnabledFor(logging.DEBUG):
            self._skip_log.log(
                logging.DEBUG, reason, "pirsch_middleware: not sent (%s): " + subject, reason, *args
            )

    def _visitor_ok(self, request: RequestData) -> bool:
        if not self._enabled:
            return False
        reason = self._extractor.visitor_skip(request)
        if reason is not None:
            self._skip(reason, "%s %s (an event or session)", request.method, request.path)
        return reason is None

    def _enqueue_or_skip(self, built: Record | Draft | str, request: RequestData) -> bool:
        if isinstance(built, str):  # the peer is no IP address (so it is safe to show)
            self._skip(
                built,
                "%s %s: no visitor address from the peer (%r) or a trusted proxy's header",
                request.method,
                request.path,
                request.peer,
            )
            return False
        sink = active_sink()
        if sink is not None:  # a test capturing what would be sent: build it now
            record = self._complete(built)
            if record is None:
                return False
            sink(record)
            return True
        return self._sender.put(built)

    def _ready(self, item: Record | Draft) -> Ready | None:
        """The kind and JSON body to send for a queued item (the sender thread calls this);
        ``None`` when it is skipped or dropped (and counted). Without a ``before_send`` hook no
        record is built: the body comes straight from the draft, the same JSON for half the CPU
        (:meth:`~pirsch_middleware.extract.Extractor.body`)."""
        if self._before_send is None and isinstance(item, tuple):
            body = self._built(item, True)
            return None if body is None else (item[0].kind, body)
        record = self._complete(item)
        if record is None:
            return None
        try:
            return record.kind, record.payload()
        except Exception:  # before_send returned something that is no record
            self._log.warning(
                "before_send", "pirsch_middleware: before_send returned no record", exc_info=True
            )
            self._sender.count_drop("before_send_error")
            return None

    def _complete(self, item: Record | Draft) -> Record | None:
        """The record to send for a queued item, after ``before_send``; ``None`` when it is
        skipped or dropped (and counted)."""
        if isinstance(item, tuple):
            built = self._built(item, False)
            if built is None:
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
                self._skip("before_send", "before_send returned None")
                return None
            record = changed
        return record

    def _built(self, draft: Draft, as_body: bool) -> Any:
        """The draft's body or record (see ``Extractor.build``); ``None`` when it cannot be built
        (counted, and logged for a bug)."""
        try:
            built = self._extractor.build(draft, as_body)
        except Exception:  # a bug, or data beyond repair: lose this record, not the batch
            self._log.warning(
                "complete", "pirsch_middleware: could not build a record", exc_info=True
            )
            self._sender.count_drop("error")
            return None
        if isinstance(built, str):
            self._skip(built, "no valid Host for the URL")
            return None
        return built


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
