"""The header views (ASGI list, WSGI environ) and the verdicts read from them by raw keys."""

from __future__ import annotations

import gc
import io
import weakref
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pirsch_middleware import RequestData
from pirsch_middleware.extract import Extractor
from pirsch_middleware.headers import ASGIHeaders, EnvironHeaders
from pirsch_middleware.pageview import DEFAULT_PARTIAL_HEADERS
from pirsch_middleware.request import asgi_request, environ_request, join_headers
from pirsch_middleware.testing import FakePirschAPI

from .conftest import BROWSER_HEADERS
from .conftest import settings as make_settings
from .harness import ADAPTERS, served


def asgi(pairs: list[tuple[bytes, bytes]]) -> RequestData:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/",
        "query_string": b"",
        "headers": pairs,
        "client": ("203.0.113.7", 5000),
        "server": ("10.0.0.1", 443),
    }
    return asgi_request(scope)


def environ(headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "203.0.113.7",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
    }
    env.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    env.update(extra)
    return env


def test_asgi_view_joins_repeated_headers_in_order() -> None:
    request = asgi(
        [
            (b"host", b"a.example"),
            (b"x-forwarded-for", b"1.1.1.1"),
            (b"x-forwarded-for", b"2.2.2.2"),
        ]
    )
    assert request.headers["x-forwarded-for"] == "1.1.1.1, 2.2.2.2"
    assert len(request.headers) == 2


def test_asgi_names_in_the_clients_case_are_lowered() -> None:
    # A server that keeps the client's case (the ASGI spec allows it) passes Host as written.
    request = asgi([(b"Host", b"a.example"), (b"User-Agent", b"UA"), (b"X-Custom", b"1")])
    assert dict(request.headers) == {"host": "a.example", "user-agent": "UA", "x-custom": "1"}
    assert request.host == "a.example"


def test_asgi_upper_case_name_among_lower_case_ones_is_lowered() -> None:
    seen = asgi([(b"host", b"a.example"), (b"user-agent", b"UA")])  # the names remembered
    assert seen.headers["user-agent"] == "UA"
    request = asgi([(b"host", b"a.example"), (b"User-Agent", b"UA2")])
    assert request.headers["user-agent"] == "UA2"


def test_asgi_names_remembered_stay_bounded() -> None:
    from pirsch_middleware import headers

    for i in range(3 * headers._MAX_NAMES):
        request = asgi([(b"host", b"a.example"), (f"x-name-{i}".encode(), b"1")])
        assert request.headers[f"x-name-{i}"] == "1"
    assert len(headers._LOWER) <= headers._MAX_NAMES


def test_asgi_values_are_latin_1_whatever_the_bytes() -> None:
    request = asgi(
        [(b"host", b"a.example"), (b"user-agent", "Grüße".encode()), (b"x-bin", b"\xff\x00\x80")]
    )
    assert request.headers["user-agent"] == "Grüße".encode().decode("latin-1")
    assert request.headers["x-bin"] == "\xff\x00\x80"


def test_view_lookups_of_odd_names_find_nothing_and_raise_nothing() -> None:
    views = [
        asgi([(b"host", b"a.example"), (b"user-agent", b"UA")]).headers,
        environ_request(environ({"user-agent": "UA"})).headers,
    ]
    for headers in views:
        for name in ("ü-ber", "\u20ac", "User-Agent", "user_agent", "", 7):
            assert headers.get(name) is None  # type: ignore[arg-type]
            assert name not in headers
        with pytest.raises(KeyError):
            headers["missing"]


def test_environ_view_has_http_keys_with_text_values_only() -> None:
    env = environ({"user-agent": "UA", "x-custom-thing": "1"}, CONTENT_TYPE="text/html")
    env["HTTP_X_ODD"] = b"bytes"  # not PEP 3333's str: no header
    headers = environ_request(env).headers
    assert dict(headers) == {"user-agent": "UA", "x-custom-thing": "1"}
    assert len(headers) == 2
    assert headers.get("x-odd") is None


def test_view_repr_shows_no_cookie_or_authorization() -> None:
    request = asgi(
        [
            (b"host", b"a.example"),
            (b"user-agent", b"UA"),
            (b"cookie", b"session=hunter2"),
            (b"authorization", b"Bearer hunter2"),
        ]
    )
    text = repr(request)
    assert "hunter2" not in text
    assert "'user-agent': 'UA'" in text
    assert "'cookie': '...'" in text


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_verdict_kept_on_a_view_is_its_extractors_own() -> None:
    on = Extractor(make_settings())
    off = Extractor(make_settings(exclude_bots=False))
    bot = asgi([(b"host", b"a.example"), (b"user-agent", GOOGLEBOT.encode())])
    assert on.visitor_skip(bot) == "bot"
    assert off.visitor_skip(bot) is None
    assert on.visitor_skip(bot) == "bot"


# Names the rules read, the partial headers, and others; values as a server decodes them.
NAMES = st.sampled_from(
    sorted(
        {
            *BROWSER_HEADERS,
            *(name.lower() for name in DEFAULT_PARTIAL_HEADERS),
            "dnt", "sec-gpc", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-site",
            "upgrade-insecure-requests", "hx-boosted", "hx-history-restore-request",
            "x-turbo-request-id", "x-moz", "x-purpose", "purpose", "sec-purpose",
            "x-sec-purpose", "sec-ch-ua-platform-version", "sec-ch-width",
            "sec-ch-viewport-width", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
            "forwarded", "x-real-ip", "cf-connecting-ip", "cookie",
        }
    )
) | st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)  # fmt: skip
VALUES = st.sampled_from(
    [
        "",
        "1",
        "?0",
        "navigate",
        "document",
        "cors",
        "empty",
        "iframe",
        "none",
        "same-origin",
        "true",
        "prefetch",
        "text/html,application/xhtml+xml",
        "203.0.113.9",
        "de-DE",
        BROWSER_HEADERS["user-agent"],
        "curl/8.5.0",
    ]
) | st.text(st.characters(codec="latin-1"), max_size=40)
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=14)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAIRS, st.booleans(), st.sampled_from(["reverse_proxy", "cloudflare", "none"]))
def test_views_give_the_verdicts_and_drafts_of_a_mapping_of_names(
    pairs: list[tuple[str, str]], keep_case: bool, proxy: str
) -> None:
    pairs = [("host", "example.com"), *pairs]
    names = RequestData("GET", "https", "example.com", "/", "", "10.0.0.1", join_headers(pairs))
    raw = [(k.title() if keep_case else k, v) for k, v in pairs]
    from_asgi = asgi([(k.encode("latin-1"), v.encode("latin-1")) for k, v in raw])
    from_asgi.peer = names.peer
    from_environ = environ_request(environ(join_headers(pairs), REMOTE_ADDR=names.peer))
    assert isinstance(from_asgi.headers, ASGIHeaders)
    assert isinstance(from_environ.headers, EnvironHeaders)
    assert dict(from_asgi.headers) == dict(from_environ.headers) == names.headers
    for options in ({"proxy": proxy}, {"proxy": proxy, "exclude_bots": False}):
        extractor = Extractor(make_settings(**options, trusted_proxies=["10.0.0.0/8"]))
        expected = judged(extractor, names)
        for request in (from_asgi, from_environ):
            for _ in range(2):  # judged, then from the cache (and the verdict kept on the view)
                request.headers.verdict = None  # type: ignore[attr-defined]
                assert judged(extractor, request) == expected
            assert judged(extractor, request) == expected  # the verdict kept on the view


def judged(extractor: Extractor, request: RequestData) -> tuple[object, ...]:
    """Everything the extractor takes from the headers: the verdicts, and a draft's visitor
    fields, address, referrer and forwarding headers."""
    draft = extractor.draft(dict, request, 1.0, None, None, None, None, {})  # type: ignore[arg-type]
    if not isinstance(draft, str):
        visitor = draft[3]
        draft = (visitor.page, visitor.reason, visitor.fields, draft[1], *draft[9:16])
    return extractor.request_skip(request), extractor.visitor_skip(request), draft


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_should_track_sees_every_header_in_every_adapter(adapter: str, api: FakePirschAPI) -> None:
    seen: list[dict[str, str]] = []

    def rule(request: RequestData) -> bool:
        seen.append(dict(request.headers))
        return True

    with served(adapter, api, should_track=rule) as get:
        get("/page", {**BROWSER_HEADERS, "X-Custom-Thing": "1", "Authorization": "Bearer b"})
    assert len(seen) == 1
    assert seen[0]["x-custom-thing"] == "1"
    assert seen[0]["authorization"] == "Bearer b"
    assert seen[0]["user-agent"] == BROWSER_HEADERS["user-agent"]


class _Input(io.BytesIO):
    pass


def test_wsgi_request_leaves_nothing_holding_its_environ(api: FakePirschAPI) -> None:
    from pirsch_middleware import Tracker
    from pirsch_middleware.wsgi import PirschMiddleware

    from .harness import _wsgi_app

    tracker = Tracker(make_settings(api, sync=False))
    try:
        app = PirschMiddleware(_wsgi_app, tracker=tracker)
        body = _Input(b"")
        alive = weakref.ref(body)
        env = environ(BROWSER_HEADERS, **{"wsgi.input": body, "HTTP_HOST": "example.com"})

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            return None

        for _ in app(env, start_response):
            pass
        assert tracker.stats().queued + tracker.stats().sent == 1
        del body, env
        gc.collect()
        assert alive() is None  # the environ's copy (in the request's view) is gone
    finally:
        tracker.close(2)


def test_asgi_request_leaves_no_view_behind(api: FakePirschAPI) -> None:
    def views() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if type(o) is ASGIHeaders}

    with served("asgi", api) as get:
        before = views()
        get("/page", dict(BROWSER_HEADERS))
        assert api.hits
        assert views() <= before
