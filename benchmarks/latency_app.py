"""The app latency.py serves with uvicorn: a trivial Starlette page, with pirsch_middleware when
BENCH_PIRSCH=1 (credentials and API address from PIRSCH_ACCESS_KEY and PIRSCH_BASE_URL)."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from pirsch_middleware.asgi import PirschMiddleware


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>Bench</title><p>hello</p>")


middleware = [Middleware(PirschMiddleware)] if os.environ.get("BENCH_PIRSCH") == "1" else []
app = Starlette(routes=[Route("/", page)], middleware=middleware)
