"""@exempt and @track_event above the route decorator: honoured where the framework allows it
(Flask; exempt under Starlette and FastAPI), said out loud where it cannot be (track_event under
Starlette and FastAPI, whose routers call the plain function), and a bare @track_event gets a message that says what to write."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from flask import Flask
from starlette.testclient import TestClient

from pirsch_middleware import exempt, track_event
from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.flask import Pirsch
from pirsch_middleware.testing import Capture

from .conftest import BROWSER_HEADERS

PAGE = "<title>Page</title>"


def test_flask_decorators_above_the_route_work(pirsch_capture: Capture) -> None:
    app = Flask(__name__)
    pirsch = Pirsch(app, environ={})

    @pirsch.exempt
    @app.route("/health")
    def health() -> str:
        return PAGE

    @track_event("Signup", meta=lambda result: {"plan": result[-3:]})
    @app.route("/signup")
    def signup() -> str:
        return "<title>Thanks</title>pro"

    @app.route("/")
    def home() -> str:
        return PAGE

    client = app.test_client()
    for path in ("/health", "/health", "/signup", "/"):
        assert client.get(path, headers=BROWSER_HEADERS).status_code == 200
    assert [h.url for h in pirsch_capture.hits] == ["http://localhost/signup", "http://localhost/"]
    pirsch_capture.assert_event("Signup", meta={"plan": "pro"})
    assert app.extensions["pirsch"].tracker.stats().skipped == {"view": 2}


def test_flask_hook_for_decorators_above_the_route_leaves_after_the_first_request() -> None:
    # Flask calls every before_request hook on every request (about a microsecond each): the
    # one-off hook that points routes at their decorated views must not stay behind.
    app = Flask(__name__)
    own = app.before_request(lambda: None)
    Pirsch(app, environ={}, enabled=False)
    app.route("/")(lambda: PAGE)
    assert len(app.before_request_funcs[None]) == 2
    client = app.test_client()
    for _ in range(2):
        assert client.get("/", headers=BROWSER_HEADERS).status_code == 200
    assert app.before_request_funcs[None] == [own]


def test_fastapi_exempt_above_the_route_works(pirsch_capture: Capture) -> None:
    app = FastAPI()
    app.add_middleware(PirschMiddleware, environ={})

    @exempt
    @app.get("/health", response_class=HTMLResponse)
    async def health() -> str:
        return PAGE

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return PAGE

    with TestClient(app, client=("203.0.113.7", 5000)) as client:
        client.get("/health", headers=BROWSER_HEADERS)
        client.get("/", headers=BROWSER_HEADERS)
    assert [h.url for h in pirsch_capture.hits] == ["http://testserver/"]


def test_fastapi_track_event_above_the_route_is_reported_once(
    pirsch_capture: Capture, caplog: pytest.LogCaptureFixture
) -> None:
    app = FastAPI()
    app.add_middleware(PirschMiddleware, environ={})

    async def signup() -> str:
        return PAGE

    app.get("/signup", response_class=HTMLResponse)(signup)  # what @app.get does first
    track_event("Signup")(signup)  # then a @track_event above it

    with TestClient(app, client=("203.0.113.7", 5000)) as client:
        for _ in range(2):
            client.get("/signup", headers=BROWSER_HEADERS)
    warnings = [m for m in caplog.messages if "@track_event" in m]
    assert warnings == [
        "pirsch_middleware: @track_event('Signup') above the route decorator of "
        f"{signup.__qualname__} sends nothing: the router calls the undecorated "
        "function; put it below @app.get or @app.route"
    ]
    assert len(pirsch_capture.hits) == 2


def test_bare_track_event_says_to_give_a_name() -> None:
    def view() -> None: ...

    bare: Any = track_event
    with pytest.raises(TypeError, match=r'track_event needs an event name: write @track_event\("'):
        bare(view)
