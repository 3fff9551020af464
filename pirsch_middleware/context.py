"""The request being tracked: its :class:`RequestContext`, which decides its page view and holds
its events, made current for the length of the request.

Every middleware puts the context in a context variable for the length of a request, so the view
helpers (:mod:`~pirsch_middleware.views`) work the same in every framework, in sync and async
views, in Starlette's thread pool and in Django's sync views under ASGI (both copy the context).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .request import RequestData
from .stats import RateLimitedLog
from .title import charset_of, find_title
from .tracker import Tracker

__all__ = [
    "OutsideRequestError",
    "RequestContext",
    "current",
    "current_request",
    "report_error",
    "tracked_request",
]

_current: ContextVar[RequestContext | None] = ContextVar("pirsch_request", default=None)
_log = RateLimitedLog(30.0)


class OutsideRequestError(RuntimeError):
    """A helper that needs the current request was called outside a tracked request."""


def report_error(where: str) -> None:
    """Log a failure inside tracking (at most once per 30 s per place); it never reaches the app."""
    _log.warning(where, "pirsch_middleware: tracking failed in %s", where, exc_info=True)


class RequestContext:
    """One request on its way through a middleware: decides its page view and holds its events.

    The adapter calls :meth:`respond` at response start, :meth:`body` with the first body chunk
    when ``respond`` asked for it (to read the title), and :meth:`finish` when the request ends.
    Events a view emits before the page view is decided wait here, so Pirsch sees the page view
    first and the events after it, as it would from its JavaScript snippet.
    """

    # No __slots__: state a request never changes stays a class attribute, so making a context
    # (once per request) sets five attributes rather than fourteen.
    title: str | None = None
    tags: dict[str, str] | None = None
    _request: RequestData | None = None
    _decided = False
    _responded = False
    _events: list[dict[str, Any]] | None = None
    _charset = "utf-8"
    time = 0.0
    #: Whether the response (its start just shown to :meth:`respond`) is a page view that should
    #: ask for client hints (the ``accept_ch`` setting).
    adds_accept_ch = False
    #: Whether the app's code may run while the server iterates the response body (a streamed
    #: body): unknown, so yes, unless the adapter learns otherwise (Flask's is_streamed).
    lazy_body = True

    def __init__(
        self,
        tracker: Tracker,
        method: str,
        path: str,
        build: Callable[[Any], RequestData],
        source: Any,
    ) -> None:
        """``build(source)`` makes the request's :class:`RequestData`; it is called only when
        something needs the headers (a successful HTML response to a request the method and path
        do not rule out, or an event), so an asset, an excluded path or a JSON answer never
        copies a header. The header rules (prefetch, DNT, user agent, bots, ``should_track``)
        are therefore judged at response start, after the cheaper response rules."""
        self.tracker = tracker
        self._build = build
        self._source = source
        self.skip_reason: str | None
        try:
            self.skip_reason = tracker.route_skip(method, path)
        except Exception:
            report_error("the request's checks")
            self.skip_reason = "error"
        if self.skip_reason is None:
            self.time = time.time()  # when the page view happened: the request's arrival

    @classmethod
    def of(cls, tracker: Tracker, request: RequestData) -> RequestContext:
        """The context of a ready :class:`RequestData`."""
        return cls(tracker, request.method, request.path, _same, request)

    @property
    def request(self) -> RequestData:
        """The request, built on first use."""
        request = self._request
        if request is None:
            request = self._request = self._build(self._source)
        return request

    @property
    def decided(self) -> bool:
        """Whether the page view was queued or skipped (events are then sent at once)."""
        return self._decided

    def respond(
        self,
        status: int,
        content_type: str | None,
        encoded: bool = False,
        disposition: str | None = None,
    ) -> bool:
        """The response starts; ``True`` asks for the first body chunk to read the title from.
        ``disposition`` is its ``Content-Disposition``, for the download event."""
        self._responded = True
        if self.skip_reason is None:
            try:
                tracker = self.tracker
                # The response rules first: a JSON answer or a redirect copies no header.
                reason = tracker.response_skip(status, content_type)
                if reason is None:
                    request = self._request
                    if request is None:
                        request = self._request = self._build(self._source)
                    reason = tracker.header_skip(request)
                elif tracker.response_events:
                    event = tracker.response_event(self.request, status, disposition)
                    if event is not None:
                        self.add_event({"name": event[0], "meta": event[1]})
                self.skip_reason = reason
            except Exception:  # a should_track predicate that raised, or data beyond repair
                report_error("the request's checks")
                self.skip_reason = "error"
        if self.skip_reason is not None:
            self.finish()
            return False
        settings = self.tracker.settings
        self.adds_accept_ch = settings.accept_ch
        if (
            status == 304  # no body: nothing to read a title from
            or encoded
            or self.title is not None
            or not settings.read_title
        ):
            self.finish()
            return False
        self._charset = charset_of(content_type)
        return True

    def body(self, chunk: bytes) -> None:
        """The first chunk of the body: read the title, then decide."""
        if not self._decided:
            try:
                self.title = find_title(chunk, self._charset)
            except Exception:
                report_error("title")
            self.finish()

    def finish(self) -> None:
        """Queue the page view (if any) and the events that waited for it. Never raises."""
        if self._decided:
            return
        self._decided = True
        try:
            if self._responded and self.skip_reason is None:
                # respond() has judged every rule (and built the request): queue without judging
                # again.
                self.tracker.queue_page_view(
                    self._request or self.request, time=self.time, title=self.title, tags=self.tags
                )
        except Exception:
            report_error("page view")
        events, self._events = self._events, None
        for options in events or ():
            self._event(options)

    def skip(self) -> None:
        """This request is no page view, whatever its response."""
        if self.skip_reason is None:
            self.skip_reason = "view"
            self.tracker.count_skip("view", self.request)

    def add_event(self, options: dict[str, Any]) -> None:
        options.setdefault("time", time.time())
        if self._decided:
            self._event(options)
        elif self._events is None:
            self._events = [options]
        else:
            self._events.append(options)

    def _event(self, options: dict[str, Any]) -> None:
        try:
            self.tracker.track_event(self.request, **options)
        except ValueError as error:
            self.invalid("invalid event", "pirsch_middleware: event not sent: %s", error)
        except Exception:
            report_error("event")

    def invalid(self, kind: str, message: str, error: ValueError) -> None:
        """Count the request as skipped ``invalid`` and log ``message`` with the ``error`` (at
        most once per 30 s per ``kind``): what a view asked for that the API would refuse."""
        self.tracker.count_skip("invalid", self.request)
        _log.warning(kind, message, error)


@contextmanager
def tracked_request(tracker: Tracker, request: RequestData) -> Iterator[RequestContext]:
    """Make ``request`` the current tracked request inside the ``with`` block.

    What the middleware does around each request; useful to call views that emit events from a
    script or a test without a server.
    """
    context = RequestContext.of(tracker, request)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
        context.finish()


def _same(request: RequestData) -> RequestData:
    return request


def current() -> RequestContext:
    """The context of the request being tracked; :class:`OutsideRequestError` outside one."""
    context = _current.get()
    if context is None:
        raise OutsideRequestError(
            "no tracked request: pirsch_middleware's event helpers work inside a request that "
            "passed through a Pirsch middleware (ASGI, WSGI, Django or Flask), or inside "
            "pirsch_middleware.tracked_request()"
        )
    return context


def current_request() -> RequestData:
    """The :class:`RequestData` of the request being tracked."""
    return current().request
