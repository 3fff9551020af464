"""One app answering every path with a page, served through each adapter and its real framework:
ASGI (Starlette through its TestClient), raw WSGI (PEP 3333 calls), Flask (its test client) and
Django (its test client). A request whose headers hold ``If-None-Match`` is answered ``304``; a
path under ``/ch/`` sets an ``Accept-CH`` of its own."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from pirsch_middleware import Tracker
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, settings

PAGE = "<html><head><title>A page</title></head><body>Hello</body></html>"
VISITOR = ("203.0.113.7", 40000)
ADAPTERS = ("asgi", "wsgi", "flask", "django")
#: ``get(path, headers)`` -> the status and the lower-case response headers.
Get = Callable[[str, dict[str, str]], tuple[int, dict[str, str]]]


def answer(path: str, has_etag: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body of every app here: a page; ``304`` to a revalidation; a
    file for ``*.pdf`` and ``*.zip``; a CSV attachment under ``/export``; a ``404`` page under
    ``/missing``."""
    if has_etag:
        return 304, [("ETag", '"v1"')], b""
    if path.endswith((".pdf", ".zip")):
        return 200, [("Content-Type", f"application/{path[-3:]}")], b"%PDF-1.7"
    if "/export" in path:
        disposition = ("Content-Disposition", 'attachment; filename="export.csv"')
        return 200, [("Content-Type", "text/csv"), disposition], b"a,b\n1,2\n"
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if "/missing" in path:
        return 404, headers, PAGE.encode()
    if path.startswith("/ch/"):
        headers.append(("Accept-CH", "Sec-CH-Prefers-Color-Scheme"))
    return 200, headers, PAGE.encode()


@contextmanager
def served(adapter: str, api: FakePirschAPI, **options: Any) -> Iterator[Get]:
    """The app behind ``adapter``, sending inline to ``api``; yields its ``get``."""
    options = {"sync": True, **options}
    if adapter in ("django", "flask"):
        with (_django if adapter == "django" else _flask)(api, options) as get:
            yield get
        return
    tracker = Tracker(settings(api, **options))
    try:
        if adapter == "asgi":
            with _asgi(tracker) as get:
                yield get
        else:
            yield _wsgi(tracker)
    finally:
        tracker.close(2)


@contextmanager
def _asgi(tracker: Tracker) -> Iterator[Get]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from pirsch_middleware.asgi import PirschMiddleware

    async def page(request: Request) -> Response:
        status, headers, body = answer(request.url.path, "if-none-match" in request.headers)
        return Response(body, status, dict(headers))

    app = PirschMiddleware(Starlette(routes=[Route("/{rest:path}", page)]), tracker=tracker)
    with TestClient(app, base_url="https://example.com", client=VISITOR) as client:
        client.headers.clear()  # only the client's own headers, not httpx's defaults

        def get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
            response = client.get(path, headers=headers)
            return response.status_code, {k.lower(): v for k, v in response.headers.items()}

        yield get


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    status, headers, body = answer(environ["PATH_INFO"], "HTTP_IF_NONE_MATCH" in environ)
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]


def _wsgi(tracker: Tracker) -> Get:
    from pirsch_middleware.wsgi import PirschMiddleware

    app = PirschMiddleware(_wsgi_app, tracker=tracker)

    def get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        status, response_headers, _ = wsgi_request(app, "GET", path, headers=headers)
        return status, response_headers

    return get


def wsgi_request(
    app: Any,
    method: str,
    path: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    peer: str = VISITOR[0],
) -> tuple[int, dict[str, str], bytes]:
    """One PEP 3333 call of ``app`` for https://example.com with only the given request
    headers; the status, the lower-case response headers and the body."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": peer,
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "example.com",
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[Any] = []

    def start_response(status: str, pairs: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, pairs))
        return lambda chunk: None

    content = b"".join(app(environ, start_response))
    status, pairs = started[0]
    return int(status[:3]), {k.lower(): v for k, v in pairs}, content


@contextmanager
def _flask(api: FakePirschAPI, options: dict[str, Any]) -> Iterator[Get]:
    from flask import Flask, Response, request

    from pirsch_middleware.flask import Pirsch

    app = Flask("corpus")

    @app.get("/<path:rest>")
    def page(rest: str) -> Response:
        status, headers, body = answer(request.path, "If-None-Match" in request.headers)
        return Response(body, status, headers)

    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, **options)
    client = app.test_client()

    def get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        base = {"REMOTE_ADDR": VISITOR[0], "HTTP_USER_AGENT": ""}  # no Werkzeug user agent
        response = client.get(
            path, headers=headers, environ_base=base, base_url="https://example.com"
        )
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}

    try:
        yield get
    finally:
        app.extensions["pirsch"].tracker.close(2)


@contextmanager
def _django(api: FakePirschAPI, options: dict[str, Any]) -> Iterator[Get]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.test import Client, override_settings

    pirsch = {"access_key": ACCESS_KEY, "base_url": api.base_url, "environ": {}, **options}
    with override_settings(PIRSCH=pirsch):
        client = Client(REMOTE_ADDR=VISITOR[0])

        def get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
            meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
            response = client.get(path, secure=True, HTTP_HOST="example.com", **meta)
            return response.status_code, {k.lower(): v for k, v in response.headers.items()}

        yield get
