"""What a page view is: the rule table, the request-kind rules, the visitor rules, Accept-CH, and
real clients' header sets through all four adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pirsch_middleware import ConfigurationError, RequestData, Settings
from pirsch_middleware.bots import bad_user_agent
from pirsch_middleware.extract import SKIP_REASONS, Extractor
from pirsch_middleware.pageview import CLIENT_HINTS, RULES, merge_accept_ch, rules_markdown
from pirsch_middleware.testing import FakePirschAPI

from .clients import BROWSERS, CHROMIUM, FIREFOX, OLD_SAFARI, OTHERS, SAFARI, browser_requests
from .conftest import settings
from .harness import ADAPTERS, served

README = Path(__file__).resolve().parent.parent / "README.md"
CHROME_UA = BROWSERS[0][1]
BOT_REASONS = {"bot", "bad_user_agent", "not_browser", "no_user_agent"}


def agent(engine: str) -> str:
    """The first user agent of an engine in tests.clients.BROWSERS."""
    return next(ua for e, ua in BROWSERS if e == engine)


def sample(name: str, engine: str = CHROMIUM, user_agent: str = CHROME_UA) -> dict[str, str]:
    """The headers of one of a browser's requests (see tests.clients), lower-case."""
    found = [s for s in browser_requests(engine, user_agent) if s.name == name]
    return {k.lower(): v for k, v in found[0].headers.items()}


def skip(headers: dict[str, str], status: int = 200, **options: Any) -> str | None:
    extractor = Extractor(settings(**options))
    request = RequestData("GET", "https", "example.com", "/", "", "203.0.113.7", headers)
    return extractor.request_skip(request) or extractor.response_skip(status, "text/html")


def test_readme_lists_every_rule_of_the_table() -> None:
    section = README.read_text().split("### What is a page view", 1)[1].split("\n### ", 1)[0]
    assert rules_markdown() in section
    for rule in RULES:
        if rule.setting != "-":
            assert f"\n### {rule.setting}\n" in README.read_text(), rule.setting


def test_every_rule_is_a_skip_reason_in_table_order() -> None:
    assert SKIP_REASONS[: len(RULES)] == tuple(rule.reason for rule in RULES)
    assert len(set(SKIP_REASONS)) == len(SKIP_REASONS)


@pytest.mark.parametrize(
    ("name", "engine", "reason"),
    [
        ("link", CHROMIUM, None),
        ("typed", FIREFOX, None),
        ("search result", SAFARI, None),
        ("link", OLD_SAFARI, None),  # no Fetch Metadata: told by Accept
        ("reload 304", CHROMIUM, None),
        ("fetch", CHROMIUM, "not_navigation"),
        ("fetch", OLD_SAFARI, "not_navigation"),
        ("fetch html", FIREFOX, "not_navigation"),
        ("htmx partial", CHROMIUM, "partial"),
        ("htmx partial", OLD_SAFARI, "partial"),
        ("htmx boosted", CHROMIUM, None),
        ("htmx history restore", SAFARI, None),
        ("turbo frame", CHROMIUM, "partial"),
        ("turbo frame", OLD_SAFARI, "partial"),  # its Accept asks for HTML: the header decides
        ("turbo drive visit", FIREFOX, None),
        ("turbo prefetch", CHROMIUM, "prefetch"),
        ("unpoly fragment", CHROMIUM, "partial"),
        ("jquery xhr", OLD_SAFARI, "partial"),
        ("iframe", CHROMIUM, "frame"),
        ("speculation prefetch", CHROMIUM, "prefetch"),
        ("link prefetch", FIREFOX, "prefetch"),
        ("global privacy control", FIREFOX, "dnt"),
    ],
)
def test_browser_requests_are_judged_by_how_they_were_made(
    name: str, engine: str, reason: str | None
) -> None:
    headers = sample(name, engine, agent(engine))
    assert skip(headers, 304 if name == "reload 304" else 200) == reason


def test_frames_count_with_track_frames() -> None:
    assert skip(sample("iframe"), track_frames=True) is None


def test_every_html_response_counts_without_navigations_only() -> None:
    for name in ("fetch", "htmx partial", "turbo frame", "iframe"):
        assert skip(sample(name), navigations_only=False) is None, name


def test_a_304_to_a_fetch_is_no_page_view_without_navigations_only() -> None:
    # With the navigation rules off, nothing tells a revalidated reload from a fetch() of JSON
    # answered 304: counting every 304 would turn an API's revalidations into page views.
    revalidated_json = sample("fetch") | {"accept": "application/json"}
    extractor = Extractor(settings(navigations_only=False))
    request = RequestData(
        "GET", "https", "example.com", "/api", "", "203.0.113.7", revalidated_json
    )
    assert extractor.request_skip(request) is None
    assert extractor.response_skip(304, None) == "status"
    assert skip(sample("reload 304"), 304) is None  # with navigations_only, a reload counts


def test_a_304_naming_a_type_that_is_not_html_is_no_page_view() -> None:
    # A reload of a PDF or a JSON document opened in a tab: its 200 was no page view either.
    extractor = Extractor(settings())
    assert extractor.response_skip(304, "application/pdf") == "content_type"
    assert extractor.response_skip(304, "text/html; charset=utf-8") is None
    assert extractor.response_skip(304, None) is None  # most servers send none: the request decides


def test_partial_headers_are_a_setting() -> None:
    old_safari = agent(OLD_SAFARI)
    turbo_frame = sample("turbo frame", OLD_SAFARI, old_safari)
    assert skip(turbo_frame, partial_headers=[]) is None  # no rule left to tell it apart
    custom = sample("link", OLD_SAFARI, old_safari) | {"x-livewire": "true"}
    assert skip(custom) is None
    assert skip(custom, partial_headers=["X-Livewire"]) == "partial"


def test_a_navigation_with_webview_x_requested_with_is_no_partial() -> None:
    # Android's WebView names the app in X-Requested-With on its navigations.
    assert skip(sample("link") | {"x-requested-with": "com.instagram.android"}) is None


def test_impossible_fetch_metadata_is_no_browser() -> None:
    typed_with_referrer = sample("typed") | {"referer": "https://example.com/"}
    assert skip(typed_with_referrer) == "not_browser"
    upgrade_on_fetch = sample("fetch") | {"upgrade-insecure-requests": "1"}
    assert skip(upgrade_on_fetch) == "not_browser"
    for missing in ("accept-language", "accept-encoding"):
        headers = {k: v for k, v in sample("link").items() if k != missing}
        assert skip(headers) == "not_browser", missing
        assert skip(headers, exclude_bots=False) is None, missing


def test_empty_header_values_count_as_missing_like_the_pirsch_server() -> None:
    # bot_filter.go tests Header.Get(name) == "": a scraper sending "Accept-Language:" is caught,
    # and an empty Referer next to Sec-Fetch-Site: none is no referrer.
    for name in ("accept-language", "accept-encoding"):
        assert skip(sample("link") | {name: ""}) == "not_browser", name
    assert skip(sample("typed") | {"referer": ""}) is None


def test_sec_gpc_counts_as_dnt_unless_dnt_is_not_respected() -> None:
    assert skip(sample("link") | {"sec-gpc": "1"}) == "dnt"
    assert skip(sample("link") | {"sec-gpc": "1"}, respect_dnt=False) is None
    assert skip(sample("link") | {"sec-gpc": "0"}) is None


@pytest.mark.parametrize(("engine", "user_agent"), BROWSERS, ids=[ua[:60] for _, ua in BROWSERS])
def test_real_browsers_pass_every_default_rule(engine: str, user_agent: str) -> None:
    assert skip(sample("link", engine, user_agent)) is None
    assert not bad_user_agent(user_agent)


@pytest.mark.parametrize(("name", "headers"), OTHERS, ids=[name for name, _ in OTHERS])
def test_crawlers_previewers_libraries_and_monitors_are_no_page_views(
    name: str, headers: dict[str, str]
) -> None:
    lower = {k.lower(): v for k, v in headers.items()}
    assert skip(lower) is not None
    if name.startswith("scraper"):  # a browser's user agent: only its other headers tell
        assert skip(lower) == "not_browser"
    else:  # caught by what it calls itself, not only by the headers it leaves out
        with_browser_headers = sample("link") | {"user-agent": lower.get("user-agent", "")}
        assert skip(with_browser_headers) in BOT_REASONS


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0",  # 16 characters or fewer
        "Mozilla/5.0 " + "x" * 500,
        "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Safari/537.36 \u00e9",
        "2001:db8::1234:5678:9abc:def0",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/69.0.3497.100 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; rv:60.0) Gecko/20100101 Firefox/60.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/79.0 Safari/537.36 OPR/64.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/70.0 Safari/537.36 Edge/18.17763",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
        "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.289 Version/12.02",
    ],
)
def test_user_agents_no_browser_in_use_sends_are_bad(user_agent: str) -> None:
    assert bad_user_agent(user_agent)
    assert skip(sample("link") | {"user-agent": user_agent}) == "bad_user_agent"


@pytest.mark.parametrize(
    ("existing", "merged"),
    [
        (None, CLIENT_HINTS),
        ("", CLIENT_HINTS),
        ("Sec-CH-Prefers-Color-Scheme", f"Sec-CH-Prefers-Color-Scheme, {CLIENT_HINTS}"),
        (CLIENT_HINTS.lower(), CLIENT_HINTS.lower()),
        ("sec-ch-ua, Sec-CH-Width", "sec-ch-ua, Sec-CH-Width, Sec-CH-UA-Mobile, "
         "Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version, Sec-CH-Viewport-Width"),
    ],
)  # fmt: skip
def test_accept_ch_is_added_to_what_the_app_set(existing: str | None, merged: str) -> None:
    assert merge_accept_ch(existing) == merged


def test_partial_headers_are_checked_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="partial_headers: expected header names"):
        Settings(environ={}, partial_headers=["HX Request"])
    assert Settings(environ={}, partial_headers="HX-Request, X-Livewire").partial_headers == (
        "HX-Request",
        "X-Livewire",
    )


# Real clients' header sets through each adapter and its framework: whether a hit arrives, and
# whether the response asks for client hints (only a page view's does).
CLIENTS = [
    ("Chrome link", sample("link"), True),
    ("Firefox typed", sample("typed", FIREFOX, agent(FIREFOX)), True),
    ("Safari 18 link", sample("link", SAFARI, agent(SAFARI)), True),
    ("Safari 15 link", sample("link", OLD_SAFARI, agent(OLD_SAFARI)), True),
    ("Chrome reload, 304", sample("reload 304"), True),
    ("htmx partial", sample("htmx partial"), False),
    ("htmx boosted", sample("htmx boosted"), True),
    ("htmx history restore", sample("htmx history restore"), True),
    ("Turbo frame", sample("turbo frame"), False),
    ("Turbo Drive visit", sample("turbo drive visit"), True),
    ("Turbo prefetch", sample("turbo prefetch"), False),
    ("fetch()", sample("fetch"), False),
    *((name, headers, False) for name, headers in OTHERS if name in (
        "kube-probe", "AWS ELB", "UptimeRobot", "Slack preview", "Facebook preview", "requests",
        "curl", "scraper with a browser's user agent",
    )),
]  # fmt: skip


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_clients_through_every_adapter(adapter: str, api: FakePirschAPI) -> None:
    with served(adapter, api) as get:
        for i, (name, headers, _) in enumerate(CLIENTS):
            status, response = get(f"/c/{i}", headers)
            assert status == (304 if "if-none-match" in headers else 200), name
            page_view = CLIENTS[i][2]
            assert ("accept-ch" in response) is page_view, name
            if page_view:
                assert response["accept-ch"] == CLIENT_HINTS, name
    arrived = {hit["url"].rsplit("/", 1)[1] for hit in api.hits}
    assert arrived == {str(i) for i, client in enumerate(CLIENTS) if client[2]}
    reload = next(i for i, client in enumerate(CLIENTS) if "304" in client[0])
    assert [h.get("title") for h in api.hits if h["url"].endswith(f"/{reload}")] == [None]
    assert {h.get("title") for h in api.hits if not h["url"].endswith(f"/{reload}")} == {"A page"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_accept_ch_keeps_the_apps_own_and_can_be_turned_off(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api) as get:
        _, response = get("/ch/page", sample("link"))
    assert response["accept-ch"] == f"Sec-CH-Prefers-Color-Scheme, {CLIENT_HINTS}"
    with served(adapter, api, accept_ch=False) as get:
        _, response = get("/c/page", sample("link"))
        _, own = get("/ch/page", sample("link"))
    assert "accept-ch" not in response
    assert own["accept-ch"] == "Sec-CH-Prefers-Color-Scheme"
    assert len(api.hits) == 3


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_404_and_download_navigations_send_the_snippets_events(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api, not_found_event=True, download_event=True) as get:
        assert get("/c/missing/page", sample("link"))[0] == 404
        assert get("/c/files/report.pdf", sample("link"))[0] == 200
        assert get("/c/export", sample("typed"))[0] == 200
        # No navigation, or no visitor: no event.
        get("/c/missing/fetched", sample("fetch"))
        get("/c/files/fetched.pdf", sample("htmx partial"))
        get("/c/missing/crawled", sample("link") | {"User-Agent": GOOGLEBOT})
        get("/c/files/crawled.pdf", sample("link") | {"Sec-Purpose": "prefetch"})
    assert [(e["event_name"], e["event_meta"], e["url"]) for e in api.events] == [
        ("404 Page Not Found", {"path": "/c/missing/page"}, "https://example.com/c/missing/page"),
        (
            "File Download",
            {"file": "/c/files/report.pdf"},
            "https://example.com/c/files/report.pdf",
        ),
        ("File Download", {"file": "/c/export"}, "https://example.com/c/export"),
    ]
    assert api.hits == []


# A link with the download attribute, as Chromium 156 sends it: a navigation to no document
# (Sec-Fetch-Dest: empty), without Accept or Upgrade-Insecure-Requests.
DOWNLOAD_ATTRIBUTE = {
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "empty",
    "Referer": "https://example.com/c/",
    "User-Agent": CHROME_UA,
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_link_with_the_download_attribute_sends_the_download_event(
    adapter: str, api: FakePirschAPI
) -> None:
    with served(adapter, api, download_event=True) as get:
        assert get("/c/files/report.pdf", DOWNLOAD_ATTRIBUTE)[0] == 200
        assert get("/c/export", DOWNLOAD_ATTRIBUTE)[0] == 200
        get("/c/files/fetched.pdf", sample("fetch"))  # a fetch() of a file is still none
    assert [e["event_meta"] for e in api.events] == [
        {"file": "/c/files/report.pdf"},
        {"file": "/c/export"},
    ]
    assert api.hits == []


@pytest.mark.parametrize("adapter", ["asgi", "django"])
def test_404_and_download_events_are_off_by_default(adapter: str, api: FakePirschAPI) -> None:
    with served(adapter, api) as get:
        get("/c/missing/page", sample("link"))
        get("/c/files/report.pdf", sample("link"))
        get("/c/export", sample("link"))
    assert api.received == []


def test_download_extensions_are_a_setting(api: FakePirschAPI) -> None:
    with served("wsgi", api, download_event=True, download_extensions=[".ZIP"]) as get:
        get("/c/files/report.pdf", sample("link"))
        get("/c/files/archive.zip", sample("link"))
    assert [e["event_meta"] for e in api.events] == [{"file": "/c/files/archive.zip"}]
    with pytest.raises(ConfigurationError, match="download_extensions: expected extensions"):
        Settings(environ={}, download_extensions=["tar.gz"])
