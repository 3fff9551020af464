"""Apps for the end-to-end shutdown tests (tests/test_shutdown.py), served by real servers.

Records wait for company for a minute here (``flush_interval=60``), so nothing is delivered
while the server runs: what arrives was delivered where the process ended. ``WARM_UP=n`` tracks
n requests at import: in a pre-fork server's master, before the fork.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.flask import Pirsch
from pirsch_middleware.testing import NAVIGATION_HEADERS

__all__ = ["asgi_app", "plain_asgi", "wsgi_app"]

HOLD = 60.0  # flush_interval
PAGE = "<title>Page</title><p>Hello</p>"

wsgi_app = Flask(__name__)
Pirsch(wsgi_app, flush_interval=HOLD)


@wsgi_app.get("/")
def page() -> str:
    return PAGE


async def asgi_page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


# Starlette speaks lifespan.
asgi_app = PirschMiddleware(Starlette(routes=[Route("/", asgi_page)]), flush_interval=HOLD)


async def http_only(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that refuses lifespan (as Django's handler does)."""
    if scope["type"] != "http":
        raise ValueError(f"no {scope['type']} here")
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    )
    await send({"type": "http.response.body", "body": PAGE.encode()})


plain_asgi = PirschMiddleware(http_only, flush_interval=HOLD)

for n in range(int(os.environ.get("WARM_UP", "0"))):
    wsgi_app.test_client().get(
        f"/?warm-up={n}",
        headers=NAVIGATION_HEADERS,
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
