"""ASGI middleware: Starlette, FastAPI, Litestar, Quart, Django's ASGI handler, any ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from .context import RequestContext, _current, report_error
from .pageview import merge_accept_ch
from .request import RequestData, asgi_names, asgi_path, asgi_request
from .settings import Settings, SettingsOptions
from .tracker import Tracker

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["PirschMiddleware", "answer_lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PirschMiddleware:
    """Tracks the HTTP requests an ASGI app serves as Pirsch page views.

    ``app = PirschMiddleware(app, access_key="pa_...")`` or, in Starlette and FastAPI,
    ``app.add_middleware(PirschMiddleware, access_key="pa_...")``. Takes a ready ``tracker``, a
    :class:`Settings`, or the settings' options as keywords. The page view is queued when the
    response starts (after its first body chunk when the title is read from it), so streamed and
    server-sent-event responses count when they begin. WebSocket scopes pass through untouched;
    lifespan shutdown flushes the queue.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracker: Tracker | None = None,
        settings: Settings | None = None,
        **options: Unpack[SettingsOptions],
    ) -> None:
        self.app = app
        self.tracker = tracker if tracker is not None else Tracker(settings, **options)
        chosen = self.tracker.settings
        # A should_track rule may read any header; otherwise only those the core reads are decoded.
        names = None if chosen.should_track else asgi_names(chosen.extra_headers())

        def from_scope(source: tuple[Scope, str]) -> RequestData:
            return asgi_request(source[0], source[1], names)

        self._from_scope = from_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._lifespan_send(send)
            await self.app(scope, receive, send)
            return
        try:
            path = asgi_path(scope)
            context = RequestContext(
                self.tracker, scope.get("method", "GET"), path, self._from_scope, (scope, path)
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
                await self.app(scope, receive, _watch(context, send))
        finally:
            _current.reset(token)
            context.finish()

    def _lifespan_send(self, send: Send) -> Send:
        async def send_lifespan(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                tracker = self.tracker
                await _off_loop(lambda: tracker.flush(tracker.settings.shutdown_timeout))
            await send(message)

        return send_lifespan


def _watch(context: RequestContext, send: Send) -> Send:
    """``send``, showing the response's start (and first body chunk) to the context."""
    wants_body = False

    async def send_watched(message: Message) -> None:
        nonlocal wants_body
        kind = message["type"]
        if kind == "http.response.start":
            try:
                content_type = disposition = None
                encoded = False
                for name, value in message.get("headers") or ():
                    key = name.lower()
                    if key == b"content-type":
                        content_type = value.decode("latin-1")
                    elif key == b"content-encoding":
                        encoded = value.strip().lower() != b"identity"
                    elif key == b"content-disposition":
                        disposition = value.decode("latin-1")
                status = int(message["status"])
                wants_body = context.respond(status, content_type, encoded, disposition)
                if context.adds_accept_ch:
                    message["headers"] = _with_accept_ch(message.get("headers") or ())
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
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _off_loop(on_shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    return with_lifespan


async def _off_loop(work: Callable[[], object]) -> None:
    """Wait for ``work`` (a flush) without blocking the event loop (when it is asyncio's)."""
    try:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another event loop, such as trio: block briefly instead
            work()
            return
        await loop.run_in_executor(None, work)
    except Exception:
        report_error("the lifespan shutdown flush")
