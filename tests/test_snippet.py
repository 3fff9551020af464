"""The snippet proxy's endpoints, through each of the four adapters and its real framework: what
arrives becomes the records the snippet describes, with the visitor's address and headers; bad
input is answered 400 with a reason, a wrong method 405; nothing reaches the app."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from pirsch_middleware.snippet_tag import snippet_tag
from pirsch_middleware.testing import FakePirschAPI

from .conftest import BROWSER_HEADERS, CHROME
from .snippet_harness import ADAPTERS, VISITOR, served

pytestmark = pytest.mark.parametrize("adapter", ADAPTERS)

PAGE_URL = "https://example.com/page?utm_source=newsletter"
PAGE_VIEW = urlencode(
    {
        "nc": "1732870000000",
        "code": "not-set",
        "url": PAGE_URL,
        "t": "A page",
        "ref": "https://news.example.org/",
        "w": "1920",
        "h": "1080",
        "tag_plan": "pro",
    }
)
EVENT = {
    "identification_code": "not-set",
    "url": "https://example.com/page",
    "title": "A page",
    "referrer": "https%3A%2F%2Fnews.example.org%2F",  # the snippet sends it URL-encoded
    "screen_width": 1920,
    "screen_height": 1080,
    "tags": {},
    "event_name": "Outbound Link Click",
    "event_duration": 0,
    "event_meta": {"url": "https://other.example.net/"},
}


def event_body(**changes: object) -> bytes:
    return json.dumps({**EVENT, **changes}).encode()


def test_page_view_from_the_snippet_is_sent_with_the_visitors_data(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api) as (call, _):
        status, headers, _body = call("GET", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)
    assert status == 200
    assert headers["cache-control"] == "no-store"
    [hit] = api.hits
    assert hit["url"] == PAGE_URL
    assert hit["title"] == "A page"
    assert hit["referrer"] == "https://news.example.org/"
    assert (hit["screen_width"], hit["screen_height"]) == (1920, 1080)
    assert hit["tags"] == {"plan": "pro"}
    assert hit["ip"] == VISITOR
    assert hit["user_agent"] == CHROME
    assert hit["sec_ch_ua_platform"] == '"Windows"'
    assert hit["accept_language"] == BROWSER_HEADERS["accept-language"]


def test_event_from_the_snippet_is_sent_with_the_visitors_data(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api) as (call, _):
        status, _headers, _body = call("POST", "/p/e", "", BROWSER_HEADERS, event_body())
    assert status == 200
    [event] = api.events
    assert event["event_name"] == "Outbound Link Click"
    assert event["event_meta"] == {"url": "https://other.example.net/"}
    assert event["url"] == "https://example.com/page"
    assert event["referrer"] == "https://news.example.org/"
    assert (event["ip"], event["user_agent"]) == (VISITOR, CHROME)
    assert "event_duration" not in event  # 0 seconds: not sent


def test_session_keep_alive_from_the_snippet_is_sent(adapter: str, api: FakePirschAPI) -> None:
    query = urlencode({"nc": "1", "code": "not-set", "url": "https://example.com/page"})
    with served(adapter, api) as (call, _):
        status, _headers, _body = call("POST", "/p/s", query, BROWSER_HEADERS)
    assert status == 200
    [session] = api.sessions
    assert (session["ip"], session["user_agent"]) == (VISITOR, CHROME)
    assert session["sec_ch_ua"] == BROWSER_HEADERS["sec-ch-ua"]


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        ("GET", "/p/pv", "t=Title&w=1", b"", b"url"),
        ("GET", "/p/pv", "url=%2Fpage", b"", b"absolute"),
        ("GET", "/p/pv", "url=javascript%3Aalert(1)", b"", b"absolute"),
        ("GET", "/p/pv", urlencode({"url": PAGE_URL, "w": "\u00b2"}), b"", b"w:"),  # a digit
        ("POST", "/p/e", "", event_body(event_name=""), b"event_name"),
        ("POST", "/p/e", "", event_body(url=None), b"url"),
        ("POST", "/p/e", "", event_body(screen_width="wide"), b"screen_width"),
        ("POST", "/p/e", "", event_body(event_meta=["url"]), b"event_meta"),
    ],
)
def test_missing_or_malformed_fields_are_answered_400_with_the_reason(
    adapter: str, api: FakePirschAPI, method: str, path: str, query: str, body: bytes, reason: bytes
) -> None:
    with served(adapter, api) as (call, tracker):
        status, headers, text = call(method, path, query, BROWSER_HEADERS, body)
        assert tracker.flush(2)
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert headers["x-content-type-options"] == "nosniff"  # the reason quotes the visitor
    assert reason in text
    assert api.received == []


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        ("GET", "/p/pv", urlencode({"url": "https://example.com/" + "a" * 5000}), b"", b"url"),
        ("GET", "/p/pv", urlencode({"url": PAGE_URL, "w": "99999999"}), b"", b"w:"),
        ("GET", "/p/pv", PAGE_VIEW + "&t=" + "x" * 9000, b"", b"query"),
        ("POST", "/p/e", "", event_body(title="x" * 70_000), b"body"),
        ("POST", "/p/e", "", event_body(event_meta={str(n): "v" for n in range(21)}), b"meta"),
        ("POST", "/p/e", "", event_body(event_meta={"k": "v" * 2001}), b"meta"),
        ("POST", "/p/e", "", event_body(event_name="n" * 201), b"event_name"),
    ],
)
def test_oversized_input_is_answered_400_with_the_reason(
    adapter: str, api: FakePirschAPI, method: str, path: str, query: str, body: bytes, reason: bytes
) -> None:
    with served(adapter, api) as (call, tracker):
        status, _headers, text = call(method, path, query, BROWSER_HEADERS, body)
        assert tracker.flush(2)
    assert status == 400
    assert reason in text
    assert api.received == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_bad_json_is_answered_400(adapter: str, api: FakePirschAPI, body: bytes) -> None:
    with served(adapter, api) as (call, tracker):
        status, _headers, text = call("POST", "/p/e", "", BROWSER_HEADERS, body)
        assert tracker.flush(2)
    assert status == 400
    assert b"JSON" in text
    assert api.received == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/p/pv", "GET, HEAD"),
        ("PUT", "/p/pa.js", "GET, HEAD"),
        ("GET", "/p/e", "POST"),
        ("GET", "/p/s", "POST"),
    ],
)
def test_wrong_method_is_answered_405_with_allow(
    adapter: str, api: FakePirschAPI, method: str, path: str, allow: str
) -> None:
    with served(adapter, api) as (call, tracker):
        status, headers, _text = call(method, path, PAGE_VIEW, BROWSER_HEADERS, event_body())
        assert tracker.flush(2)
    assert status == 405
    assert headers["allow"] == allow
    assert api.received == []


def test_forged_address_header_from_an_untrusted_peer_is_ignored(
    adapter: str, api: FakePirschAPI
) -> None:
    forged = {**BROWSER_HEADERS, "x-forwarded-for": "198.51.100.99"}
    with served(adapter, api) as (call, _):
        call("GET", "/p/pv", PAGE_VIEW, forged)
        call("POST", "/p/e", "", forged, event_body())
        call("POST", "/p/s", "", forged)
        # From the reverse proxy (a trusted peer), the header names the visitor.
        call("POST", "/p/s", "", forged, peer="10.0.0.5")
    assert [record.body["ip"] for record in api.received] == [VISITOR] * 3 + ["198.51.100.99"]


def test_snippet_requests_follow_the_privacy_and_bot_rules(
    adapter: str, api: FakePirschAPI
) -> None:
    gpc = {**BROWSER_HEADERS, "sec-gpc": "1"}
    bot = {**BROWSER_HEADERS, "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    with served(adapter, api) as (call, tracker):
        answers = [
            call("GET", "/p/pv", PAGE_VIEW, gpc)[0],
            call("POST", "/p/e", "", gpc, event_body())[0],
            call("POST", "/p/s", "", bot)[0],
        ]
        skipped = tracker.stats().skipped
    assert answers == [200, 200, 200]  # a skipped record is no error of the page's
    assert api.received == []
    assert skipped.get("dnt") == 2
    assert skipped.get("bot") == 1


def test_page_view_of_an_excluded_path_is_not_sent(adapter: str, api: FakePirschAPI) -> None:
    query = urlencode({"url": "https://example.com/admin/users"})
    with served(adapter, api, exclude_paths=["/admin/"]) as (call, tracker):
        assert call("GET", "/p/pv", query, BROWSER_HEADERS)[0] == 200
        assert tracker.stats().skipped.get("excluded_path") == 1
    assert api.received == []


def test_only_mode_counts_no_page_view_server_side(adapter: str, api: FakePirschAPI) -> None:
    with served(adapter, api, snippet="only") as (call, _):
        status, _headers, body = call("GET", "/page", "", BROWSER_HEADERS)
        assert status == 200
        assert b"<title>" in body  # the app's page (Django's has its own title)
        call("GET", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)
    assert [hit["url"] for hit in api.hits] == [PAGE_URL]


def test_hybrid_mode_counts_one_page_view_per_page(adapter: str, api: FakePirschAPI) -> None:
    navigation = {**BROWSER_HEADERS, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    with served(adapter, api, snippet="hybrid") as (call, tracker):
        assert call("GET", "/page", "", navigation)[0] == 200
        # The snippet of that page, had it not been told data-disable-page-views.
        assert call("GET", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)[0] == 200
        assert call("POST", "/p/e", "", BROWSER_HEADERS, event_body())[0] == 200
        assert tracker.stats().skipped.get("hybrid") == 1
    assert [hit["url"] for hit in api.hits] == ["https://example.com/page"]
    assert [event["event_name"] for event in api.events] == ["Outbound Link Click"]


def test_other_paths_under_the_prefix_are_the_apps(adapter: str, api: FakePirschAPI) -> None:
    with served(adapter, api) as (call, _):
        status, _headers, _body = call("GET", "/p/other", "", BROWSER_HEADERS)
    assert status == 404
    assert api.received == []


def test_proxy_off_leaves_its_paths_to_the_app(adapter: str, api: FakePirschAPI) -> None:
    with served(adapter, api, snippet="off") as (call, _):
        assert call("GET", "/p/pa.js", "", BROWSER_HEADERS)[0] == 404
        assert call("GET", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)[0] == 404
    assert api.received == []
    assert api.script_requests == 0


def test_script_is_served_with_caching_headers_and_revalidated(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api) as (call, _):
        status, headers, body = call("GET", "/p/pa.js", "", BROWSER_HEADERS)
        assert status == 200
        assert body == api.script
        assert headers["content-type"].startswith("text/javascript")
        assert headers["cache-control"] == "public, max-age=3600"
        etag = headers["etag"]
        again = call("GET", "/p/pa.js", "", {**BROWSER_HEADERS, "if-none-match": etag})
        other = call("GET", "/p/pa.js", "", {**BROWSER_HEADERS, "if-none-match": '"old"'})
    assert again[0] == 304
    assert again[1]["etag"] == etag
    assert again[2] == b""
    assert other[0] == 200
    assert api.script_requests == 1  # fetched once, then served from memory


def test_head_and_not_modified_give_the_scripts_length_or_none(
    adapter: str, api: FakePirschAPI
) -> None:
    # RFC 9110 8.6: a HEAD or 304 response carries no body, and a Content-Length in it must
    # be the length the GET's 200 would have had (before: 0, the length of the empty body).
    with served(adapter, api) as (call, _):
        etag = call("GET", "/p/pa.js", "", BROWSER_HEADERS)[1]["etag"]
        head = call("HEAD", "/p/pa.js", "", BROWSER_HEADERS)
        unchanged = call("GET", "/p/pa.js", "", {**BROWSER_HEADERS, "if-none-match": etag})
    assert (head[0], head[2], unchanged[0], unchanged[2]) == (200, b"", 304, b"")
    assert head[1]["etag"] == etag
    for headers in (head[1], unchanged[1]):
        assert headers["content-length"] == str(len(api.script))


def test_refused_input_is_counted_as_invalid(adapter: str, api: FakePirschAPI) -> None:
    # Like an event a view helper cannot send, a record the proxy refuses is counted (it was
    # answered 400 and seen nowhere but in the browser).
    with served(adapter, api) as (call, tracker):
        assert call("POST", "/p/e", "", BROWSER_HEADERS, event_body(event_meta=["x"]))[0] == 400
        assert call("GET", "/p/pv", "url=ftp%3A%2F%2Fexample.com%2F", BROWSER_HEADERS)[0] == 400
        assert call("GET", "/p/e", "", BROWSER_HEADERS)[0] == 405  # no record: not counted
        assert tracker.stats().skipped == {"invalid": 2}
    assert api.received == []


def test_head_of_the_page_view_endpoint_counts_nothing(adapter: str, api: FakePirschAPI) -> None:
    # A HEAD (a link checker, curl -I) asks for the headers a GET would get, not for its effect.
    with served(adapter, api) as (call, tracker):
        status, _headers, body = call("HEAD", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)
        assert tracker.flush(2)
    assert (status, body) == (200, b"")
    assert api.received == []


def test_event_with_a_lone_surrogate_escape_is_sent(adapter: str, api: FakePirschAPI) -> None:
    # JSON.stringify writes half an emoji (a string a page cut with slice()) as a lone
    # \ud83d escape, which is valid JSON: before, the event was refused as invalid JSON.
    body = event_body(event_meta={"query": "\ud83d"}, title="Caf\udc80")
    assert b"\\ud83d" in body
    with served(adapter, api) as (call, tracker):
        status, _headers, text = call("POST", "/p/e", "", BROWSER_HEADERS, body)
        assert tracker.flush(2)
    assert (status, text) == (200, b"")
    [event] = api.events
    assert event["event_meta"] == {"query": "?"}  # as the sender writes any lone surrogate
    assert event["title"] == "Caf?"


def test_tracking_turned_off_turns_the_proxy_off(adapter: str, api: FakePirschAPI) -> None:
    # enabled=False sends nothing: before, the proxy still fetched the script from Pirsch for
    # every page whose template wrote the tag, and answered the snippet's requests.
    with served(adapter, api, enabled=False) as (call, tracker):
        assert call("GET", "/p/pa.js", "", BROWSER_HEADERS)[0] == 404
        assert call("GET", "/p/pv", PAGE_VIEW, BROWSER_HEADERS)[0] == 404
        assert snippet_tag(tracker.settings) == ""
    assert api.script_requests == 0
    assert api.received == []
