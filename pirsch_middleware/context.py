"""The request being tracked, and what a view can do with it: events, keep-alives, title, tags.

Every middleware puts a :class:`RequestContext` in a context variable for the length of a
request, so the helpers here work the same in every framework, in sync and async views, in
Starlette's thread pool and in Django's sync views under ASGI (both copy the context).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from .records import check_meta, check_tags
from .request import RequestData
from .stats import RateLimitedLog
from .title import charset_of, find_title
from .tracker import Tracker

__all__ = [
    "OutsideRequestError",
    "RequestContext",
    "current_request",
    "event",
    "exempt",
    "keep_alive",
    "set_tags",
    "set_title",
    "skip_page_view",
    "track_event",
    "tracked_request",
]

_F = TypeVar("_F", bound=Callable[..., Any])
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
            self.tracker.count_skip("invalid", self.request)
            _log.warning("invalid event", "pirsch_middleware: event not sent: %s", error)
        except Exception:
            report_error("event")


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


def event(
    name: str,
    *,
    meta: Mapping[str, object] | None = None,
    duration: float | None = None,
    non_interactive: bool = False,
    title: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> None:
    """Send an event for the current request (after its page view, if it has one).

    Arguments the API would refuse are logged and counted as skipped ``"invalid"``: an event
    never raises into a view, except :class:`OutsideRequestError` outside a tracked request.
    """
    current().add_event(
        {
            "name": name,
            "meta": meta,
            "duration": duration,
            "non_interactive": non_interactive,
            "title": title,
            "tags": tags,
        }
    )


def keep_alive() -> None:
    """Extend the visitor's session without a page view (Pirsch's session endpoint)."""
    context = current()
    try:
        context.tracker.track_session(context.request)
    except Exception:
        report_error("keep_alive")


def set_title(title: str) -> None:
    """The title of the current request's page view (instead of the one read from the body)."""
    current().title = str(title)


def set_tags(tags: Mapping[str, object]) -> None:
    """Tags of the current request's page view; tags the API would refuse are logged, not set."""
    context = current()
    try:
        context.tags = check_tags(tags)
    except ValueError as error:
        context.tracker.count_skip("invalid", context.request)
        _log.warning("invalid tags", "pirsch_middleware: tags not set: %s", error)


def skip_page_view() -> None:
    """The current request is no page view (its events are still sent)."""
    current().skip()


def exempt(view: _F) -> _F:
    """Decorate a view (sync or async) whose requests are no page views.

    Below the route decorator it wraps the view. Above it (``@exempt`` over ``@app.route`` or
    ``@app.get``), where the framework has already registered the plain function, it marks that
    function: Flask's extension and the ASGI middleware (Starlette, FastAPI) look the route's
    function up per request, so the order does not matter there.
    """
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def exempt_async(*args: Any, **kwargs: Any) -> Any:
            skip_page_view()
            return await view(*args, **kwargs)

        return _mark(view, cast(_F, exempt_async), exempt=True)

    @functools.wraps(view)
    def exempt_sync(*args: Any, **kwargs: Any) -> Any:
        skip_page_view()
        return view(*args, **kwargs)

    return _mark(view, cast(_F, exempt_sync), exempt=True)


def _mark(view: Any, decorated: _F, *, exempt: bool = False) -> _F:
    """Remember on ``view`` the function decorating it (see :func:`outermost`)."""
    with suppress(AttributeError, TypeError):  # a builtin or a bound method takes none
        if exempt:
            setattr(decorated, "__pirsch_exempt__", True)  # noqa: B010
            setattr(view, "__pirsch_exempt__", True)  # noqa: B010
        setattr(view, "__pirsch_decorated__", decorated)  # noqa: B010
    return decorated


def decorators_above(view: Any) -> list[Any]:
    """The pirsch_middleware decorators applied to ``view`` after a framework registered it
    (above its route decorator), innermost first."""
    chain: list[Any] = []
    while len(chain) < 16:  # our own decorators; bounded against a cycle
        decorated = getattr(view, "__pirsch_decorated__", None)
        if decorated is None or decorated is view:
            break
        chain.append(decorated)
        view = decorated
    return chain


def outermost(view: Any) -> Any:
    """The outermost pirsch_middleware decorator of ``view`` (``view`` itself if none): what a
    route should call when the decorators sit above the route decorator."""
    chain = decorators_above(view)
    return chain[-1] if chain else view


def is_exempt(view: Any) -> bool:
    """Whether ``view`` was decorated with :func:`exempt`, above or below its route."""
    return bool(getattr(view, "__pirsch_exempt__", False))


def track_event(
    name: str,
    *,
    meta: Mapping[str, object] | Callable[[Any], Mapping[str, object] | None] | None = None,
    duration: float | bool | None = None,
    non_interactive: bool = False,
) -> Callable[[_F], _F]:
    """Decorate a view (sync or async) to send an event each time it returns.

    ``meta`` is a mapping, or a callable that receives the view's result and returns one;
    ``duration=True`` measures the view in seconds. A view that raises sends no event. The
    arguments are checked here, when the module defining the view is imported.

    Put it below the route decorator (``@app.route`` / ``@app.get`` first, then
    ``@track_event``). Above it, Flask's extension still calls the decorated view; Starlette and
    FastAPI call the plain function, and the ASGI middleware logs a warning naming the view.
    """
    if callable(name):
        raise TypeError(
            'track_event needs an event name: write @track_event("Signup") above the view, '
            "not a bare @track_event"
        )
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"track_event: name: expected a non-empty event name, got {name!r}")
    if meta is not None and not callable(meta):
        check_meta(meta)
    if duration is not None and not isinstance(duration, bool | int | float):
        raise ValueError(f"track_event: duration: expected seconds or True, got {duration!r}")
    measure = duration is True

    def emit(context: RequestContext, result: Any, started: float) -> None:
        try:
            values = meta(result) if callable(meta) else meta
        except Exception:
            report_error(f"the meta callable of track_event({name!r})")
            values = None
        seconds = time.perf_counter() - started if measure else duration or None
        context.add_event(
            {
                "name": name,
                "meta": values,
                "duration": seconds,
                "non_interactive": non_interactive,
            }
        )

    def decorate(view: _F) -> _F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def tracked_async(*args: Any, **kwargs: Any) -> Any:
                context = current()
                started = time.perf_counter()
                result = await view(*args, **kwargs)
                emit(context, result, started)
                return result

            tracked_async.__pirsch_event__ = name  # type: ignore[attr-defined]
            return _mark(view, cast(_F, tracked_async))

        @functools.wraps(view)
        def tracked_sync(*args: Any, **kwargs: Any) -> Any:
            context = current()
            started = time.perf_counter()
            result = view(*args, **kwargs)
            emit(context, result, started)
            return result

        tracked_sync.__pirsch_event__ = name  # type: ignore[attr-defined]
        return _mark(view, cast(_F, tracked_sync))

    return decorate
