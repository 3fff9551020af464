"""The testing helpers users get: the pytest plugin's fixtures and the capture's assertions,
driven through the example apps as a user's test suite would."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from starlette.testclient import TestClient

from pirsch_middleware import Tracker, event, tracked_request
from pirsch_middleware.testing import NAVIGATION_HEADERS, Capture, FakePirschAPI, capture

from .conftest import request

pytest_plugins = ["pytester"]
VISITOR = {"REMOTE_ADDR": "203.0.113.7"}


def test_capture_records_what_would_be_sent_without_a_sender(pirsch_capture: Capture) -> None:
    # No credentials, no base URL: nothing could be sent anywhere.
    tracker = Tracker(environ={})
    with tracked_request(tracker, request("/pricing")) as context:
        event("Plan viewed", meta={"plan": "pro"})
        context.respond(200, "text/html")
        context.body(b"<title>Pricing</title>")
    hit = pirsch_capture.assert_hit("/pricing", title="Pricing")
    assert hit.ip == "203.0.113.7"
    pirsch_capture.assert_event("Plan viewed", meta={"plan": "pro"}, path="/pricing")
    assert tracker.stats().queued == 0  # the sender saw nothing
    tracker.close(1)


def test_capture_assertions_explain_what_was_captured(pirsch_capture: Capture) -> None:
    tracker = Tracker(environ={})
    tracker.track_page_view(request("/a"))
    tracker.track_page_view(request("/a"))
    with pytest.raises(
        AssertionError, match=r"no page hit with path='/b'; captured: hit https://example.com/a"
    ):
        pirsch_capture.assert_hit("/b")
    with pytest.raises(AssertionError, match="2 page hits with path='/a'"):
        pirsch_capture.assert_hit("/a")
    with pytest.raises(AssertionError, match="expected no page hits"):
        pirsch_capture.assert_no_hits()
    with pytest.raises(AssertionError, match="no event with event_name='Signup'"):
        pirsch_capture.assert_event("Signup")
    pirsch_capture.clear()
    pirsch_capture.assert_nothing_sent()
    tracker.close(1)


def test_assert_hit_shows_the_captured_values_that_differ(pirsch_capture: Capture) -> None:
    tracker = Tracker(environ={})
    tracker.track_page_view(request("/a"), title="Welcome home")
    with pytest.raises(AssertionError) as info:
        pirsch_capture.assert_hit("/a", title="Home")
    assert str(info.value).startswith(
        "no page hit with path='/a', title='Home'; "
        "captured: hit https://example.com/a (title='Welcome home')"
    )
    tracker.close(1)


def test_assert_hit_with_nothing_captured_says_why_each_request_was_skipped(
    pirsch_capture: Capture,
) -> None:
    from flask import Flask

    from pirsch_middleware.flask import Pirsch

    app = Flask(__name__)
    app.add_url_rule("/", "home", lambda: "<title>Home</title>")
    Pirsch(app, environ={})
    client = app.test_client()
    client.get("/", headers={**NAVIGATION_HEADERS, "User-Agent": ""})
    client.get("/", headers=NAVIGATION_HEADERS, environ_base={"REMOTE_ADDR": ""})
    with pytest.raises(AssertionError) as info:
        pirsch_capture.assert_hit("/")
    message = str(info.value)
    assert message.startswith("no page hit with path='/'; captured: nothing; skipped: ")
    assert "GET / (no_user_agent: the API answers 400 without one)" in message
    assert "(no_ip: no visitor address" in message
    app.extensions["pirsch"].tracker.close(1)


def test_nested_captures_and_the_sender_after_them(fake_pirsch_api: FakePirschAPI) -> None:
    tracker = Tracker(access_key="pa_" + "t" * 45, base_url=fake_pirsch_api.base_url, environ={})
    with capture() as outer:
        with capture() as inner:
            tracker.track_page_view(request("/inner"))
        tracker.track_page_view(request("/outer"))
    tracker.track_page_view(request("/sent"))
    tracker.flush(5)
    assert [h.url for h in inner.hits] == ["https://example.com/inner"]
    assert [h.url for h in outer.hits] == ["https://example.com/outer"]
    assert [h["url"] for h in fake_pirsch_api.hits] == ["https://example.com/sent"]
    tracker.close(1)


def test_flask_example_app(pirsch_capture: Capture) -> None:
    from example_apps.flask_app import app

    client = app.test_client()
    client.get("/", headers=NAVIGATION_HEADERS, environ_base=VISITOR)
    client.get("/api/status", headers=NAVIGATION_HEADERS, environ_base=VISITOR)
    client.post("/signup", headers=NAVIGATION_HEADERS, environ_base=VISITOR)
    pirsch_capture.assert_hit("/", title="Home & welcome")
    pirsch_capture.assert_event("Signup", meta={"plan": "pro"})
    assert len(pirsch_capture.hits) == 1


def test_fastapi_example_app(pirsch_capture: Capture) -> None:
    from example_apps.fastapi_app import app

    with TestClient(app, client=("203.0.113.7", 50000)) as client:
        client.get("/pricing", params={"plan": "team"}, headers=NAVIGATION_HEADERS)
    pirsch_capture.assert_hit("/pricing", title="Pricing: team")
    pirsch_capture.assert_event("Plan viewed", meta={"plan": "team"})


def test_django_project(pirsch_capture: Capture) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.test import AsyncClient, Client, override_settings

    with override_settings(PIRSCH={"environ": {}}):
        Client(REMOTE_ADDR="203.0.113.7").get("/page", headers=NAVIGATION_HEADERS)
        asyncio.run(AsyncClient().post("/async-signup", headers=NAVIGATION_HEADERS))
    pirsch_capture.assert_hit("/page", title="Django & sync")
    pirsch_capture.assert_event("Async signup")


def test_the_plugin_loads_from_the_entry_point(pytester: Any) -> None:
    pytester.makepyfile(
        """
        from pirsch_middleware import Tracker, RequestData

        def test_uses_the_fixture(pirsch_capture, fake_pirsch_api):
            tracker = Tracker(environ={})
            headers = {"user-agent": "Mozilla/5.0 Firefox/133.0", "accept": "text/html",
                       "accept-language": "en", "accept-encoding": "gzip"}
            tracker.track_page_view(RequestData("GET", "https", "a.example", "/", "", "203.0.113.9", headers))
            pirsch_capture.assert_hit("/", ip="203.0.113.9")
            assert fake_pirsch_api.base_url.startswith("http://127.0.0.1:")
            tracker.close(1)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-W", "error")
    result.assert_outcomes(passed=1)
