"""Starlette with pirsch_middleware: ``python -m example_apps.starlette_app`` (or uvicorn)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from example_apps.pages import HOME, PRICING, SIGNED_UP, STYLESHEET
from pirsch_middleware import track_event
from pirsch_middleware.asgi import PirschMiddleware


async def home(request: Request) -> HTMLResponse:
    return HTMLResponse(HOME)


def pricing(request: Request) -> HTMLResponse:  # a sync endpoint runs in the thread pool
    return HTMLResponse(PRICING)


@track_event("Signup", meta={"plan": "pro"}, duration=True)
async def signup(request: Request) -> HTMLResponse:
    return HTMLResponse(SIGNED_UP)


async def status(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def old(request: Request) -> RedirectResponse:
    return RedirectResponse("/pricing", status_code=301)


async def stylesheet(request: Request) -> PlainTextResponse:
    return PlainTextResponse(STYLESHEET, media_type="text/css")


# Credentials and the API address come from PIRSCH_ACCESS_KEY and PIRSCH_BASE_URL.
app = Starlette(
    routes=[
        Route("/", home),
        Route("/pricing", pricing),
        Route("/signup", signup, methods=["POST"]),
        Route("/api/status", status),
        Route("/old", old),
        Route("/static/site.css", stylesheet),
    ],
    middleware=[Middleware(PirschMiddleware)],
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
