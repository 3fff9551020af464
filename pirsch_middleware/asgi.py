"""ASGI middleware: Starlette, FastAPI, Litestar, Quart, Django's ASGI handler, any ASGI app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from .context import RequestContext, _current, report_error
from .errors import ConfigurationError
from .pageview import merge_accept_ch
from .request import RequestData, asgi_path, asgi_request
from .settings import Settings, SettingsOptions
from .snippet import MAX_BODY, SCRIPT, SnippetProxy, check_routes
from .stats import RateLimitedLog, logger
from .tracker import Tracker
from .views import decorators_above, is_exempt

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["PirschMiddleware", "answer_lifespan", "end_lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_order_log = RateLimitedLog(3600.0)


class PirschMiddleware:
    """Tracks the HTTP requests an ASGI app serves as Pirsch page views.

    ``app = PirschMiddleware(app, access_key="pa_...")`` or, in Starlette and FastAPI,
    ``app.add_middleware(PirschMiddleware, access_key="pa_...")``. Takes a ready ``tracker``, a
    :class:`Settings`, or the settings' options as keywords. The page view is queued when the
    response starts (after its first body chunk when the title is read from it), so streamed and
    server-sent-event responses count when they begin. WebSocket scopes pass through untouched;
    lifespan shutdown flushes the queue (the middleware answers lifespan itself for an app that
    refuses it).

    Bad options do not raise here: Starlette builds its middleware at the first lifespan or
    request event, where an exception would answer every request with a 500. Instead the
    :class:`ConfigurationError` is logged at ERROR, kept in :attr:`error`, fails the lifespan
    start-up (the server refuses to start), and requests pass through untracked.
    """

    #: The configuration error that keeps this middleware from tracking, if any.
    error: ConfigurationError | None = None

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracker: Tracker | None = None,
        settings: Settings | None = None,
        **options: Unpack[SettingsOptions],
    ) -> None:
        self.app = app
        self._snippet: SnippetProxy | None = None
        built: Tracker | None = None
        try:
            self.tracker = built = tracker or Tracker(settings, **options)
            self._snippet = _snippet_of(built, app)
        except ConfigurationError as error:
            logger.error("pirsch_middleware: not tracking: %s", error)
            self.error = error
            if built is not None and tracker is None:
                built.close(0)  # refused for its snippet_prefix: its sender is not needed
            self.tracker = Tracker(Settings(enabled=False, environ={}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                if self.error is not None:
                    await _fail_startup(self.error, receive, send)
                    return
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if self._snippet is not None and await _answer_snippet(self._snippet, scope, receive, send):
            return
        try:
            path = asgi_path(scope)
            context = RequestContext(
                self.tracker, scope.get("method", "GET"), path, _from_scope, (scope, path)
            )
        except Exception:
            report_error("the ASGI middleware")
            await self.app(scope, receive, send)
            return
        token = _current.set(context)
        try:
            if context.skip_reason is not None:
                # No page view whatever the response: nothing to see in it.
                await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, _watch(context, send, scope))
        finally:
            _current.reset(token)
            context.finish()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app's lifespan and end the tracker's work at its shutdown (see
        :func:`end_lifespan`). An app that refuses lifespan (it raises or returns without
        answering, as Django's does) is answered for, so the server still tells us when it
        stops: uvicorn ends the process by re-raising SIGTERM after a graceful shutdown, where
        ``atexit`` never runs."""
        tracker = self.tracker

        def end() -> None:
            end_lifespan(tracker)

        taken: list[Message] = []  # what the app took from the server and left unanswered
        answered = False

        async def receive_noted() -> Message:
            message = await receive()
            taken[:] = [message]
            return message

        async def send_noted(message: Message) -> None:
            nonlocal answered
            answered = True
            if message["type"] == "lifespan.shutdown.complete":
                await _off_loop(end)
            await send(message)

        try:
            await self.app(scope, receive_noted, send_noted)
        except Exception:
            if answered:
                raise
        if not answered:
            await _answer(receive, send, end, taken)


async def _fail_startup(error: ConfigurationError, receive: Receive, send: Send) -> None:
    """Answer the lifespan start-up with the configuration error, then raise it (as
    Starlette's router does with a failing start-up handler): the server stops."""
    message = await receive()
    if message["type"] == "lifespan.startup":
        text = f"pirsch_middleware: {error}"
        await send({"type": "lifespan.startup.failed", "message": text})
    raise error


def _from_scope(source: tuple[Scope, str]) -> RequestData:
    """The request's data, when first needed: at response start for a possible page view, or
    for an event."""
    return asgi_request(*source)


def _watch(context: RequestContext, send: Send, scope: Scope) -> Send:
    """``send``, showing the response's start (and first body chunk) to the context."""
    wants_body = False

    async def send_watched(message: Message) -> None:
        nonlocal wants_body
        kind = message["type"]
        if kind == "http.response.start":
            try:
                endpoint = scope.get("endpoint")  # Starlette's router sets it, FastAPI's too
                if endpoint is not None:
                    _check_endpoint(context, endpoint)
                content_type = disposition = None
                encoded = has_accept_ch = False
                headers = message.get("headers") or ()
                for name, value in headers:
                    key = name.lower()
                    if key == b"content-type":
                        content_type = value.decode("latin-1")
                    elif key == b"content-encoding":
                        encoded = value.strip().lower() != b"identity"
                    elif key == b"content-disposition":
                        disposition = value.decode("latin-1")
                    elif key == b"accept-ch":
                        has_accept_ch = True
                status = int(message["status"])
                wants_body = context.respond(status, content_type, encoded, disposition)
                if context.adds_accept_ch:
                    # Seen in the loop above: the usual response (no Accept-CH) is not walked again.
                    message["headers"] = (
                        _with_accept_ch(headers)
                        if has_accept_ch
                        else [*headers, (b"accept-ch", _ACCEPT_CH)]
                    )
            except Exception:
                report_error("the ASGI middleware")
        elif wants_body:
            wants_body = False
            context.body(message.get("body", b"") if kind == "http.response.body" else b"")
        await send(message)

    return send_watched


_ACCEPT_CH = merge_accept_ch(None).encode("latin-1")  # the usual case: the app sets none


def _with_accept_ch(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A copy of the response headers with the client hints added to ``Accept-CH``."""
    kept, found = [], []
    for pair in headers:  # one pass: this runs for every page view
        if pair[0].lower() == b"accept-ch":
            found.append(pair[1].decode("latin-1"))
        else:
            kept.append(pair)
    value = merge_accept_ch(", ".join(found)).encode("latin-1") if found else _ACCEPT_CH
    kept.append((b"accept-ch", value))
    return kept


def _check_endpoint(context: RequestContext, endpoint: Any) -> None:
    """Honour ``@exempt`` above the route decorator; say when ``@track_event`` sits there, where
    the router calls the plain function and no event can be sent."""
    if is_exempt(endpoint):
        context.skip()
    if getattr(endpoint, "__pirsch_decorated__", None) is None:
        return  # nothing of ours above the route decorator: the common case
    events = {getattr(d, "__pirsch_event__", None) for d in decorators_above(endpoint)} - {None}
    if events:
        name = getattr(endpoint, "__qualname__", repr(endpoint))
        _order_log.warning(
            name,
            "pirsch_middleware: @track_event(%s) above the route decorator of %s sends nothing: "
            "the router calls the undecorated function; put it below @app.get or @app.route",
            ", ".join(sorted(map(repr, events))),
            name,
        )


def _snippet_of(tracker: Tracker, app: Any) -> SnippetProxy | None:
    """The snippet proxy, refused (:class:`ConfigurationError`) when a Starlette route of the
    app (found through the ``app`` attributes of the middleware stack) answers its paths."""
    snippet = SnippetProxy.of(tracker)
    if snippet is None:
        return None
    routes: list[Any] | None = None
    for _ in range(32):  # down the middleware stack to the router
        routes = getattr(app, "routes", None)
        if isinstance(routes, list) or app is None:
            break
        app = getattr(app, "app", None)
    if isinstance(routes, list):
        found = routes

        def match(path: str) -> object | None:
            for route in found:
                regex = getattr(route, "path_regex", None)
                if regex is not None and regex.match(path):
                    return cast(object, route)
            return None

        check_routes(snippet, match, "a route of the app")
    return snippet


async def _answer_snippet(
    snippet: SnippetProxy, scope: Scope, receive: Receive, send: Send
) -> bool:
    """Answer a request of the snippet (``True``), or leave it to the app (``False``)."""
    try:
        endpoint = snippet.endpoint(asgi_path(scope))
        if endpoint is None:
            return False
        request = asgi_request(scope)
        body = b""
        if snippet.wants_body(endpoint, request.method):
            chunks, size, more = [], 0, True
            while more and size <= MAX_BODY:
                message = await receive()
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                more = message["type"] == "http.request" and message.get("more_body", False)
            body = b"".join(chunks)
        if endpoint == SCRIPT and not snippet.script_ready():
            # The very first fetch may take a moment: wait for it off the event loop.
            answer = await asyncio.to_thread(snippet.answer, endpoint, request, body)
        else:
            answer = snippet.answer(endpoint, request, body)
    except Exception:
        report_error("the snippet proxy")
        return False
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers.append((b"content-length", answer.content_length.encode("latin-1")))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    return True


def end_lifespan(*trackers: Tracker) -> None:
    """At lifespan shutdown, what :meth:`Tracker.close` does: deliver what the trackers hold
    within the longest ``shutdown_timeout`` (seconds; a failed batch is tried again until shortly
    before it), and count what is left, in flight or queued, as dropped (``shutdown``), logged
    once. Then each tracker accepts records again, with its counters kept: the app may be served
    again in this process (a test client entered twice, say)."""
    timeout = max((tracker.settings.shutdown_timeout for tracker in trackers), default=0.0)
    deadline = time.monotonic() + timeout
    for tracker in trackers:
        tracker.close(max(0.0, deadline - time.monotonic()))
    for tracker in trackers:
        tracker.reopen()


def answer_lifespan(app: ASGIApp, on_shutdown: Callable[[], object]) -> ASGIApp:
    """Wrap an app that does not speak the lifespan protocol (Django's) so that the server's
    shutdown runs ``on_shutdown`` (in a thread) before the process ends.

    Servers such as uvicorn end the process by re-raising SIGTERM after a graceful shutdown, so
    ``atexit`` hooks do not run there: lifespan shutdown is the last moment to deliver.
    """

    async def with_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        await _answer(receive, send, on_shutdown, [])

    return with_lifespan


async def _answer(
    receive: Receive, send: Send, on_shutdown: Callable[[], object], taken: list[Message]
) -> None:
    """Answer the lifespan protocol for an app; ``taken``: a message the app already received."""
    while True:
        message = taken.pop() if taken else await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _off_loop(on_shutdown)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _off_loop(work: Callable[[], object]) -> None:
    """Wait for ``work`` (the shutdown's delivery) without blocking the event loop (when it
    is asyncio's)."""
    try:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another event loop, such as trio: block briefly instead
            work()
            return
        await loop.run_in_executor(None, work)
    except Exception:
        report_error("the lifespan shutdown flush")
