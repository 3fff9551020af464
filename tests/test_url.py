"""The URL sent equals the page's ``location.href``: path and query as the client sent them, the
host as a browser serialises it, mount prefixes by whole segments; the same in every adapter."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import django
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from pirsch_middleware import Settings, Tracker  # noqa: E402
from pirsch_middleware.asgi import PirschMiddleware as ASGIMiddleware  # noqa: E402
from pirsch_middleware.extract import Extractor  # noqa: E402
from pirsch_middleware.request import (  # noqa: E402
    PATH_SAFE,
    RequestData,
    asgi_path,
    asgi_request,
    environ_request,
)
from pirsch_middleware.testing import capture  # noqa: E402
from pirsch_middleware.wsgi import PirschMiddleware as WSGIMiddleware  # noqa: E402

from .conftest import BROWSER_HEADERS  # noqa: E402

EXTRACTOR = Extractor(Settings(environ={}))
UA = BROWSER_HEADERS["user-agent"]


def url_of(request: RequestData) -> str:
    hit = EXTRACTOR.hit(request, 0.0)
    assert not isinstance(hit, str), hit
    return hit.url


def scope(raw: bytes, query: bytes = b"", **changes: Any) -> dict[str, Any]:
    """An ASGI scope as uvicorn builds it: ``path`` decoded from ``raw_path``."""
    base: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "https", "path": unquote_to_bytes(raw).decode("utf-8", "replace"),
        "raw_path": raw, "root_path": "", "query_string": query,
        "headers": [
            (b"host", b"example.com"),
            *((name.encode(), value.encode()) for name, value in BROWSER_HEADERS.items()),
        ],
        "client": ("203.0.113.7", 5000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    base.update(changes)
    return base


def environ(raw: bytes, query: bytes = b"", *, uri: bool = True, **extra: Any) -> dict[str, Any]:
    """A WSGI environ as gunicorn builds it (``RAW_URI`` and ``REQUEST_URI`` when ``uri``)."""
    target = raw + (b"?" + query if query else b"")
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"), "SERVER_NAME": "example.com",
        "SERVER_PORT": "443", "wsgi.url_scheme": "https", "HTTP_HOST": "example.com",
        "REMOTE_ADDR": "203.0.113.7",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in BROWSER_HEADERS.items()},
    }  # fmt: skip
    if uri:
        base["RAW_URI"] = base["REQUEST_URI"] = target.decode("latin-1")
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("raw", "query", "expected"),
    [
        (b"/a%2Fb", b"", "https://example.com/a%2Fb"),  # an escaped slash is not a segment
        (b"/caf%E9", b"", "https://example.com/caf%E9"),  # not UTF-8: kept, never U+FFFD
        (b"/caf\xc3\xa9", b"", "https://example.com/caf%C3%A9"),  # raw bytes escaped
        (b"/caf%C3%A9", b"q=caf%C3%A9", "https://example.com/caf%C3%A9?q=caf%C3%A9"),
        (b"/s", b"q=caf\xc3\xa9&x=a|b", "https://example.com/s?q=caf%C3%A9&x=a|b"),
        (b"/s", b"q=\xe9", "https://example.com/s?q=%E9"),
        (b"/a|b[1]^", b"", "https://example.com/a|b[1]^"),  # what browsers leave alone
        (
            b"/a%20b/%7Bx%7D",
            b"utm_source=x%20y",
            "https://example.com/a%20b/%7Bx%7D?utm_source=x%20y",
        ),
    ],
)
def test_url_is_the_path_and_query_as_sent_in_asgi_and_wsgi(
    raw: bytes, query: bytes, expected: str
) -> None:
    assert url_of(asgi_request(scope(raw, query))) == expected
    request = environ_request(environ(raw, query))
    assert url_of(request) == expected


def test_excluded_paths_match_the_decoded_path() -> None:
    excluding = Extractor(Settings(environ={}, exclude_paths=["/blog/*"]))
    request = asgi_request(scope(b"/blog%2Fpost"))
    assert request.path == "/blog/post"
    assert excluding.route_skip("GET", request.path) == "excluded_path"


def test_wsgi_without_request_uri_escapes_the_path_bytes() -> None:
    request = environ_request(environ(b"/caf%E9", uri=False))
    assert url_of(request) == "https://example.com/caf%E9"


def test_absolute_form_request_uri_is_reduced_to_its_path() -> None:
    env = environ(b"/p", REQUEST_URI="http://example.com/p%2Fq?x=1")
    assert url_of(environ_request(env)) == "https://example.com/p%2Fq"


@pytest.mark.parametrize(
    ("scheme", "host", "expected"),
    [
        ("https", "Bücher.Example", "https://xn--bcher-kva.example"),
        ("https", "bücher.example:8443", "https://xn--bcher-kva.example:8443"),
        ("https", "Example.COM:443", "https://example.com"),
        ("http", "example.com:80", "http://example.com"),
        ("http", "example.com:443", "http://example.com:443"),
        ("https", "[2001:DB8::1]:443", "https://[2001:db8::1]"),
        ("https", "example.com:8080", "https://example.com:8080"),
    ],
)
def test_host_is_serialised_as_a_browser_does(scheme: str, host: str, expected: str) -> None:
    request = RequestData("GET", scheme, host, "/", "", "203.0.113.7", {"user-agent": UA})
    assert url_of(request) == expected + "/"


def test_host_sent_as_utf8_bytes_becomes_its_ascii_form() -> None:
    raw_host = "bücher.example".encode().decode("latin-1")  # as ASGI and WSGI decode headers
    request = RequestData("GET", "https", raw_host, "/", "", "203.0.113.7", {"user-agent": UA})
    assert url_of(request) == "https://xn--bcher-kva.example/"


def test_bad_international_host_is_bad_host() -> None:
    request = RequestData(
        "GET", "https", "exa mple.çom", "/", "", "203.0.113.7", {"user-agent": UA}
    )
    assert EXTRACTOR.hit(request, 0.0) == "bad_host"


@pytest.mark.parametrize(
    ("root", "raw", "expected"),
    [
        ("/app", b"/app/page", "/app/page"),
        ("/app", b"/app", "/app"),
        ("/app", b"/apple", "/app/apple"),  # /app is no prefix of /apple
        ("/app/", b"/page", "/app/page"),
        ("/", b"/page", "/page"),
    ],
)
def test_mount_prefix_is_matched_by_whole_segments(root: str, raw: bytes, expected: str) -> None:
    request = asgi_request(scope(raw, root_path=root))
    assert url_of(request) == "https://example.com" + expected
    wsgi = environ_request(environ(raw, SCRIPT_NAME=root.rstrip("/")))
    assert url_of(wsgi) == "https://example.com" + expected
    assert asgi_path(scope(raw, root_path=root)) == expected


# The same URL from every adapter, for any path and query a client may send.


def _asgi_app(scope: Any, receive: Any, send: Any) -> Any:
    async def run() -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return run()


def _wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b""]


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], object]:
    return lambda data: None


def _page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>page</p>")


urlpatterns = [re_path(r"", _page)]  # the Django project of the round-trip test: every path

PIRSCH = {"environ": {}, "exclude_paths": [], "read_title": False}  # one object: one tracker
TRACKER = Tracker(Settings(environ={}, exclude_paths=[], read_title=False))
ASGI = ASGIMiddleware(_asgi_app, tracker=TRACKER)
WSGI = WSGIMiddleware(_wsgi_app, tracker=TRACKER)


def _via_asgi(raw: bytes, query: bytes) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    asyncio.run(ASGI(scope(raw, query), receive, send))


def _via_wsgi(raw: bytes, query: bytes) -> None:
    list(WSGI(environ(raw, query), _start_response))


def _via_django(raw: bytes, query: bytes) -> None:
    target = (raw + (b"?" + query if query else b"")).decode("latin-1")
    with override_settings(PIRSCH=PIRSCH, ROOT_URLCONF=__name__):
        # Django's test client builds PATH_INFO as PEP 3333 says; gunicorn adds REQUEST_URI.
        Client().get(
            quote_from_bytes(raw, safe=PATH_SAFE),
            QUERY_STRING=query.decode("latin-1"),
            REQUEST_URI=target,
            REMOTE_ADDR="203.0.113.7",
            HTTP_HOST="example.com",
            **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in BROWSER_HEADERS.items()},
            secure=True,
        )


_SEGMENT = st.lists(
    st.one_of(
        # (Django's test client cannot take "[" or "]" in a path: the table above has them.)
        st.sampled_from([b"%2F", b"%25", b"%E9", b"%C3%A9", b"%3F", b"%20", b"|", b"^"]),
        st.binary(min_size=1, max_size=3).filter(lambda b: not set(b) & set(b"?# /\\%[]")),
        st.text("abcXYZ09-._~!$&'()*+,;=:@", min_size=1, max_size=4).map(str.encode),
    ),
    max_size=4,
).map(b"".join)
PATHS = st.lists(_SEGMENT, min_size=1, max_size=4).map(lambda s: b"/" + b"/".join(s))
QUERIES = st.one_of(
    st.just(b""),
    st.binary(max_size=12).filter(lambda b: not set(b) & set(b"# \r\n\x00%")),
    st.lists(
        st.sampled_from([b"utm_source=a%20b", b"q=%E9", b"x=\xc3\xa9", b"a=1"]), min_size=1
    ).map(b"&".join),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATHS, QUERIES)
def test_url_round_trips_what_the_client_sent_in_every_adapter(raw: bytes, query: bytes) -> None:
    urls = []
    for via in (_via_asgi, _via_wsgi, _via_django):
        with capture() as captured:
            via(raw, query)
        assert len(captured.hits) == 1, via
        urls.append(captured.hits[0].url)
    assert urls[0] == urls[1] == urls[2]
    path, _, sent_query = urls[0].removeprefix("https://example.com").partition("?")
    # The bytes the client sent, with only what a browser would escape escaped: an escape the
    # client sent is kept as sent, never decoded (%2F) nor replaced (U+FFFD).
    assert path == quote_from_bytes(raw, safe=PATH_SAFE)
    assert unquote_to_bytes(path) == unquote_to_bytes(raw)
    assert unquote_to_bytes(sent_query) == unquote_to_bytes(query)
