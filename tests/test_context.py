"""The view helpers and the request context, without a framework (the adapters' tests use them
through each framework)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any

import pytest

from pirsch_middleware import (
    OutsideRequestError,
    Tracker,
    current_request,
    event,
    exempt,
    keep_alive,
    set_tags,
    set_title,
    skip_page_view,
    track_event,
    tracked_request,
)
from pirsch_middleware._time import parse_time
from pirsch_middleware.context import RequestContext
from pirsch_middleware.testing import FakePirschAPI

from .conftest import request

HTML = "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "call",
    [
        lambda: event("Signup"),
        keep_alive,
        lambda: set_title("t"),
        lambda: set_tags({"a": "b"}),
        skip_page_view,
        current_request,
    ],
)
def test_helpers_outside_a_tracked_request_raise_a_clear_error(call: Any) -> None:
    with pytest.raises(OutsideRequestError, match="no tracked request"):
        call()


def test_decorated_view_outside_a_tracked_request_raises() -> None:
    @track_event("Signup")
    def view() -> str:
        return "ok"

    with pytest.raises(OutsideRequestError):
        view()


def test_events_wait_for_the_page_view(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker: Tracker = make_tracker(api, sync=True)
    with tracked_request(tracker, request("/pricing")) as context:
        event("Plan viewed", meta={"plan": "pro"})
        keep_alive()  # sessions are not held back: they carry no page
        assert [r.kind for r in api.received] == ["session"]
        context.respond(200, HTML)
        context.body(b"<title>Pricing</title>")
        event("After start")
    assert [(r.kind, r.body.get("event_name")) for r in api.received] == [
        ("session", None),
        ("hit", None),
        ("event", "Plan viewed"),
        ("event", "After start"),
    ]
    hit, first = api.hits[0], api.events[0]
    assert hit["title"] == "Pricing"
    assert hit["url"] == first["url"] == "https://example.com/pricing"
    assert first["event_meta"] == {"plan": "pro"}


def test_events_of_a_request_without_page_view_are_sent_at_the_end(
    api: FakePirschAPI, make_tracker: Any
) -> None:
    tracker = make_tracker(api, sync=True)
    with tracked_request(tracker, request("/signup", method="POST")):
        event("Signup")
        assert api.received == []
    assert [r.kind for r in api.received] == ["event"]


def test_title_and_tags_set_by_the_view_win(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api, sync=True)
    with tracked_request(tracker, request()) as context:
        set_title("  Set   by the view ")
        set_tags({"author": "kim", "draft": False})
        # With a title already set the body is not needed.
        assert context.respond(200, HTML) is False
    assert api.hits[0]["title"] == "Set by the view"
    assert api.hits[0]["tags"] == {"author": "kim", "draft": "false"}


def test_skip_page_view_keeps_the_events(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api, sync=True)
    with tracked_request(tracker, request()) as context:
        skip_page_view()
        event("Still sent")
        context.respond(200, HTML)
    assert [r.kind for r in api.received] == ["event"]
    assert tracker.stats().skipped == {"view": 1}


def test_invalid_event_and_tags_are_logged_and_counted_not_raised(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, sync=True)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        with tracked_request(tracker, request()) as context:
            event("Too much", meta={f"k{i}": "v" for i in range(50)})
            set_tags({"x" * 500: "y"})
            context.respond(200, HTML)
            event("")
    assert [r.kind for r in api.received] == ["hit"]
    assert "tags" not in api.hits[0] or api.hits[0]["tags"] is None
    assert tracker.stats().skipped == {"invalid": 3}
    messages = [r.getMessage() for r in caplog.records]
    assert any("meta: at most 20 pairs" in m for m in messages)
    assert any("tags" in m for m in messages)


def test_response_that_never_starts_sends_no_page_view_but_the_events(
    api: FakePirschAPI, make_tracker: Any
) -> None:
    tracker = make_tracker(api, sync=True)

    def view() -> None:
        event("Before the crash")
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError), tracked_request(tracker, request()):
        view()
    assert [r.kind for r in api.received] == ["event"]


def test_page_view_time_is_the_arrival(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api, batch_size=10, flush_interval=0.05)
    before = time.time()
    with tracked_request(tracker, request()) as context:
        time.sleep(0.5)  # the view
        context.respond(200, HTML)
        context.body(b"")
    after = time.time()
    tracker.flush(5)
    # Arrived after `before`, at least the view's 0.5 s before `after` (milliseconds, cut).
    arrived = parse_time(api.hits[0]["time"]).timestamp()
    assert before - 0.001 <= arrived <= after - 0.5, (arrived - before, after - arrived)


def test_should_track_raising_is_logged_not_raised(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Any) -> bool:
        raise RuntimeError("predicate bug")

    tracker = make_tracker(api, sync=True, should_track=broken)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        with tracked_request(tracker, request()) as context:
            context.respond(200, HTML)
    assert api.received == []
    assert "predicate bug" in caplog.text


def test_track_event_keeps_signature_name_and_kind() -> None:
    def view(request: object, slug: str, *, page: int = 1) -> str:
        """Docs."""
        return slug

    async def async_view(request: object) -> int:
        return 1

    wrapped = track_event("E")(view)
    async_wrapped = track_event("E")(async_view)
    assert inspect.signature(wrapped) == inspect.signature(view)
    assert (wrapped.__name__, wrapped.__doc__) == ("view", "Docs.")
    assert not inspect.iscoroutinefunction(wrapped)
    assert inspect.iscoroutinefunction(async_wrapped)
    assert inspect.iscoroutinefunction(exempt(async_view))
    assert inspect.signature(exempt(view)) == inspect.signature(view)


def test_track_event_meta_from_the_result_and_measured_duration(
    api: FakePirschAPI, make_tracker: Any
) -> None:
    @track_event("Download", meta=lambda result: {"file": result}, duration=True)
    def download() -> str:
        time.sleep(1.6)
        return "report.pdf"

    @track_event("Async", meta={"kind": "async"}, duration=4, non_interactive=True)
    async def async_view() -> str:
        return "ok"

    @track_event("Failing")
    def failing() -> None:
        raise ValueError("view bug")

    tracker = make_tracker(api, sync=True)
    with tracked_request(tracker, request("/x", method="POST")):
        assert download() == "report.pdf"
        assert asyncio.run(async_view()) == "ok"
        with pytest.raises(ValueError, match="view bug"):
            failing()
    events = api.events
    assert [e["event_name"] for e in events] == ["Download", "Async"]
    assert events[0]["event_meta"] == {"file": "report.pdf"}
    assert events[0]["event_duration"] == 2
    assert events[1]["event_duration"] == 4
    assert events[1]["non_interactive"] is True


def test_track_event_meta_callable_that_raises_sends_without_meta(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    @track_event("E", meta=lambda result: result["missing"])
    def view() -> dict[str, str]:
        return {}

    tracker = make_tracker(api, sync=True)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        with tracked_request(tracker, request("/x", method="POST")):
            assert view() == {}
    assert api.events[0]["event_name"] == "E"
    assert "event_meta" not in api.events[0] or not api.events[0]["event_meta"]
    assert "meta callable" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name: expected a non-empty event name"),
        ({"name": "E", "meta": {"k": "v" * 3000}}, "meta: values are at most"),
        ({"name": "E", "duration": "long"}, "duration: expected seconds or True"),
    ],
)
def test_track_event_checks_its_arguments_when_decorating(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        track_event(**kwargs)


def test_current_request_is_the_tracked_one(make_tracker: Any) -> None:
    tracker = make_tracker()
    data = request("/here")
    with tracked_request(tracker, data):
        assert current_request() is data
    with pytest.raises(OutsideRequestError):
        current_request()


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type", "reason"),
    [
        ("POST", "/", 200, "text/html", "method"),
        ("GET", "/static/app.css", 200, "text/css", "excluded_path"),
        ("GET", "/api", 200, "application/json", "content_type"),
        ("GET", "/old", 301, "text/html", "status"),
    ],
)
def test_requests_ruled_out_before_the_header_rules_copy_no_header(
    make_tracker: Any, method: str, path: str, status: int, content_type: str, reason: str
) -> None:
    built: list[object] = []

    def build(source: object) -> Any:
        built.append(source)
        return request(path, method=method)

    context = RequestContext(make_tracker(), method, path, build, None)
    assert context.respond(status, content_type) is False
    context.finish()
    assert context.skip_reason == reason
    assert built == []
