"""An app with one page, ``/page``, served through each adapter and its real framework with the
snippet proxy on: ASGI (Starlette's TestClient), raw WSGI (PEP 3333 calls), Flask (its test
client) and Django (its test client). ``call`` sends any method, query, headers and body from
any peer address and returns the status, the lower-case headers and the body."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from pirsch_middleware import Tracker
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, settings
from .harness import wsgi_request

PAGE = b"<html><head><title>A page</title></head><body>Hello</body></html>"
VISITOR = "203.0.113.7"
ADAPTERS = ("asgi", "wsgi", "flask", "django")
Reply = tuple[int, dict[str, str], bytes]


class Call(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        peer: str = VISITOR,
    ) -> Reply: ...


@contextmanager
def served(adapter: str, api: FakePirschAPI, **options: Any) -> Iterator[tuple[Call, Tracker]]:
    """The app behind ``adapter``, sending inline to ``api``; yields its ``call`` and tracker."""
    options = {"sync": True, "snippet": "only", **options}
    if adapter == "django":
        with _django(api, options) as served_django:
            yield served_django
        return
    if adapter == "flask":
        with _flask(api, options) as served_flask:
            yield served_flask
        return
    tracker = Tracker(settings(api, **options))
    try:
        yield (_asgi(tracker) if adapter == "asgi" else _wsgi(tracker)), tracker
    finally:
        tracker.close(2)


def _asgi(tracker: Tracker) -> Call:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from pirsch_middleware.asgi import PirschMiddleware

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    app = PirschMiddleware(Starlette(routes=[Route("/page", page)]), tracker=tracker)
    assert app.error is None

    def call(
        method: str,
        path: str,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        peer: str = VISITOR,
    ) -> Reply:
        with TestClient(app, base_url="https://example.com", client=(peer, 40000)) as client:
            client.headers.clear()  # only the caller's headers, not httpx's defaults
            target = f"{path}?{query}" if query else path
            response = client.request(method, target, headers=headers or {}, content=body)
        lower = {k.lower(): v for k, v in response.headers.items()}
        return response.status_code, lower, response.content

    return call


def _wsgi(tracker: Tracker) -> Call:
    from pirsch_middleware.wsgi import PirschMiddleware

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        found = environ["PATH_INFO"] == "/page"
        start_response("200 OK" if found else "404 Not Found", [("Content-Type", "text/html")])
        return [PAGE if found else b"not found"]

    app = PirschMiddleware(application, tracker=tracker)

    def call(
        method: str,
        path: str,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        peer: str = VISITOR,
    ) -> Reply:
        return wsgi_request(app, method, path, query, headers, body, peer)

    return call


@contextmanager
def _flask(api: FakePirschAPI, options: dict[str, Any]) -> Iterator[tuple[Call, Tracker]]:
    from flask import Flask

    from pirsch_middleware.flask import Pirsch

    app = Flask("snippet")

    @app.get("/page")
    def page() -> bytes:
        return PAGE

    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, **options)
    client = app.test_client()

    def call(
        method: str,
        path: str,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        peer: str = VISITOR,
    ) -> Reply:
        base = {"REMOTE_ADDR": peer, "HTTP_USER_AGENT": ""}  # no Werkzeug user agent
        response = client.open(
            path,
            method=method,
            query_string=query,
            headers=headers or {},
            data=body,
            environ_base=base,
            base_url="https://example.com",
        )
        lower = {k.lower(): v for k, v in response.headers.items()}
        return response.status_code, lower, response.get_data()

    tracker = app.extensions["pirsch"].tracker
    try:
        yield call, tracker
    finally:
        tracker.close(2)


@contextmanager
def _django(api: FakePirschAPI, options: dict[str, Any]) -> Iterator[tuple[Call, Tracker]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.test import Client, override_settings

    from pirsch_middleware.django.middleware import tracker_for

    pirsch = {"access_key": ACCESS_KEY, "base_url": api.base_url, "environ": {}, **options}
    with override_settings(PIRSCH=pirsch):
        tracker = tracker_for(pirsch)[0]

        def call(
            method: str,
            path: str,
            query: str = "",
            headers: dict[str, str] | None = None,
            body: bytes = b"",
            peer: str = VISITOR,
        ) -> Reply:
            meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()}
            target = f"{path}?{query}" if query else path
            response = Client(REMOTE_ADDR=peer).generic(
                method,
                target,
                body,
                content_type="text/plain;charset=UTF-8",
                secure=True,
                HTTP_HOST="example.com",
                **meta,
            )
            lower = {k.lower(): v for k, v in response.headers.items()}
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            return response.status_code, lower, content

        yield call, tracker
