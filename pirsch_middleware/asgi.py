"""ASGI middleware: Starlette, FastAPI, Litestar, Quart, Django's ASGI handler, any ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from .context import RequestContext, _current, report_error
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
    lifespan shutdown flushes the queue (the middleware answers lifespan itself for an app that
    refuses it).
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
        names = None if chosen.should_track else asgi_names(chosen.ip_headers)

        def from_scope(source: tuple[Scope, str]) -> RequestData:
            return asgi_request(source[0], source[1], names)

        self._from_scope = from_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
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

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app's lifespan and flush at its shutdown. An app that refuses lifespan (it
        raises or returns without answering, as Django's does) is answered for, so the server
        still tells us when it stops: uvicorn ends the process by re-raising SIGTERM after a
        graceful shutdown, where ``atexit`` never runs."""
        tracker = self.tracker

        def flush() -> None:
            tracker.flush(tracker.settings.shutdown_timeout)

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
                await _off_loop(flush)
            await send(message)

        try:
            await self.app(scope, receive_noted, send_noted)
        except Exception:
            if answered:
                raise
        if not answered:
            await _answer(receive, send, flush, taken)


def _watch(context: RequestContext, send: Send) -> Send:
    """``send``, showing the response's start (and first body chunk) to the context."""
    wants_body = False

    async def send_watched(message: Message) -> None:
        nonlocal wants_body
        kind = message["type"]
        if kind == "http.response.start":
            try:
                content_type: str | None = None
                encoded = False
                for name, value in message.get("headers") or ():
                    key = name.lower()
                    if key == b"content-type":
                        content_type = value.decode("latin-1")
                    elif key == b"content-encoding":
                        encoded = value.strip().lower() != b"identity"
                wants_body = context.respond(int(message["status"]), content_type, encoded)
            except Exception:
                report_error("the ASGI middleware")
        elif wants_body:
            wants_body = False
            context.body(message.get("body", b"") if kind == "http.response.body" else b"")
        await send(message)

    return send_watched


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
