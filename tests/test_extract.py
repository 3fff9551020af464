from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

from pirsch_middleware import Event, Hit, RequestData, Session
from pirsch_middleware.extract import Extractor
from pirsch_middleware.header_rules import MAX_VISITORS

from .conftest import BROWSER_HEADERS, CHROME, request, settings

EXTRACTOR = Extractor(settings())
# Behind a reverse proxy the user says sets X-Forwarded-Host and X-Forwarded-Proto.
PROXIED = Extractor(settings(proxy_sets_host=True, proxy_sets_proto=True))
T = 1_700_000_000.25


def hit(req: RequestData, extractor: Extractor = EXTRACTOR, **kwargs: Any) -> Hit:
    built = extractor.hit(req, T, **kwargs)
    assert isinstance(built, Hit), built
    return built


def test_page_hit_carries_every_field() -> None:
    req = request(
        "/blog/post",
        query="utm_campaign=spring&x=1",
        headers={
            **BROWSER_HEADERS,
            "sec-ch-ua-platform-version": '"15.0.0"',
            "sec-ch-width": "1920",
            "sec-ch-viewport-width": "1280",
            "dnt": "0",
        },
    )
    h = hit(
        req, title="  My \n Post ", tags={"author": "kim"}, screen_width=1920, screen_height=1080
    )
    assert h.payload() == {
        "ip": "203.0.113.7",
        "user_agent": CHROME,
        "time": "2023-11-14T22:13:20.250Z",
        "sec_ch_ua": BROWSER_HEADERS["sec-ch-ua"],
        "sec_ch_ua_mobile": "?0",
        "sec_ch_ua_platform": '"Windows"',
        "sec_ch_ua_platform_version": '"15.0.0"',
        "sec_ch_width": "1920",
        "sec_ch_viewport_width": "1280",
        "url": "https://example.com/blog/post?utm_campaign=spring&x=1",
        "accept_language": "de-DE,de;q=0.9,en;q=0.8",
        "referrer": "https://news.example.org/",
        "title": "My Post",
        "screen_width": 1920,
        "screen_height": 1080,
        "tags": {"author": "kim"},
        "dnt": "0",
    }


@pytest.mark.parametrize(
    ("kwargs", "url"),
    [
        ({"host": "Example.COM:8443", "scheme": "http"}, "http://example.com:8443/"),
        ({"path": "/caf\u00e9 menu"}, "https://example.com/caf%C3%A9%20menu"),
        ({"path": "/a%2Fb"}, "https://example.com/a%2Fb"),
        ({"path": ""}, "https://example.com/"),
        ({"host": "[2001:db8::1]:80"}, "https://[2001:db8::1]:80/"),
        # A trusted stock reverse proxy passes the visitor's X-Forwarded-Host and -Proto on.
        (
            {"peer": "10.0.0.1", "x_forwarded_proto": "http", "x_forwarded_host": "evil.example"},
            "https://example.com/",
        ),
    ],
)
def test_url(kwargs: dict[str, Any], url: str) -> None:
    assert hit(request(**kwargs)).url == url


@pytest.mark.parametrize(
    ("kwargs", "url"),
    [
        # From a trusted proxy that says it sets them, its view of scheme and host counts.
        (
            {
                "peer": "10.0.0.1",
                "x_forwarded_proto": "https",
                "x_forwarded_host": "shop.example",
                "scheme": "http",
            },
            "https://shop.example/",
        ),
        # From anyone else it does not.
        ({"x_forwarded_proto": "http", "x_forwarded_host": "evil.example"}, "https://example.com/"),
        # The entry the nearest proxy appended counts, whatever its case and blanks.
        ({"peer": "10.0.0.1", "x_forwarded_proto": "https , HTTP "}, "http://example.com/"),
        (
            {"peer": "10.0.0.1", "x_forwarded_host": " evil.example , shop.example "},
            "https://shop.example/",
        ),
    ],
)
def test_proxy_sets_host_and_proto_believes_them_from_a_trusted_proxy(
    kwargs: dict[str, Any], url: str
) -> None:
    assert hit(request(**kwargs), PROXIED).url == url


@pytest.mark.parametrize(
    ("options", "url"),
    [
        ({}, "http://example.com/"),
        ({"proxy_sets_host": True}, "http://shop.example/"),
        ({"proxy_sets_proto": True}, "https://example.com/"),
    ],
)
def test_each_forwarded_header_counts_only_when_its_setting_is_on(
    options: dict[str, Any], url: str
) -> None:
    req = request(
        peer="10.0.0.1", scheme="http", x_forwarded_host="shop.example", x_forwarded_proto="https"
    )
    assert hit(req, Extractor(settings(**options))).url == url


def test_forwarded_host_and_proto_are_the_entries_the_nearest_proxy_appended() -> None:
    # Apache's mod_proxy appends X-Forwarded-Host: the visitor's own value stays on the left.
    forged = request(
        peer="10.0.0.1",
        scheme="http",
        x_forwarded_host="evil.example, shop.example",
        x_forwarded_proto="http, https",
    )
    assert hit(forged, PROXIED).url == "https://shop.example/"


def test_proxy_none_believes_no_forwarded_host_or_proto() -> None:
    # Nothing in front writes them: even from a private peer they are what the visitor sent.
    direct = request(peer="10.0.0.7", x_forwarded_host="evil.example", x_forwarded_proto="http")
    built = Extractor(settings(proxy="none")).hit(direct, T)
    assert isinstance(built, Hit)
    assert built.url == "https://example.com/"
    assert built.ip == "10.0.0.7"


def test_bad_host_is_skipped() -> None:
    assert EXTRACTOR.hit(request(host="exa mple.com/x"), T) == "bad_host"


def test_no_address_at_all_is_skipped() -> None:
    assert EXTRACTOR.hit(request(peer=None), T) == "no_ip"


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("", "https://a.example/", "https://a.example/"),
        ("ref=newsletter", "https://a.example/", "newsletter"),
        ("referrer=https%3A%2F%2Fb.example", None, "https://b.example"),
        ("utm_source=twitter", "https://a.example/", "https://a.example/"),
        ("utm_source=twitter", None, "twitter"),
        ("source=rss", None, "rss"),
        ("page=2", None, None),
    ],
)
def test_referrer_follows_pirschs_rule(
    query: str, header: str | None, expected: str | None
) -> None:
    headers = {"user-agent": CHROME}
    if header:
        headers["referer"] = header
    assert hit(request(query=query, headers=headers)).referrer == expected


def test_forwarding_headers_are_sent_as_received() -> None:
    h = hit(
        request(peer="10.0.0.1", x_forwarded_for="6.6.6.6, 198.51.100.1", x_real_ip="198.51.100.1")
    )
    assert h.ip == "198.51.100.1"
    assert h.x_forwarded_for == "6.6.6.6, 198.51.100.1"
    assert h.x_real_ip == "198.51.100.1"


def test_huge_values_are_cut() -> None:
    h = hit(
        request(
            query="q=" + "x" * 100_000, user_agent="Mozilla " + "y" * 100_000, referer="r" * 10_000
        )
    )
    assert len(h.url) <= 4096
    assert len(h.user_agent) <= 1024
    assert h.referrer is not None
    assert len(h.referrer) <= 2048


def test_title_is_cut_at_the_api_limit() -> None:
    assert len(hit(request(), title="t" * 1000).title or "") == 512


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (request(method="POST"), "method"),
        (request(method="HEAD"), "method"),
        (request("/favicon.ico"), "excluded_path"),
        (request("/robots.txt"), "excluded_path"),
        (request("/static/app.css"), "excluded_path"),
        (request("/.well-known/security.txt"), "excluded_path"),
        (request("/img/logo.png"), "excluded_path"),
        (request(x_moz="prefetch"), "prefetch"),
        (request(purpose="prefetch"), "prefetch"),
        (request(x_purpose="preview"), "prefetch"),
        (request(sec_purpose="prefetch;prerender"), "prefetch"),
        (request(dnt="1"), "dnt"),
        (
            request(headers={k: v for k, v in BROWSER_HEADERS.items() if k != "user-agent"}),
            "no_user_agent",
        ),
        (request(user_agent="   "), "no_user_agent"),
        (
            request(
                user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            ),
            "bot",
        ),
        (request(user_agent="python-requests/2.31.0"), "bot"),
        (request(user_agent="curl/8.5.0"), "bad_user_agent"),  # 16 characters or fewer
    ],
)
def test_request_skip_reasons(req: RequestData, reason: str) -> None:
    assert EXTRACTOR.request_skip(req) == reason


@pytest.mark.parametrize("path", ["/", "/blog/post", "/static", "/statics/x", "/about.html"])
def test_page_requests_pass(path: str) -> None:
    assert EXTRACTOR.request_skip(request(path)) is None


@pytest.mark.parametrize(
    ("status", "content_type", "reason"),
    [
        (200, "text/html; charset=utf-8", None),
        (200, "TEXT/HTML", None),
        (203, "application/xhtml+xml", None),
        (301, "text/html", "status"),
        (304, "text/html", None),
        (304, None, None),
        (404, "text/html", "status"),
        (500, "text/html", "status"),
        (200, "application/json", "content_type"),
        (200, None, "content_type"),
        (200, "", "content_type"),
    ],
)
def test_response_skip(status: int, content_type: str | None, reason: str | None) -> None:
    assert EXTRACTOR.response_skip(status, content_type) == reason


def test_custom_excludes_globs_and_regexes() -> None:
    ex = Extractor(settings(exclude_paths=["/admin/", "/health", "re:^/api/v[0-9]+/"]))
    assert ex.request_skip(request("/admin/users")) == "excluded_path"
    assert ex.request_skip(request("/health")) == "excluded_path"
    assert ex.request_skip(request("/healthz")) is None
    assert ex.request_skip(request("/api/v2/items")) == "excluded_path"
    # The defaults were replaced.
    assert ex.request_skip(request("/favicon.ico")) is None


def test_options_turn_rules_off() -> None:
    ex = Extractor(settings(respect_dnt=False, exclude_bots=False, disable_bot_filter=True))
    assert ex.request_skip(request(dnt="1")) is None
    assert ex.request_skip(request(user_agent=GOOGLEBOT)) is None
    built = ex.hit(request(dnt="1"), T)
    assert isinstance(built, Hit)
    assert built.dnt == "1"
    assert built.payload()["disable_bot_filter"] is True


def test_should_track_predicate() -> None:
    ex = Extractor(settings(should_track=lambda r: not r.path.startswith("/private")))
    assert ex.request_skip(request("/private/x")) == "should_track"
    assert ex.request_skip(request("/public")) is None


def test_event_and_session_records() -> None:
    event = EXTRACTOR.event(
        request("/signup", method="POST"),
        T,
        "Signup",
        duration=3,
        meta={"plan": "pro"},
        non_interactive=True,
    )
    assert isinstance(event, Event)
    body = event.payload()
    assert body["event_name"] == "Signup"
    assert body["event_duration"] == 3
    assert body["event_meta"] == {"plan": "pro"}
    assert body["non_interactive"] is True
    assert body["url"] == "https://example.com/signup"
    session = EXTRACTOR.session(request(), T)
    assert isinstance(session, Session)
    assert set(session.payload()) == {
        "ip",
        "user_agent",
        "time",
        "sec_ch_ua",
        "sec_ch_ua_mobile",
        "sec_ch_ua_platform",
    }


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("/user/42/settings", True),
        ("/user/42/profile", False),
        ("/v1/x", True),
        ("/v12/x", False),
        ("/files/report.PDF", False),  # globs are case-sensitive, as fnmatch.translate is
        ("/files/report.pdf", True),
        ("/exact", True),
        ("/exact/", False),
        ("/prefix-and-more", True),
    ],
)
def test_every_kind_of_glob(path: str, excluded: bool) -> None:
    ex = Extractor(
        settings(exclude_paths=["/user/*/settings", "/v?/*", "*.pdf", "/exact", "/prefix*"])
    )
    assert ex.path_excluded(path) is excluded


def test_join_headers_lowercases_and_joins_repeats() -> None:
    from pirsch_middleware.request import join_headers

    assert join_headers(
        [("X-Forwarded-For", "1.1.1.1"), ("User-Agent", "UA"), ("x-forwarded-for", "2.2.2.2")]
    ) == {"x-forwarded-for": "1.1.1.1, 2.2.2.2", "user-agent": "UA"}


def test_repeated_header_values_are_held_once() -> None:
    # Each request decodes its headers into new strings; queued records must not keep copies.
    first = request(
        headers={"user-agent": "".join(["Mozilla/5.0 ", "X"]), "accept-language": "de-DE"}
    )
    second = request(
        headers={"user-agent": "".join(["Mozilla/5.0 ", "X"]), "accept-language": "de-" + "DE"}
    )
    assert first.headers["user-agent"] is not second.headers["user-agent"]
    a, b = hit(first), hit(second)
    assert a.user_agent is b.user_agent
    assert a.accept_language is b.accept_language


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_visitors_are_judged_once_and_the_cache_stays_bounded() -> None:
    ex = Extractor(settings())
    seen = []
    for i in range(MAX_VISITORS + 50):
        built = ex.hit(
            request(user_agent=f"Mozilla/5.0 Browser/{i}", accept_language=f"l{i % 7}"), T
        )
        assert isinstance(built, Hit)
        seen.append((built.user_agent, built.accept_language))
    assert seen[-1] == (f"Mozilla/5.0 Browser/{MAX_VISITORS + 49}", f"l{(MAX_VISITORS + 49) % 7}")
    assert len(ex._header_rules._names.visitors) <= MAX_VISITORS
    # The same visitor again, after the cache started over, is judged the same.
    assert ex.request_skip(request(user_agent=GOOGLEBOT)) == "bot"
    assert ex.request_skip(request(user_agent=GOOGLEBOT)) == "bot"


def test_huge_distinct_header_values_are_judged_but_not_kept_in_the_caches() -> None:
    # Each cache holds at most 2,048 keys, but a key holds what the visitor sent: a server
    # without a header size limit would let 2,048 distinct 64 KiB values each stay in memory.
    ex = Extractor(settings())
    huge = 65_536
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200):
            headers = {
                **BROWSER_HEADERS,
                "sec-fetch-mode": "navigate",
                "sec-fetch-dest": "document",
                "accept": f"text/html,{i}" + "x" * huge,
                "sec-ch-ua": f"{i}" + "y" * huge,
            }
            big = request(host=f"h{i}" + "h" * huge, headers=headers)
            assert ex.request_skip(big) is None
            assert ex.hit(big, T) == "bad_host"
        del headers, big
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2_000_000, f"{kept:,} bytes kept"
    # Ordinary values are still remembered.
    assert ex.request_skip(request()) is None
    assert ex._header_rules._names.visitors


def test_a_prefetch_skips_the_page_view_but_not_the_visitors_events() -> None:
    ex = Extractor(settings())
    prefetch = request(sec_purpose="prefetch")
    assert ex.request_skip(prefetch) == "prefetch"
    assert ex.visitor_skip(prefetch) is None
    assert isinstance(ex.event(prefetch, T, "Signup"), Event)


def test_visitor_rules_are_judged_per_request_not_per_last_request() -> None:
    ex = Extractor(settings())
    browser, dnt, bot = request(), request(dnt="1"), request(user_agent=GOOGLEBOT)
    for _ in range(2):
        assert [ex.request_skip(r) for r in (browser, dnt, bot, browser)] == [
            None,
            "dnt",
            "bot",
            None,
        ]


def test_without_a_proxy_no_peer_sets_scheme_or_host() -> None:
    direct = Extractor(settings(proxy="none"))
    forged = request(peer="10.0.0.1", x_forwarded_proto="http", x_forwarded_host="evil.example")
    built = direct.hit(forged, T)
    assert not isinstance(built, str)
    assert built.url == "https://example.com/"
    assert built.ip == "10.0.0.1"


# Found by mutation testing (README, "Mutation testing"): rules no test pinned down.


@pytest.mark.parametrize(
    ("status", "content_type", "reason"),
    [
        (299, "text/html", None),
        (300, "text/html", "status"),  # a redirect, as 301 and 302 are
        (200, "  text/html", None),  # leading blanks, as some frameworks write it
    ],
)
def test_response_skip_at_its_edges(status: int, content_type: str, reason: str | None) -> None:
    assert EXTRACTOR.response_skip(status, content_type) == reason


def test_event_carries_the_hit_fields_it_is_given() -> None:
    event = EXTRACTOR.event(
        request("/signup"),
        T,
        "Signup",
        title="Join",
        tags={"plan": "pro"},
        screen_width=800,
        screen_height=600,
    )
    assert isinstance(event, Event)
    assert (event.title, event.tags, event.screen_width, event.screen_height) == (
        "Join",
        {"plan": "pro"},
        800,
        600,
    )
    assert "non_interactive" not in event.payload()  # interactive unless said otherwise


def test_session_without_an_address_and_with_the_bot_filter_off() -> None:
    assert EXTRACTOR.session(request(peer=None), T) == "no_ip"
    session = Extractor(settings(disable_bot_filter=True)).session(request(), T)
    assert isinstance(session, Session)
    assert session.payload()["disable_bot_filter"] is True


def test_every_forwarding_header_of_the_document_is_sent_as_received() -> None:
    h = hit(request(peer="10.0.0.1", cf_connecting_ip="198.51.100.1", forwarded="for=198.51.100.2"))
    assert (h.cf_connecting_ip, h.forwarded) == ("198.51.100.1", "for=198.51.100.2")


@pytest.mark.parametrize(
    ("kwargs", "url"),
    [
        ({"scheme": "ws"}, "http://example.com/"),  # no scheme a page is served with
        ({"scheme": ""}, "http://example.com/"),
        # Characters a path may hold stay; others are escaped, lone surrogates replaced.
        ({"path": "/a b/\u00fc;x=1@y,z"}, "https://example.com/a%20b/%C3%BC;x=1@y,z"),
        ({"path": "/x\udcff"}, "https://example.com/x%3F"),
    ],
)
def test_url_edges(kwargs: dict[str, Any], url: str) -> None:
    assert hit(request(**kwargs)).url == url


def test_referer_parameter_wins_over_the_header() -> None:
    assert hit(request(query="referer=newsletter")).referrer == "newsletter"
