"""'Why no hits?': the DEBUG line per skip, trackers(), Tracker.explain and its command line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from flask import Flask
from starlette.testclient import TestClient

from pirsch_middleware import Tracker, request_from_url, trackers
from pirsch_middleware.__main__ import main
from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.flask import Pirsch
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, BROWSER_HEADERS, request, settings

URL = "https://example.com/pricing?plan=pro"
NO_AGENT = {k: v for k, v in BROWSER_HEADERS.items() if k != "user-agent"}
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CRAWLER = {**BROWSER_HEADERS, "user-agent": GOOGLEBOT}  # a browser's headers, a crawler's agent


@pytest.mark.parametrize(
    ("changes", "status", "content_type", "reason"),
    [
        ({"method": "POST"}, 200, "text/html", "method"),
        ({"path": "/static/app.css"}, 200, "text/html", "excluded_path"),
        ({}, 302, "text/html", "status"),
        ({}, 200, "application/json", "content_type"),
        ({"headers": {}}, 200, "text/html", "not_browser"),  # not even Accept-Language
        ({"headers": {"user-agent": "curl/8.5.0"}}, 200, "text/html", "not_browser"),
        ({"headers": NO_AGENT}, 200, "text/html", "no_user_agent"),
        ({"headers": CRAWLER}, 200, "text/html", "bot"),
        (
            {"headers": {**BROWSER_HEADERS, "user-agent": "curl/8.5.0"}},
            200,
            "text/html",
            "bad_user_agent",
        ),
        ({"headers": {**BROWSER_HEADERS, "sec-purpose": "prefetch"}}, 200, "text/html", "prefetch"),
        ({"headers": {**BROWSER_HEADERS, "dnt": "1"}}, 200, "text/html", "dnt"),
        ({"peer": None}, 200, "text/html", "no_ip"),
        ({"host": "bad host"}, 200, "text/html", "bad_host"),
    ],
)
def test_explain_names_the_deciding_rule_without_counting(
    make_tracker: Any, changes: dict[str, Any], status: int, content_type: str, reason: str
) -> None:
    tracker: Tracker = make_tracker()
    verdict = tracker.explain(request(**changes), status, content_type)
    assert (verdict.tracked, verdict.reason) == (False, reason)
    assert verdict.rule
    assert str(verdict).startswith(f"not tracked ({reason}): ")
    assert tracker.stats().skipped == {}


def test_explain_shows_the_hit_a_tracked_request_would_send(make_tracker: Any) -> None:
    tracker: Tracker = make_tracker()
    verdict = tracker.explain(request_from_url(URL, list(BROWSER_HEADERS.items())))
    assert verdict.tracked
    assert verdict.hit is not None
    assert (verdict.hit.url, verdict.hit.ip) == (URL, "203.0.113.7")
    assert str(verdict) == f"tracked: a page view of {URL} from 203.0.113.7"


def test_explain_says_disabled(make_tracker: Any) -> None:
    verdict = make_tracker(enabled=False).explain(request())
    assert verdict.reason == "disabled"


def test_explain_with_snippet_only_says_the_snippet_counts_page_views(make_tracker: Any) -> None:
    tracker: Tracker = make_tracker(snippet="only")
    verdict = tracker.explain(request_from_url(URL, list(BROWSER_HEADERS.items())))
    assert (verdict.tracked, verdict.reason) == (False, "snippet")
    assert tracker.stats().skipped == {}


def test_every_skip_logs_its_reason_at_debug_once_a_second(
    make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker: Tracker = make_tracker()
    caplog.set_level(logging.DEBUG, "pirsch_middleware")
    for _ in range(3):
        tracker.request_skip(request(headers=CRAWLER))
    tracker.request_skip(request("/robots.txt"))
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert lines == [
        "pirsch_middleware: not sent (bot): GET /",
        "pirsch_middleware: not sent (excluded_path): GET /robots.txt",
    ]
    assert tracker.stats().skipped == {"bot": 3, "excluded_path": 1}


def test_flask_request_from_curl_says_why_at_debug(
    api: FakePirschAPI, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask(__name__)
    app.add_url_rule("/", "home", lambda: "<title>Home</title>")
    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={})
    caplog.set_level(logging.DEBUG, "pirsch_middleware")
    app.test_client().get("/", headers={"User-Agent": "curl/8.5.0"})
    # Plain curl sends no Accept-Language: the header rules see it first.
    assert "pirsch_middleware: not sent (not_browser): GET /" in caplog.messages


def test_trackers_lists_the_tracker_starlette_hides(api: FakePirschAPI) -> None:
    app = FastAPI()
    app.add_middleware(PirschMiddleware, settings=settings(api, sync=True))

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return "<title>Home</title>"

    with TestClient(app, client=("203.0.113.7", 5000)) as client:
        client.get("/", headers=BROWSER_HEADERS)
        client.get("/", headers=CRAWLER)
    tracker = trackers()[-1]
    assert tracker.settings.base_url == api.base_url
    assert tracker.stats().sent == 1
    assert tracker.stats().skipped == {"bot": 1}
    tracker.close(1)


def test_explain_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "http://127.0.0.1:8000/"]) == 1
    assert "not tracked (not_browser): every browser sends" in capsys.readouterr().out
    browser = [arg for k, v in BROWSER_HEADERS.items() for arg in ("-H", f"{k}: {v}")]
    assert main(["explain", *browser, "http://127.0.0.1:8000/a"]) == 0
    assert capsys.readouterr().out.startswith("tracked: a page view of http://127.0.0.1:8000/a")
    assert main(["explain", "-H", "User-Agent", "http://127.0.0.1:8000/"]) == 2
    assert "--header: expected 'Name: value'" in capsys.readouterr().out
