from __future__ import annotations

from collections.abc import Callable

import pytest

from pirsch_middleware import Settings, Tracker
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, request

MakeTracker = Callable[..., Tracker]


def test_keywords_build_or_override_settings(api: FakePirschAPI) -> None:
    base = Settings(access_key=ACCESS_KEY, base_url=api.base_url, environ={}, flush_interval=60)
    tracker = Tracker(base, batch_size=3)
    assert ACCESS_KEY not in repr(tracker)
    for path in ("/a", "/b", "/c"):
        assert tracker.track_page_view(request(path))
    # Three records fill a batch of the overriding size: sent without a flush, in one request,
    # to the base settings' URL (the flush interval is a minute away).
    api.wait_for(3)
    assert [r.body["url"] for r in api.received] == [
        "https://example.com/a",
        "https://example.com/b",
        "https://example.com/c",
    ]
    assert api.requests == [("POST", "/api/v1/hit/batch", 200)]
    tracker.close()


def test_skips_are_counted_by_reason(make_tracker: MakeTracker) -> None:
    tracker = make_tracker(None)
    tracker.track_page_view(request("/favicon.ico"))
    tracker.track_page_view(request("/"), 302)
    tracker.track_page_view(request("/api"), 200, "application/json")
    tracker.track_page_view(request(dnt="1"))
    assert tracker.request_skip(request(method="POST")) == "method"
    assert tracker.stats().skipped == {
        "excluded_path": 1,
        "status": 1,
        "content_type": 1,
        "dnt": 1,
        "method": 1,
    }


def test_request_checked_skips_the_request_rules(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api)
    req = request("/favicon.ico")
    assert tracker.track_page_view(req, request_checked=True)
    assert tracker.flush(timeout=5)
    assert api.hits[0]["url"] == "https://example.com/favicon.ico"


def test_events_ignore_path_and_method_rules_but_not_visitor_rules(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api)
    assert tracker.track_event(
        request("/api/signup", method="POST"),
        "Signup",
        meta={"plan": "pro", "seats": 3},
        duration=2.6,
    )
    assert not tracker.track_event(request(dnt="1"), "Signup")
    assert not tracker.track_event(request(user_agent="Googlebot/2.1"), "Signup")
    assert tracker.flush(timeout=5)
    (event,) = api.events
    assert event["event_name"] == "Signup"
    assert event["event_meta"] == {"plan": "pro", "seats": "3"}
    assert event["event_duration"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name: expected a non-empty event name"),
        ({"meta": {"k": object()}}, "meta: values are strings"),
        ({"tags": {"k": "v" * 51}}, "tags: values are at most 50"),
        ({"duration": -1}, "duration: expected seconds"),
        ({"duration": float("inf")}, "duration: expected seconds"),
        ({"screen_width": "1920"}, "screen_width: expected a whole number"),
    ],
)
def test_bad_event_arguments_raise_for_the_caller(
    make_tracker: MakeTracker, kwargs: dict[str, object], message: str
) -> None:
    tracker = make_tracker(None)
    args = {"name": "E", **kwargs}
    with pytest.raises(ValueError, match=message):
        tracker.track_event(request(), **args)  # type: ignore[arg-type]


def test_page_view_tags_and_title(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api)
    assert tracker.track_page_view(request("/"), title="Home", tags={"lang": "de"})
    assert tracker.flush(timeout=5)
    assert api.hits[0]["title"] == "Home"
    assert api.hits[0]["tags"] == {"lang": "de"}


def test_disabled_tracker_sends_nothing(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api, enabled=False)
    assert tracker.request_skip(request()) == "disabled"
    assert not tracker.track_page_view(request())
    assert not tracker.track_event(request(), "E")
    assert not tracker.track_session(request())
    assert tracker.flush(timeout=1)
    assert api.received == []
