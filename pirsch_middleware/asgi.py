"""ASGI middleware: Starlette, FastAPI, Litestar, Quart, Django's ASGI handler, any ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from .context import RequestContext, _current, report_error
from .request import asgi_request
from .settings import Settings, SettingsOptions
from .tracker import Tracker

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["PirschMiddleware"]

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._lifespan_send(send)
            await self.app(scope, receive, send)
            return
        try:
            context = RequestContext(self.tracker, asgi_request(scope))
        except Exception:
            report_error("the ASGI middleware")
            await self.app(scope, receive, send)
            return
        wants_body = False

        async def send_tracked(message: Message) -> None:
            nonlocal wants_body
            if message["type"] == "http.response.start":
                try:
                    wants_body = context.respond(*_response_info(message))
                except Exception:
                    report_error("the ASGI middleware")
            elif wants_body:
                wants_body = False
                context.body(
                    message.get("body", b"") if message["type"] == "http.response.body" else b""
                )
            await send(message)

        token = _current.set(context)
        try:
            await self.app(scope, receive, send_tracked)
        finally:
            _current.reset(token)
            context.finish()

    def _lifespan_send(self, send: Send) -> Send:
        async def send_lifespan(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await _off_loop(self.tracker.flush, self.tracker.settings.shutdown_timeout)
            await send(message)

        return send_lifespan


def _response_info(message: Message) -> tuple[int, str | None, bool]:
    content_type: str | None = None
    encoded = False
    for name, value in message.get("headers") or ():
        key = name.lower()
        if key == b"content-type":
            content_type = value.decode("latin-1")
        elif key == b"content-encoding":
            encoded = value.strip().lower() != b"identity"
    return int(message["status"]), content_type, encoded


async def _off_loop(flush: Callable[[float], bool], timeout: float) -> None:
    """Wait for the queue to empty without blocking the event loop (when it is asyncio's)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop, such as trio: block briefly instead
        flush(timeout)
        return
    try:
        await loop.run_in_executor(None, flush, timeout)
    except Exception:
        report_error("the lifespan shutdown flush")
