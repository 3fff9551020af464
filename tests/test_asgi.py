"""The ASGI middleware through Starlette and FastAPI, and through raw ASGI calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse as StarletteHTML,
)
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from pirsch_middleware import ConfigurationError, Tracker, event, keep_alive, set_title, track_event
from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.testing import FakePirschAPI

from .conftest import BROWSER_HEADERS, settings

VISITOR = ("203.0.113.7", 50000)
PAGE = "<!doctype html><html><head><title>Home &amp; more</title></head><body>hi</body></html>"


async def home(request: Request) -> Response:
    return StarletteHTML(PAGE)


def sync_page(request: Request) -> Response:  # runs in Starlette's thread pool
    set_title("Set in a thread")
    event("Thread event", meta={"where": "thread pool"})
    return StarletteHTML("<p>no title tag</p>")


@track_event("Signup", meta={"plan": "pro"})
async def signup(request: Request) -> Response:
    return PlainTextResponse("thanks")


async def json_api(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def redirect(request: Request) -> Response:
    return RedirectResponse("/", status_code=302)


async def not_found(request: Request) -> Response:
    return StarletteHTML("<title>Missing</title>", status_code=404)


async def stylesheet(request: Request) -> Response:
    return PlainTextResponse("body {}", media_type="text/css")


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


ROUTES = [
    Route("/", home),
    Route("/sync", sync_page),
    Route("/signup", signup, methods=["POST"]),
    Route("/api/items", json_api),
    Route("/old", redirect),
    Route("/missing", not_found),
    Route("/static/site.css", stylesheet),
    WebSocketRoute("/ws", socket),
]


def starlette_app(tracker: Tracker, *inner: Middleware) -> Starlette:
    return Starlette(
        routes=ROUTES, middleware=[Middleware(PirschMiddleware, tracker=tracker), *inner]
    )


@pytest.fixture
def tracker(api: FakePirschAPI, make_tracker: Any) -> Tracker:
    made: Tracker = make_tracker(api, sync=True)
    return made  # delivered before the response returns


def test_one_hit_per_page_view_and_none_for_the_rest(api: FakePirschAPI, tracker: Tracker) -> None:
    with TestClient(starlette_app(tracker), client=VISITOR) as client:
        assert client.get("/", headers=BROWSER_HEADERS).status_code == 200
        assert client.get("/static/site.css", headers=BROWSER_HEADERS).status_code == 200
        assert client.get("/api/items", headers=BROWSER_HEADERS).status_code == 200
        assert (
            client.get("/old", headers=BROWSER_HEADERS, follow_redirects=False).status_code == 302
        )
        assert client.get("/missing", headers=BROWSER_HEADERS).status_code == 404
        prefetch = {**BROWSER_HEADERS, "sec-purpose": "prefetch"}
        assert client.get("/", headers=prefetch).status_code == 200
        assert client.post("/signup", headers=BROWSER_HEADERS).status_code == 200
    assert [(r.kind, r.body["url"]) for r in api.received] == [
        ("hit", "http://testserver/"),
        ("event", "http://testserver/signup"),
    ]
    hit = api.hits[0]
    assert hit["title"] == "Home & more"
    assert hit["ip"] == "203.0.113.7"
    assert hit["user_agent"] == BROWSER_HEADERS["user-agent"]
    assert hit["referrer"] == BROWSER_HEADERS["referer"]
    assert api.events[0]["event_meta"] == {"plan": "pro"}
    assert tracker.stats().skipped == {
        "excluded_path": 1,
        "content_type": 1,
        "status": 2,
        "prefetch": 1,
        "method": 1,
    }


def test_sync_endpoint_in_thread_pool_reaches_the_request(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    with TestClient(starlette_app(tracker), client=VISITOR) as client:
        assert client.get("/sync", headers=BROWSER_HEADERS).status_code == 200
    assert [r.kind for r in api.received] == ["hit", "event"]
    assert api.hits[0]["title"] == "Set in a thread"
    assert api.events[0]["event_meta"] == {"where": "thread pool"}


def test_visitor_ip_behind_a_trusted_proxy_and_forged_header_from_an_untrusted_peer(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    forwarded = {**BROWSER_HEADERS, "x-forwarded-for": "198.51.100.9"}
    with TestClient(starlette_app(tracker), client=("10.0.0.5", 4000)) as proxy:
        proxy.get("/", headers=forwarded)
    with TestClient(starlette_app(tracker), client=VISITOR) as direct:
        direct.get("/", headers=forwarded)
    assert [h["ip"] for h in api.hits] == ["198.51.100.9", "203.0.113.7"]


def test_fastapi_add_middleware_with_options(api: FakePirschAPI) -> None:
    app = FastAPI()
    app.add_middleware(PirschMiddleware, settings=settings(api, sync=True))

    @app.get("/items/{item}", response_class=HTMLResponse)
    def item(item: str) -> str:
        event("Viewed", meta={"item": item})
        keep_alive()
        return f"<title>Item {item}</title>"

    @app.post("/buy")
    @track_event("Buy", meta=lambda result: {"total": result["total"]})
    async def buy() -> dict[str, int]:
        return {"total": 42}

    with TestClient(app, client=VISITOR) as client:
        assert client.get("/items/7", headers=BROWSER_HEADERS).text == "<title>Item 7</title>"
        assert client.post("/buy", headers=BROWSER_HEADERS).json() == {"total": 42}
        assert client.get("/openapi.json", headers=BROWSER_HEADERS).status_code == 200
        layer: Any = app.middleware_stack
        while not isinstance(layer, PirschMiddleware):
            layer = layer.app
    layer.tracker.close(1)
    assert [r.kind for r in api.received] == ["session", "hit", "event", "event"]
    assert api.hits[0]["title"] == "Item 7"
    assert [e["event_meta"] for e in api.events] == [{"item": "7"}, {"total": "42"}]


def test_bad_option_in_add_middleware_fails_the_lifespan_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=ROUTES)
    app.add_middleware(PirschMiddleware, batch_size=-1, environ={})
    with pytest.raises(ConfigurationError, match=r"^batch_size: expected .* got -1$"):
        with TestClient(app):
            pass
    assert [r.levelname for r in caplog.records if "batch_size" in r.getMessage()] == ["ERROR"]


def test_bad_option_without_lifespan_lets_requests_through_untracked(
    api: FakePirschAPI, caplog: pytest.LogCaptureFixture
) -> None:
    app = FastAPI()
    app.add_middleware(PirschMiddleware, bach_size=5, base_url=api.base_url)  # type: ignore[call-arg]

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return "<title>Home</title>"

    client = TestClient(app, client=VISITOR)  # not entered: no lifespan
    for _ in range(3):
        assert client.get("/", headers=BROWSER_HEADERS).status_code == 200
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [
        "pirsch_middleware: not tracking: Settings(): expected the name of a setting "
        "(did you mean 'batch_size'?), got 'bach_size'"
    ]
    assert api.received == []


def test_lifespan_shutdown_flushes(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api, flush_interval=60)  # only the flush delivers in time
    with TestClient(starlette_app(tracker), client=VISITOR) as client:
        for _ in range(3):
            client.get("/", headers=BROWSER_HEADERS)
        assert api.received == []
    assert len(api.hits) == 3


def test_lifespan_entered_twice_tracks_and_delivers_both_times(
    api: FakePirschAPI, make_tracker: Any
) -> None:
    # The lifespan shutdown closes the tracker (what is left is counted), then it tracks again.
    tracker = make_tracker(api, flush_interval=60)
    app = starlette_app(tracker)
    for round in range(2):
        with TestClient(app, client=VISITOR) as client:
            client.get("/", params={"round": round}, headers=BROWSER_HEADERS)
        assert [hit["url"][-7:] for hit in api.hits] == [f"round={n}" for n in range(round + 1)]
    client.get("/", params={"round": 2}, headers=BROWSER_HEADERS)  # after it, no lifespan
    assert tracker.flush(5)
    assert len(api.hits) == 3
    stats = tracker.stats()
    assert (stats.sent, stats.dropped) == (3, {})


def test_websocket_passes_through(api: FakePirschAPI, tracker: Tracker) -> None:
    with TestClient(starlette_app(tracker), client=VISITOR) as client:
        with client.websocket_connect("/ws", headers=BROWSER_HEADERS) as ws:
            assert ws.receive_text() == "hello"
    assert api.received == []
    assert tracker.stats().skipped == {}


def test_compressed_html_is_tracked_without_title(api: FakePirschAPI, tracker: Tracker) -> None:
    app = starlette_app(tracker, Middleware(GZipMiddleware, minimum_size=10))
    with TestClient(app, client=VISITOR) as client:
        response = client.get("/", headers={**BROWSER_HEADERS, "accept-encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
    assert len(api.hits) == 1
    assert "title" not in api.hits[0]


def test_mounted_app_url_includes_root_path(api: FakePirschAPI, tracker: Tracker) -> None:
    inner = Starlette(routes=[Route("/page", home)])
    app = Starlette(
        routes=[Mount("/blog", app=inner)],
        middleware=[Middleware(PirschMiddleware, tracker=tracker)],
    )
    with TestClient(app, client=VISITOR, root_path="/site") as client:
        assert client.get("/site/blog/page", headers=BROWSER_HEADERS).status_code == 200
    assert api.hits[0]["url"] == "http://testserver/site/blog/page"


# Raw ASGI: what TestClient cannot show.


def run(app: Any, scope: dict[str, Any], sent: list[dict[str, Any]] | None = None) -> list[Any]:
    messages: list[Any] = [] if sent is None else sent
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await asyncio.sleep(3600)  # no disconnect: streaming responses cancel this wait
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    return messages


def http_scope(path: str = "/", **changes: Any) -> dict[str, Any]:
    headers = [(k.encode(), v.encode()) for k, v in BROWSER_HEADERS.items()]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com"), *headers],
        "client": VISITOR,
        "server": ("127.0.0.1", 8000),
    }
    scope.update(changes)
    return scope


def test_streamed_page_is_tracked_when_its_first_chunk_passes(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    seen_at: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html><head><title>Live</title></head>"
        seen_at.append(len(api.hits))  # the hit was sent before the rest of the body is made
        await asyncio.sleep(0)
        yield b"<body>more</body></html>"

    async def stream(request: Request) -> Response:
        return StreamingResponse(chunks(), media_type="text/html")

    async def events(request: Request) -> Response:
        async def ticks() -> AsyncIterator[bytes]:
            seen_at.append(len(api.hits))
            yield b"data: 1\n\n"

        return StreamingResponse(ticks(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/", stream), Route("/events", events)])
    run(PirschMiddleware(app, tracker=tracker), http_scope())
    run(PirschMiddleware(app, tracker=tracker), http_scope("/events"))
    assert seen_at == [1, 1]
    assert api.hits[0]["title"] == "Live"
    assert tracker.stats().skipped == {"content_type": 1}


def test_missing_client_uses_the_forwarding_header_or_skips(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    app = PirschMiddleware(Starlette(routes=ROUTES), tracker=tracker)
    sent = run(app, http_scope(client=None))
    assert sent[0]["status"] == 200
    assert tracker.stats().skipped == {"no_ip": 1}
    forwarded = http_scope(client=None)
    forwarded["headers"].append((b"x-forwarded-for", b"198.51.100.20"))
    run(app, forwarded)
    assert api.hits[0]["ip"] == "198.51.100.20"


# Where tracking can fail, and what still arrives when it does: the page view, its event.
TRACKER_FAILURES = [
    ("route_skip", ["event"]),
    ("response_skip", ["event"]),
    ("header_skip", ["event"]),
    ("queue_page_view", ["event"]),
    ("track_event", ["hit"]),
]
MODULE_FAILURES = [
    ("pirsch_middleware.asgi.asgi_path", []),  # before the request is tracked: no context
    ("pirsch_middleware.asgi.RequestContext", []),
    ("pirsch_middleware.asgi.asgi_request", []),  # the headers cannot be read
    ("pirsch_middleware.context.find_title", ["hit"]),  # the hit goes without its title
]


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("tracker bug")


async def page_with_event(request: Request) -> Response:
    event("Seen")
    return StarletteHTML(PAGE)


@pytest.mark.parametrize(("method", "arrives"), TRACKER_FAILURES)
def test_tracker_failure_leaves_the_response_intact(
    api: FakePirschAPI,
    tracker: Tracker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    method: str,
    arrives: list[str],
) -> None:
    monkeypatch.setattr(tracker, method, _broken)
    app = PirschMiddleware(Starlette(routes=[Route("/", page_with_event)]), tracker=tracker)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        sent = run(app, http_scope())
    assert (sent[0]["type"], sent[0]["status"]) == ("http.response.start", 200)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == PAGE.encode()
    assert "tracking failed" in caplog.text
    assert [r.kind for r in api.received] == arrives


@pytest.mark.parametrize(("target", "arrives"), MODULE_FAILURES)
def test_failure_around_the_tracker_leaves_the_response_intact(
    api: FakePirschAPI,
    tracker: Tracker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: str,
    arrives: list[str],
) -> None:
    monkeypatch.setattr(target, _broken)
    app = PirschMiddleware(Starlette(routes=ROUTES), tracker=tracker)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        sent = run(app, http_scope())
        odd = run(app, http_scope(headers=[(b"host", None)]))  # not even bytes
    for messages in (sent, odd):
        assert (messages[0]["type"], messages[0]["status"]) == ("http.response.start", 200)
        assert b"".join(m.get("body", b"") for m in messages[1:]) == PAGE.encode()
    assert "tracking failed" in caplog.text
    assert [r.kind for r in api.received] == arrives


def test_app_errors_reach_the_server_unchanged(tracker: Tracker) -> None:
    async def crash(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("app bug")

    with pytest.raises(KeyError, match="app bug"):
        run(PirschMiddleware(crash, tracker=tracker), http_scope())


def test_other_scopes_pass_through_untouched(tracker: Tracker) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], send))

    async def send(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {}

    middleware = PirschMiddleware(app, tracker=tracker)
    asyncio.run(middleware({"type": "websocket", "path": "/ws"}, receive, send))
    assert seen == [("websocket", send)]


def test_options_build_the_tracker(api: FakePirschAPI) -> None:
    middleware = PirschMiddleware(
        Starlette(routes=ROUTES),
        access_key="pa_" + "k" * 45,
        base_url=api.base_url,
        environ={},
        sync=True,
    )
    assert run(middleware, http_scope())[0]["status"] == 200
    assert [(r.kind, r.body["url"], r.token) for r in api.received] == [
        ("hit", "https://example.com/", "pa_" + "k" * 45)
    ]
    middleware.tracker.close(1)


def test_should_track_sees_every_header(api: FakePirschAPI, make_tracker: Any) -> None:
    # The README's example: a rule may read headers the core itself never reads.
    tracker = make_tracker(api, sync=True, should_track=lambda r: "x-internal" not in r.headers)
    app = PirschMiddleware(Starlette(routes=ROUTES), tracker=tracker)
    internal = http_scope()
    internal["headers"].append((b"X-Internal", b"1"))
    run(app, internal)
    run(app, http_scope())
    assert len(api.hits) == 1
    assert tracker.stats().skipped == {"should_track": 1}


async def http_only_app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that refuses lifespan, as Django's handler does."""
    if scope["type"] != "http":
        raise ValueError(f"no {scope['type']} here")
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    )
    await send({"type": "http.response.body", "body": b"<title>Plain</title>"})


@pytest.mark.parametrize("takes_startup", [False, True])
def test_lifespan_is_answered_for_an_app_that_refuses_it(
    api: FakePirschAPI, make_tracker: Any, takes_startup: bool
) -> None:
    async def refusing(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" and takes_startup:
            await receive()  # reads the start-up message, then fails without answering
        await http_only_app(scope, receive, send)

    tracker = make_tracker(api, flush_interval=60)  # only the shutdown flush delivers in time
    with TestClient(PirschMiddleware(refusing, tracker=tracker), client=VISITOR) as client:
        for _ in range(3):
            assert client.get("/", headers=BROWSER_HEADERS).status_code == 200
        assert api.received == []
    assert [hit["title"] for hit in api.hits] == ["Plain"] * 3


def test_lifespan_of_an_app_that_answers_it_is_left_to_the_app(
    api: FakePirschAPI, make_tracker: Any
) -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    sent: list[Any] = []

    async def run() -> None:
        messages = iter([{"type": "lifespan.startup"}])

        async def receive() -> Any:
            return next(messages)

        async def send(message: Any) -> None:
            sent.append(message)

        middleware = PirschMiddleware(failing, tracker=make_tracker(api))
        await middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(run())
    assert sent == [{"type": "lifespan.startup.failed", "message": "no database"}]
