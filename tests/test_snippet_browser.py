"""A real headless Chromium loads a page whose snippet is served first-party by the ASGI
middleware (uvicorn on 127.0.0.1; the script is the fake API's stand-in for ``pa.js``), stays
for a session keep-alive, then clicks an outbound link: the page view (in hybrid mode, the
middleware's own and none from the snippet), the keep-alive and the click's event arrive with
the browser's user agent and the visitor's address."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from pirsch_middleware import Tracker
from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.snippet_tag import snippet_tag
from pirsch_middleware.testing import FakePirschAPI

from .conftest import settings
from .test_browser import USER_AGENT, chromium_session, uvicorn_serving

DEADLINE = 60.0


def app(tracker: Tracker) -> Starlette:
    tag = snippet_tag(tracker.settings, dev=True, attributes={"data-interval-ms": "300"})

    async def page(request: Request) -> HTMLResponse:
        # Another host name for the same server: outbound for the snippet, still loopback.
        outbound = f"http://localhost:{request.url.port}/elsewhere"
        return HTMLResponse(
            f"<!doctype html><html><head><title>Snippet page</title>{tag}</head>"
            f'<body><a id="out" href="{outbound}">Elsewhere</a></body></html>'
        )

    async def elsewhere(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><head><title>Elsewhere</title></head><body>Hi</body></html>")

    return Starlette(routes=[Route("/", page), Route("/elsewhere", elsewhere)])


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"Chromium never {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("mode", ["only", "hybrid"])
def test_chromium_sends_the_snippets_records_through_the_app(api: FakePirschAPI, mode: str) -> None:
    tracker = Tracker(settings(api, snippet=mode))
    try:
        with (
            uvicorn_serving(PirschMiddleware(app(tracker), tracker=tracker)) as base,
            chromium_session() as (client, session),
        ):
            client.post(f"{session}/url", json={"url": f"{base}/"})
            wait_until(lambda: api.sessions != [], "sent a session keep-alive")
            found = client.post(
                f"{session}/element", json={"using": "css selector", "value": "#out"}
            ).json()["value"]
            element = next(iter(found.values()))
            client.post(f"{session}/element/{element}/click", json={})
            wait_until(
                lambda: client.get(f"{session}/title").json()["value"] == "Elsewhere",
                "followed the link",
            )
            wait_until(lambda: api.events != [], "sent the click's event")
        assert tracker.flush(10)
    finally:
        tracker.close(2)
    [event] = api.events
    assert event["event_name"] == "Outbound Link Click"
    assert event["event_meta"] == {"url": base.replace("127.0.0.1", "localhost") + "/elsewhere"}
    assert event["url"] == f"{base}/"
    assert event["title"] == "Snippet page"
    hits = api.hits
    if mode == "only":  # the snippet's page view; the middleware counts none of its own
        assert [(hit["url"], hit["title"]) for hit in hits] == [(f"{base}/", "Snippet page")]
        assert hits[0]["screen_width"] > 0
    else:  # the middleware's page views; the snippet was told to send none
        assert [hit["title"] for hit in hits] == ["Snippet page", "Elsewhere"]
        assert "hybrid" not in tracker.stats().skipped
    for record in [*hits, event, *api.sessions]:
        assert record["user_agent"] == USER_AGENT
        assert record["ip"] == "127.0.0.1"
