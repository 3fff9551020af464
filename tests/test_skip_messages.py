"""A skip for want of a visitor address names the request and the peer it came from.

The commonest ``no_ip`` in a user's tests is Starlette's ``TestClient`` without ``client=``
(its peer is ``"testclient"``): the failure has to say which request and which peer.
"""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.testing import NAVIGATION_HEADERS, Capture


async def pricing(request: Request) -> HTMLResponse:
    return HTMLResponse("<title>Pricing</title>")


def app() -> Starlette:
    starlette = Starlette(routes=[Route("/pricing", pricing)])
    starlette.add_middleware(PirschMiddleware, environ={})
    return starlette


def test_testclient_without_client_names_request_and_peer_in_assert_hit(
    pirsch_capture: Capture,
) -> None:
    with TestClient(app()) as client:
        client.get("/pricing", headers=NAVIGATION_HEADERS)

    with pytest.raises(AssertionError) as info:
        pirsch_capture.assert_hit("/pricing")
    assert (
        "skipped: GET /pricing: no visitor address from the peer ('testclient') or a trusted "
        "proxy's header (no_ip: no visitor address to send)"
    ) in str(info.value)


def test_no_ip_at_debug_names_request_and_peer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pirsch_middleware")
    with TestClient(app()) as client:
        client.get("/pricing", headers=NAVIGATION_HEADERS)

    assert (
        "pirsch_middleware: not sent (no_ip): GET /pricing: no visitor address from the peer "
        "('testclient')"
    ) in caplog.text


def test_exempt_view_names_request_in_assert_hit(pirsch_capture: Capture) -> None:
    from flask import Flask

    from pirsch_middleware.flask import Pirsch

    flask_app = Flask(__name__)
    pirsch = Pirsch(flask_app, environ={})

    @flask_app.get("/health")
    @pirsch.exempt
    def health() -> str:
        return "<title>ok</title>"

    flask_app.test_client().get("/health", headers=NAVIGATION_HEADERS)

    with pytest.raises(AssertionError) as info:
        pirsch_capture.assert_hit("/health")
    assert "skipped: GET /health (view: the view called skip_page_view()" in str(info.value)
