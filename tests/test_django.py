"""The Django middleware through Django's test clients (sync and async), checks and settings."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from asgiref.sync import iscoroutinefunction  # noqa: E402
from django.core.checks import run_checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402

from pirsch_middleware.django import PirschMiddleware  # noqa: E402
from pirsch_middleware.django.checks import check_settings  # noqa: E402
from pirsch_middleware.testing import FakePirschAPI  # noqa: E402

from . import django_urls  # noqa: E402
from .conftest import ACCESS_KEY, BROWSER_HEADERS  # noqa: E402

HEADERS = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in BROWSER_HEADERS.items()}


@pytest.fixture
def pirsch(api: FakePirschAPI) -> Iterator[dict[str, Any]]:
    options = {"access_key": ACCESS_KEY, "base_url": api.base_url, "sync": True, "environ": {}}
    with override_settings(PIRSCH=options):
        yield options


def test_sync_client_tracks_pages_and_events(api: FakePirschAPI, pirsch: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for path in ("/page", "/api", "/old", "/static/site.css", "/health"):
        assert client.get(path, **HEADERS).status_code in (200, 302)
    assert client.get("/page", **HEADERS, HTTP_SEC_PURPOSE="prefetch").status_code == 200
    assert client.post("/signup", **HEADERS).content == b"thanks"
    assert client.get("/event", **HEADERS).status_code == 200
    assert client.get("/stream", **HEADERS).status_code == 200
    assert client.get("/compressed", **HEADERS).status_code == 200
    assert [(r.kind, r.body["url"], r.body.get("title")) for r in api.received] == [
        ("hit", "http://testserver/page", "Django & sync"),
        ("event", "http://testserver/signup", None),
        ("hit", "http://testserver/event", "Chosen by the view"),
        ("event", "http://testserver/event", None),
        ("hit", "http://testserver/stream", None),  # a streamed body is not read ahead
        ("hit", "http://testserver/compressed", None),  # nor is a compressed one
    ]
    assert api.hits[0]["ip"] == "203.0.113.7"
    assert api.events[0]["event_meta"] == {"plan": "pro"}


def test_async_client_runs_the_async_path(api: FakePirschAPI, pirsch: Any) -> None:
    async def visit() -> list[int]:
        client = AsyncClient()
        statuses = []
        for path in ("/async", "/page", "/event", "/api"):
            statuses.append((await client.get(path, headers=BROWSER_HEADERS)).status_code)
        statuses.append((await client.post("/async-signup", headers=BROWSER_HEADERS)).status_code)
        statuses.append((await client.post("/signup", headers=BROWSER_HEADERS)).status_code)
        return statuses

    assert asyncio.run(visit()) == [200] * 6
    assert [(r.kind, r.body.get("title") or r.body.get("event_name")) for r in api.received] == [
        ("hit", "Django async"),
        ("hit", "Django & sync"),  # a sync view under ASGI: the context is copied to its thread
        ("hit", "Chosen by the view"),
        ("event", "Viewed"),
        ("event", "Async signup"),
        ("event", "Signup"),
    ]


def test_one_middleware_class_serves_both_stacks() -> None:
    def sync_view(request: Any) -> HttpResponse:
        return HttpResponse("")

    async def async_view(request: Any) -> HttpResponse:
        return HttpResponse("")

    assert PirschMiddleware.sync_capable
    assert PirschMiddleware.async_capable
    assert not iscoroutinefunction(PirschMiddleware(sync_view))
    assert iscoroutinefunction(PirschMiddleware(async_view))


def test_request_user_is_never_touched(api: FakePirschAPI, pirsch: Any) -> None:
    django_urls.USER_LOADS.clear()
    Client().get("/page", **HEADERS)
    asyncio.run(AsyncClient().get("/async", headers=BROWSER_HEADERS))
    assert len(api.hits) == 2
    assert django_urls.USER_LOADS == []


def test_trusted_proxy_and_forged_header(api: FakePirschAPI, pirsch: Any) -> None:
    forwarded = {**HEADERS, "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    Client(REMOTE_ADDR="10.0.0.5").get("/page", **forwarded)
    Client(REMOTE_ADDR="203.0.113.7").get("/page", **forwarded)
    assert [h["ip"] for h in api.hits] == ["198.51.100.9", "203.0.113.7"]


def test_override_settings_takes_effect(api: FakePirschAPI, pirsch: dict[str, Any]) -> None:
    client = Client()
    client.get("/page", **HEADERS)
    with override_settings(PIRSCH={**pirsch, "exclude_paths": ["/page"]}):
        client.get("/page", **HEADERS)
        with override_settings(PIRSCH={**pirsch, "enabled": False}):
            client.get("/page", **HEADERS)
    client.get("/page", **HEADERS)
    assert len(api.hits) == 2


def test_bad_settings_raise_improperly_configured_at_start_up() -> None:
    def view(request: Any) -> HttpResponse:
        return HttpResponse("")

    with override_settings(PIRSCH={"batch_size": 0}):
        with pytest.raises(ImproperlyConfigured, match="PIRSCH: batch_size: expected"):
            PirschMiddleware(view)
    with override_settings(PIRSCH={"acess_key": "typo"}):
        with pytest.raises(
            ImproperlyConfigured, match=r"did you mean 'access_key'\?\), got 'acess_key'"
        ):
            PirschMiddleware(view)
    with override_settings(PIRSCH=["not", "a", "dict"]):
        with pytest.raises(ImproperlyConfigured, match="PIRSCH: expected a dict"):
            PirschMiddleware(view)


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("a string", ["pirsch_middleware.E001"]),
        ({"acess_key": "typo"}, ["pirsch_middleware.E002"]),
        ({"batch_size": 0, "environ": {}}, ["pirsch_middleware.E003"]),
        ({"environ": {}}, ["pirsch_middleware.W001"]),
        ({"environ": {}, "enabled": False}, []),
        ({"access_key": ACCESS_KEY}, []),
    ],
)
def test_system_checks(value: object, ids: list[str]) -> None:
    with override_settings(PIRSCH=value):
        assert [p.id for p in check_settings()] == ids
        # Installed through the app config, so manage.py check runs them.
        assert [p.id for p in run_checks() if p.id.startswith("pirsch_middleware")] == ids


def test_check_suggests_the_closest_option_for_an_unknown_key() -> None:
    with override_settings(PIRSCH={"acess_key": "typo"}):
        (problem,) = check_settings()
    assert problem.hint == "'acess_key': did you mean 'access_key'?"


def test_check_points_out_flask_style_settings() -> None:
    with override_settings(PIRSCH_ENABLED=False, PIRSCH={"access_key": ACCESS_KEY}):
        problems = check_settings()
    assert [p.id for p in problems] == ["pirsch_middleware.W003"]
    assert "PIRSCH_ENABLED" in problems[0].msg
    # A PIRSCH_* setting the dict reads (PIRSCH = {"access_key": PIRSCH_ACCESS_KEY}) is fine.
    with override_settings(PIRSCH_ACCESS_KEY=ACCESS_KEY, PIRSCH={"access_key": ACCESS_KEY}):
        assert check_settings() == []


def test_check_for_missing_middleware() -> None:
    with override_settings(MIDDLEWARE=[], PIRSCH={"access_key": ACCESS_KEY}):
        assert [p.id for p in check_settings()] == ["pirsch_middleware.W002"]


def test_secrets_stay_out_of_check_messages() -> None:
    with override_settings(PIRSCH={"access_key": 12345678, "environ": {}}):
        messages = [p.msg for p in check_settings()]
    assert messages == [
        "PIRSCH: access_key: expected a non-empty string or None, got a hidden value"
    ]


def test_tracking_errors_never_reach_the_view(
    api: FakePirschAPI, pirsch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("tracker bug")

    monkeypatch.setattr("pirsch_middleware.django.middleware.environ_request", broken)
    assert Client().get("/page", **HEADERS).status_code == 200
    assert asyncio.run(AsyncClient().get("/async", headers=BROWSER_HEADERS)).status_code == 200
    assert api.received == []


def test_request_data_comes_from_meta(api: FakePirschAPI, pirsch: Any) -> None:
    Client().get("/page?utm_source=mail", **HEADERS, HTTP_HOST="example.com", secure=True)
    hit = api.hits[0]
    assert hit["url"] == "https://example.com/page?utm_source=mail"
    assert hit["accept_language"] == BROWSER_HEADERS["accept-language"]
    assert hit["sec_ch_ua_platform"] == BROWSER_HEADERS["sec-ch-ua-platform"]


def test_streamed_body_emits_events_under_wsgi_and_asgi(api: FakePirschAPI, pirsch: Any) -> None:
    response = Client(REMOTE_ADDR="203.0.113.7").get("/stream-events", **HEADERS)
    assert b"".join(response.streaming_content) == b"<title>Feed</title><p>one</p>"

    async def fetch() -> bytes:
        response = await AsyncClient().get("/stream-events-async", headers=BROWSER_HEADERS)
        return b"".join([chunk async for chunk in response.streaming_content])

    assert asyncio.run(fetch()) == b"<title>Feed</title><p>two</p>"
    assert [(r.kind, r.body["url"], r.body.get("event_meta")) for r in api.received] == [
        ("hit", "http://testserver/stream-events", None),
        ("event", "http://testserver/stream-events", {"n": "1"}),
        ("hit", "http://testserver/stream-events-async", None),
        ("event", "http://testserver/stream-events-async", {"n": "2"}),
    ]


def test_snippet_event_with_a_chunked_body_is_read_under_wsgi(
    api: FakePirschAPI, pirsch: dict[str, Any]
) -> None:
    # gunicorn hands a chunked body on without CONTENT_LENGTH (wsgi.input_terminated), where
    # Django's request.read() reads nothing: before, the event was refused as invalid JSON.
    import io

    body = b'{"event_name": "Chunked", "url": "https://example.com/"}'
    chunked = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True}
    with override_settings(PIRSCH={**pirsch, "snippet": "only"}):
        response = Client(REMOTE_ADDR="203.0.113.7").generic("POST", "/p/e", **HEADERS, **chunked)
    assert (response.status_code, response.content) == (200, b"")
    assert [event["event_name"] for event in api.events] == ["Chunked"]
