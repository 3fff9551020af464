"""A page view's time is when its request arrived, not when the response started, in every
adapter: each view here takes a second, and the recorded time must be within a few tenths of a
second of the request's start (pirsch-facts.md: ``time`` is when the request reached the server,
and Pirsch derives time on page and session length from it)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from django.test import AsyncClient, Client, override_settings  # noqa: E402
from flask import Flask  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import HTMLResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from pirsch_middleware._time import parse_time  # noqa: E402
from pirsch_middleware.asgi import PirschMiddleware as ASGIMiddleware  # noqa: E402
from pirsch_middleware.flask import Pirsch  # noqa: E402
from pirsch_middleware.testing import FakePirschAPI  # noqa: E402
from pirsch_middleware.wsgi import PirschMiddleware as WSGIMiddleware  # noqa: E402

from .conftest import ACCESS_KEY, BROWSER_HEADERS  # noqa: E402
from .django_urls import SLOW  # noqa: E402

# How late the recorded time may be after the test sent the request: far less than SLOW, so a
# time taken at the response fails, with room for a loaded machine.
BOUND = 0.3
PAGE = "<title>Slow</title>"
VISITOR = "203.0.113.7"


def starlette(api: FakePirschAPI, make_tracker: Any) -> None:
    async def slow(request: Request) -> HTMLResponse:
        await asyncio.sleep(SLOW)
        return HTMLResponse(PAGE)

    app = ASGIMiddleware(Starlette(routes=[Route("/", slow)]), tracker=make_tracker(api, sync=True))
    with TestClient(app, client=(VISITOR, 5000)) as client:
        assert client.get("/", headers=BROWSER_HEADERS).status_code == 200


def wsgi(api: FakePirschAPI, make_tracker: Any) -> None:
    def slow(environ: Any, start_response: Any) -> list[bytes]:
        time.sleep(SLOW)
        start_response("200 OK", [("Content-Type", "text/html")])
        return [PAGE.encode()]

    app = WSGIMiddleware(slow, tracker=make_tracker(api, sync=True))
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",
        "REMOTE_ADDR": VISITOR,
        "HTTP_USER_AGENT": BROWSER_HEADERS["user-agent"],
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return lambda data: None

    assert b"".join(app(environ, start_response)) == PAGE.encode()


def flask(api: FakePirschAPI, make_tracker: Any) -> None:
    app = Flask(__name__, static_folder=None)
    app.config.update(PIRSCH_ACCESS_KEY=ACCESS_KEY, PIRSCH_BASE_URL=api.base_url, PIRSCH_SYNC=True)
    Pirsch(app)

    @app.get("/")
    def slow() -> str:
        time.sleep(SLOW)
        return PAGE

    try:
        response = app.test_client().get(
            "/", headers=BROWSER_HEADERS, environ_base={"REMOTE_ADDR": VISITOR}
        )
        assert response.status_code == 200
    finally:
        app.extensions["pirsch"].tracker.close(2)


def _django_settings(api: FakePirschAPI) -> Any:
    options = {"access_key": ACCESS_KEY, "base_url": api.base_url, "sync": True, "environ": {}}
    return override_settings(PIRSCH=options)


def django_sync(api: FakePirschAPI, make_tracker: Any) -> None:
    with _django_settings(api):
        assert Client(REMOTE_ADDR=VISITOR).get("/slow", headers=BROWSER_HEADERS).status_code == 200


def django_async(api: FakePirschAPI, make_tracker: Any) -> None:
    async def visit() -> int:
        response = await AsyncClient(REMOTE_ADDR=VISITOR).get(
            "/async-slow", headers=BROWSER_HEADERS
        )
        status: int = response.status_code
        return status

    with _django_settings(api):
        assert asyncio.run(visit()) == 200


@pytest.mark.parametrize("serve", [starlette, wsgi, flask, django_sync, django_async])
def test_page_view_time_is_the_request_arrival(
    api: FakePirschAPI, make_tracker: Any, serve: Callable[[FakePirschAPI, Any], None]
) -> None:
    before = time.time()
    serve(api, make_tracker)
    after = time.time()
    assert after - before >= SLOW  # the view did take that long
    (hit,) = api.hits
    arrived = parse_time(hit["time"]).timestamp()
    # The API's time has milliseconds, cut (not rounded) from the arrival.
    assert before - 0.001 <= arrived <= before + BOUND, (arrived - before, hit["time"])
