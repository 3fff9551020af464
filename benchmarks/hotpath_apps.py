"""The trivial apps ``hotpath.py`` times, and the drivers that call them in-process.

Each driver is a ``Runner``: called with a request count, it serves that many requests of one
path in a tight loop and returns (wall µs, the calling thread's CPU µs) per request. A driver
adds as little of its own as the interface allows, so that what it measures is the framework's
work and the middleware's, not the driver's noise.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from _support import ACCESS_KEY, BROWSER

PAGE = "<!doctype html><html><head><title>Pricing &amp; plans</title></head><body>hi</body></html>"
PATHS = {"page": "/pricing", "asset": "/static/app.css", "json": "/api/items"}
HIT = {
    "url": "https://example.com/pricing?a=1",
    "ip": "203.0.113.7",
    "user_agent": dict(BROWSER)["user-agent"],
    "accept_language": dict(BROWSER)["accept-language"],
    "referrer": dict(BROWSER)["referer"],
    "title": "Pricing & plans",
}
# (wall µs, main thread's CPU µs) per request over n requests
Runner = Callable[[int], tuple[float, float]]


def per_request(start: float, cpu: float, n: int) -> tuple[float, float]:
    return (time.perf_counter() - start) / n * 1e6, (time.thread_time() - cpu) / n * 1e6


# ASGI: a trivial Starlette app


class EmptyASGI:
    """The floor: a pure ASGI middleware that does nothing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class PostPerHitASGI:
    """The design of the official SDKs, for reference: one synchronous POST per page view."""

    def __init__(self, app: Any, url: str) -> None:
        import httpx

        self.app = app
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ACCESS_KEY}"})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        self.client.post("/api/v1/hit", json=HIT)


def starlette_app(*middleware: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def page(request: Any) -> Any:
        return HTMLResponse(PAGE)

    async def items(request: Any) -> Any:
        return JSONResponse({"ok": True})

    async def css(request: Any) -> Any:
        return PlainTextResponse("body {}", media_type="text/css")

    routes = [Route("/pricing", page), Route("/api/items", items), Route("/static/app.css", css)]
    return Starlette(routes=routes, middleware=list(middleware))


def asgi_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(k.encode(), v.encode()) for k, v in BROWSER],
        "client": ("203.0.113.7", 50000),
        "server": ("10.0.0.1", 443),
    }


def asgi_runner(app: Any, path: str, loop: asyncio.AbstractEventLoop) -> Runner:
    """Calls the ASGI app as a server would: ``receive`` gives the request, then waits (a client
    that stays connected) until cancelled; ``send`` drops the messages."""
    scope = asgi_scope(path)
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    async def run(n: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.thread_time()
        for _ in range(n):
            sent = False

            async def receive() -> Any:
                nonlocal sent
                if not sent:
                    sent = True
                    return request
                await asyncio.Event().wait()  # no disconnect; cancelled when done
                return {"type": "http.disconnect"}

            await app(dict(scope), receive, send)
        return per_request(start, cpu, n)

    return lambda n: loop.run_until_complete(run(n))


# WSGI: a trivial Flask app


class PostPerHitWSGI:
    """The design of the official SDKs, for reference: one synchronous POST per page view."""

    def __init__(self, app: Any, url: str) -> None:
        import httpx

        self.app = app
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ACCESS_KEY}"})

    def __call__(self, environ: Any, start_response: Any) -> Any:
        result = self.app(environ, start_response)
        self.client.post("/api/v1/hit", json=HIT)
        return result


class EmptyWSGI:
    """The floor: a WSGI middleware that does nothing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


def flask_app() -> Any:
    from flask import Flask, Response

    app = Flask("bench", static_folder=None)
    app.add_url_rule("/pricing", "page", lambda: PAGE)
    app.add_url_rule("/api/items", "items", lambda: {"ok": True})
    app.add_url_rule("/static/app.css", "css", lambda: Response("body {}", mimetype="text/css"))
    return app


def environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "a=1",
        "REMOTE_ADDR": "203.0.113.7",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in BROWSER},
    }


def wsgi_runner(app: Any, path: str) -> Runner:
    base = environ(path)

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return None

    def run(n: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.thread_time()
        for _ in range(n):
            result: Iterable[bytes] = app(dict(base), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return per_request(start, cpu, n)

    return run


# Django, sync (WSGIHandler) and async (ASGIHandler)

DJANGO_EMPTY = "hotpath_apps.EmptyDjango"
DJANGO_PIRSCH = "pirsch_middleware.django.PirschMiddleware"
DJANGO_LEAST = "peers.LeastDjango"
DJANGO_POSTHOG = "peers.PosthogDjango"
# The URL confs: sync views for the WSGI handler, async views for the ASGI one (a sync view
# under ASGI runs in a worker thread: a hop per request, the same with or without middleware,
# whose jitter is larger than what the rows measure).
URLCONF = {False: "hotpath_urls_sync", True: "hotpath_urls_async"}


class EmptyDjango:
    """The floor: a sync- and async-capable Django middleware that does nothing."""

    sync_capable = async_capable = True

    def __init__(self, get_response: Any) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


def _urlconf(name: str, is_async: bool) -> None:
    from django.http import HttpResponse, JsonResponse
    from django.urls import path

    answers: dict[str, Callable[[], Any]] = {
        "pricing": lambda: HttpResponse(PAGE),
        "api/items": lambda: JsonResponse({"ok": True}),
        "static/app.css": lambda: HttpResponse("body {}", content_type="text/css"),
    }

    def view(answer: Callable[[], Any]) -> Callable[[Any], Any]:
        if not is_async:
            return lambda request: answer()

        async def async_view(request: Any) -> Any:
            return answer()

        return async_view

    module = types.ModuleType(name)
    module.urlpatterns = [path(route, view(answer)) for route, answer in answers.items()]  # type: ignore[attr-defined]
    sys.modules[name] = module


def setup_django(pirsch: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    for is_async, name in URLCONF.items():
        _urlconf(name, is_async)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",  # noqa: S106
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=URLCONF[False],
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        PIRSCH=pirsch,
    )
    django.setup()


def django_handler(middleware: list[str], pirsch: dict[str, Any], is_async: bool) -> Any:
    from django.conf import settings
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    settings.MIDDLEWARE = middleware
    settings.PIRSCH = pirsch
    return ASGIHandler() if is_async else WSGIHandler()


def django_asgi_runner(handler: Any, path: str, loop: asyncio.AbstractEventLoop) -> Runner:
    """Django's ``ASGIHandler`` minus its transport: per request ``create_request`` (the
    ``ASGIRequest`` with its ``META``), ``get_response_async`` (URL resolution, the whole async
    middleware chain, the view: the path an ASGI server's request takes through Django), then
    ``send_response`` to a ``send`` that drops the messages, and ``close()``. Left out, being the
    same with or without a middleware and far noisier than one: spooling the body to a temporary
    file, the ``request_started`` signal, the disconnect listener task and ``asyncio.wait`` on
    two tasks, and the thread hop in which ``handle()`` closes the response."""
    scope = asgi_scope(path)

    async def send(message: Any) -> None:
        pass

    async def run(n: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.thread_time()
        for _ in range(n):
            request, _ = handler.create_request(dict(scope), io.BytesIO())
            response = await handler.get_response_async(request)
            await handler.send_response(response, send)
            response.close()
        return per_request(start, cpu, n)

    return lambda n: loop.run_until_complete(run(n))


def django_runner(
    handler: Any, path: str, pirsch: dict[str, Any], is_async: bool, loop: asyncio.AbstractEventLoop
) -> Runner:
    from django.conf import settings

    inner = django_asgi_runner(handler, path, loop) if is_async else wsgi_runner(handler, path)

    def run(n: int) -> tuple[float, float]:
        # The tracker this handler's middleware reads, and the views of its kind.
        settings.PIRSCH = pirsch
        settings.ROOT_URLCONF = URLCONF[is_async]
        return inner(n)

    return run
