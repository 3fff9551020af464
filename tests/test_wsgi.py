"""The WSGI middleware through Flask's test client and through raw WSGI calls."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.util import FileWrapper

import pytest
from flask import Flask, Response, redirect, stream_with_context
from werkzeug.wrappers import Response as WerkzeugResponse

from pirsch_middleware import Tracker, event
from pirsch_middleware.testing import FakePirschAPI
from pirsch_middleware.wsgi import PirschMiddleware

from .conftest import BROWSER_HEADERS

VISITOR = {
    "REMOTE_ADDR": "203.0.113.7",
    "HTTP_ACCEPT": BROWSER_HEADERS["accept"],
    "HTTP_ACCEPT_LANGUAGE": BROWSER_HEADERS["accept-language"],
    "HTTP_ACCEPT_ENCODING": BROWSER_HEADERS["accept-encoding"],
}


@pytest.fixture
def tracker(api: FakePirschAPI, make_tracker: Any) -> Tracker:
    made: Tracker = make_tracker(api, sync=True)
    return made


def flask_app() -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.get("/")
    def home() -> str:
        return "<html><head><title>Flask &amp; WSGI</title></head></html>"

    @app.get("/api/items")
    def items() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/old")
    def old() -> WerkzeugResponse:
        return redirect("/")

    @app.get("/static/app.js")
    def script() -> Response:
        return Response("1", mimetype="text/javascript")

    @app.post("/signup")
    def signup() -> str:
        event("Signup", meta={"plan": "pro"})
        return "thanks"

    @app.get("/stream")
    def stream() -> Response:
        def parts() -> Iterator[str]:
            yield "<title>Streamed</title>"
            yield "<p>rest</p>"

        return Response(stream_with_context(parts()), mimetype="text/html")

    return app


def test_flask_through_the_middleware(api: FakePirschAPI, tracker: Tracker) -> None:
    app = flask_app()
    app.wsgi_app = PirschMiddleware(app.wsgi_app, tracker=tracker)  # type: ignore[method-assign]
    client = app.test_client()
    get = {"headers": BROWSER_HEADERS, "environ_base": VISITOR}
    assert client.get("/", **get).status_code == 200
    assert client.get("/api/items", **get).status_code == 200
    assert client.get("/old", **get).status_code == 302
    assert client.get("/static/app.js", **get).status_code == 200
    assert client.get("/", headers={**BROWSER_HEADERS, "purpose": "prefetch"}).status_code == 200
    assert client.post("/signup", **get).data == b"thanks"
    assert client.get("/stream", **get).data == b"<title>Streamed</title><p>rest</p>"
    assert [(r.kind, r.body["url"]) for r in api.received] == [
        ("hit", "http://localhost/"),
        ("event", "http://localhost/signup"),
        ("hit", "http://localhost/stream"),
    ]
    assert [h["title"] for h in api.hits] == ["Flask & WSGI", "Streamed"]
    assert api.hits[0]["ip"] == "203.0.113.7"
    assert tracker.stats().skipped == {
        "content_type": 1,
        "status": 1,
        "excluded_path": 1,
        "prefetch": 1,
        "method": 1,
    }


class Body:
    """An app's iterable that records how it was used."""

    def __init__(self, chunks: list[bytes], api: FakePirschAPI) -> None:
        self.chunks, self.api = chunks, api
        self.closed = False
        self.hits_seen: list[int] = []

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.hits_seen.append(len(self.api.hits))
            yield chunk

    def close(self) -> None:
        self.closed = True


def call(
    app: Any, path: str = "/", **environ: Any
) -> tuple[str, list[Any], bytes, Iterable[bytes]]:
    base = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",
        "wsgi.file_wrapper": FileWrapper,
        "HTTP_USER_AGENT": BROWSER_HEADERS["user-agent"],
        **VISITOR,
        **environ,
    }
    started: list[Any] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    result = app(base, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started[0], started[1], body, result


def test_streamed_body_is_passed_through_and_closed(api: FakePirschAPI, tracker: Tracker) -> None:
    body = Body([b"<title>First</title>", b"second", b"third"], api)

    def app(environ: Any, start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/html")])
        return body

    status, _, data, _ = call(PirschMiddleware(app, tracker=tracker))
    assert (status, data) == ("200 OK", b"<title>First</title>secondthird")
    assert body.closed
    # The hit went out with the first chunk, before the app made the second one.
    assert body.hits_seen == [0, 1, 1]
    assert api.hits[0]["title"] == "First"
    assert api.hits[0]["url"] == "https://example.com/"


def test_generator_app_that_starts_the_response_lazily(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        yield "<title>Grüße</title>".encode()

    _, _, data, _ = call(PirschMiddleware(app, tracker=tracker))
    assert data == "<title>Grüße</title>".encode()
    assert api.hits[0]["title"] == "Grüße"


def test_empty_generator_body_still_counts(api: FakePirschAPI, tracker: Tracker) -> None:
    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        yield from ()

    call(PirschMiddleware(app, tracker=tracker))
    assert len(api.hits) == 1


def test_lists_and_files_that_need_no_title_are_returned_as_they_are(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    css = Body([b"body {}"], api)
    files: list[Any] = []

    def app(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/file":
            start_response("200 OK", [("Content-Type", "text/html")])
            files.append(environ["wsgi.file_wrapper"](io.BytesIO(b"<title>File</title>")))
            return files[-1]
        if environ["PATH_INFO"] == "/list":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b"<title>List</title>", b"rest"]
        start_response("200 OK", [("Content-Type", "text/css")])
        return css

    middleware = PirschMiddleware(app, tracker=tracker)
    _, _, data, result = call(middleware, "/style")
    # Streamed through a wrapper that keeps the request current (see the streaming test).
    assert data == b"body {}"
    assert css.closed
    assert call(middleware, "/file")[3] is files[0]
    _, _, data, result = call(middleware, "/list")
    assert isinstance(result, list)
    assert data == b"<title>List</title>rest"
    assert [h.get("title", None) for h in api.hits] == [None, "List"]


def test_environ_is_read_when_the_request_arrives(api: FakePirschAPI, tracker: Tracker) -> None:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        environ["PATH_INFO"] = "/rewritten"
        environ["HTTP_USER_AGENT"] = "changed"
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b""]

    call(PirschMiddleware(app, tracker=tracker), "/original")
    assert api.hits[0]["url"] == "https://example.com/original"
    assert api.hits[0]["user_agent"] == BROWSER_HEADERS["user-agent"]


def test_app_errors_propagate_and_error_pages_are_no_page_views(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    def crash(environ: Any, start_response: Any) -> list[bytes]:
        event("Before the crash")
        raise KeyError("app bug")

    with pytest.raises(KeyError, match="app bug"):
        call(PirschMiddleware(crash, tracker=tracker))

    def late_error(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        try:
            raise ValueError("while rendering")
        except ValueError:
            import sys

            start_response("500 Error", [("Content-Type", "text/html")], sys.exc_info())
        return [b"error"]

    status, _, _, _ = call(PirschMiddleware(late_error, tracker=tracker))
    assert status == "500 Error"
    assert [r.kind for r in api.received] == ["event"]


# Where tracking can fail, and what still arrives when it does: the page view, its event.
TRACKER_FAILURES = [
    ("route_skip", ["event"]),
    ("response_skip", ["event"]),
    ("header_skip", ["event"]),
    ("queue_page_view", ["event"]),
    ("track_event", ["hit"]),
]
MODULE_FAILURES = [
    ("pirsch_middleware.wsgi.environ_path", []),  # before the request is tracked: no context
    ("pirsch_middleware.wsgi.RequestContext", []),
    ("pirsch_middleware.wsgi.environ_request", []),  # the headers cannot be read
    ("pirsch_middleware.context.find_title", ["hit"]),  # the hit goes without its title
]
PAGE = b"<title>ok</title>"


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("tracker bug")


def _page(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html")])
    return [PAGE]


def _page_with_event(environ: Any, start_response: Any) -> Iterator[bytes]:
    event("Seen")
    start_response("200 OK", [("Content-Type", "text/html")])
    yield PAGE  # a generator: the title waits for the first chunk


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
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        status, headers, body, _ = call(PirschMiddleware(_page_with_event, tracker=tracker))
    # Accept-CH is added when the page view is decided, before queueing it can fail.
    app_headers = [h for h in headers if h[0] != "Accept-CH"]
    assert (status, app_headers, body) == ("200 OK", [("Content-Type", "text/html")], PAGE)
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
    app = PirschMiddleware(_page, tracker=tracker)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        status, headers, body, _ = call(app)
        app_headers = [h for h in headers if h[0] != "Accept-CH"]  # added for a page view
        assert (status, app_headers, body) == ("200 OK", [("Content-Type", "text/html")], PAGE)
        assert call(app, REMOTE_ADDR=None)[2] == PAGE
        assert call(app, HTTP_HOST=b"\xff")[2] == PAGE
    assert "tracking failed" in caplog.text
    assert [r.kind for r in api.received] == arrives


def test_preset_header_is_read_from_the_environ(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api, sync=True, proxy="fly")

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b""]

    call(
        PirschMiddleware(app, tracker=tracker),
        REMOTE_ADDR="10.0.0.2",
        HTTP_FLY_CLIENT_IP="192.0.2.44",
    )
    assert api.hits[0]["ip"] == "192.0.2.44"


def test_should_track_sees_every_header(api: FakePirschAPI, make_tracker: Any) -> None:
    # The README's example: a rule may read headers the core itself never reads.
    tracker = make_tracker(api, sync=True, should_track=lambda r: "x-internal" not in r.headers)

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b""]

    call(PirschMiddleware(app, tracker=tracker), HTTP_X_INTERNAL="1")
    call(PirschMiddleware(app, tracker=tracker))
    assert len(api.hits) == 1
    assert tracker.stats().skipped == {"should_track": 1}


def test_a_generator_app_finds_its_request_until_its_first_chunk(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        event("Rendered")  # runs on the first next(): the request is still current
        start_response("200 OK", [("Content-Type", "text/html")])
        yield b"<title>Lazy</title>"

    call(PirschMiddleware(app, tracker=tracker))
    assert [h["title"] for h in api.hits] == ["Lazy"]
    assert [e["event_name"] for e in api.events] == ["Rendered"]


def test_an_iterable_that_fails_on_its_first_chunk_is_closed(tracker: Tracker) -> None:
    class Failing:
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            raise RuntimeError("template error")
            yield b""

        def close(self) -> None:
            Failing.closed = True

    def app(environ: Any, start_response: Any) -> Failing:
        start_response("200 OK", [("Content-Type", "text/html")])
        return Failing()

    with pytest.raises(RuntimeError, match="template error"):
        call(PirschMiddleware(app, tracker=tracker))
    assert Failing.closed


def test_generator_app_event_on_a_skipped_request_finds_the_request(
    api: FakePirschAPI, tracker: Tracker
) -> None:
    # A POST is no page view; a generator app's code runs only when the server iterates it.
    status, _, body, _ = call(
        PirschMiddleware(_page_with_event, tracker=tracker), REQUEST_METHOD="POST"
    )
    assert (status, body) == ("200 OK", PAGE)
    assert [(r.kind, r.body["event_name"]) for r in api.received] == [("event", "Seen")]
    assert tracker.stats().skipped == {"method": 1}


@pytest.mark.parametrize(
    ("size", "status", "sent"), [(60, "200 OK", ["Chunked"]), (70_000, "400 Bad Request", [])]
)
def test_snippet_event_with_a_chunked_body_is_read_without_content_length(
    api: FakePirschAPI, make_tracker: Any, size: int, status: str, sent: list[str]
) -> None:
    # gunicorn and granian hand a chunked body on without CONTENT_LENGTH, saying so with
    # wsgi.input_terminated: the body is read to its end (at most the limit), not taken as empty.
    tracker = make_tracker(api, sync=True, snippet="only")
    text = b'{"event_name": "Chunked", "url": "https://example.com/"}'.ljust(size)
    answer = call(
        PirschMiddleware(_page_with_event, tracker=tracker),
        "/p/e",
        REQUEST_METHOD="POST",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(text), "wsgi.input_terminated": True},
    )
    assert answer[0] == status
    assert [r.body["event_name"] for r in api.received] == sent
    assert b"JSON" not in answer[2]  # before: taken as an empty body, "got invalid JSON"
