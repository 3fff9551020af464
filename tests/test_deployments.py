"""Deployments x headers through all four adapters: the visitor's address, and the scheme and
host of the URL, that reach the API.

Each case names a ``proxy`` preset (with settings), the peer the app sees, the header lines as
sent (a repeated header is several lines), and the address the hit must carry, or the origin of
its URL (the browser's is ``https://example.com``). The adapters must agree.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from django.test import Client, override_settings  # noqa: E402
from flask import Flask  # noqa: E402

from pirsch_middleware.asgi import PirschMiddleware as ASGIMiddleware  # noqa: E402
from pirsch_middleware.flask import Pirsch  # noqa: E402
from pirsch_middleware.testing import FakePirschAPI  # noqa: E402
from pirsch_middleware.wsgi import PirschMiddleware as WSGIMiddleware  # noqa: E402

from .conftest import ACCESS_KEY, BROWSER_HEADERS  # noqa: E402

VISITOR = "198.51.100.1"
CF_EDGE = "162.158.1.2"
FORGED = [
    ("CF-Connecting-IP", "6.6.6.1"),
    ("True-Client-IP", "6.6.6.2"),
    ("X-Real-IP", "6.6.6.3"),
    ("Forwarded", "for=6.6.6.4"),
]
Lines = list[tuple[str, str]]

CASES: list[tuple[str, str, Lines, str]] = [
    # A stock reverse proxy writes only X-Forwarded-For: every other header is the visitor's.
    ("reverse_proxy", "127.0.0.1", [*FORGED, ("X-Forwarded-For", VISITOR)], VISITOR),
    ("reverse_proxy", "127.0.0.1", FORGED, "127.0.0.1"),
    # A forged leftmost entry, sent as its own header line, changes nothing.
    (
        "reverse_proxy",
        "10.0.0.2",
        [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", VISITOR)],
        VISITOR,
    ),
    ("reverse_proxy", "203.0.113.7", [("X-Forwarded-For", VISITOR)], "203.0.113.7"),
    ("reverse_proxy", "::1", [("X-Forwarded-For", "[2001:db8::5]:443")], "2001:db8::5"),
    ("reverse_proxy", "10.0.0.2", [("X-Forwarded-For", "::ffff:198.51.100.1")], VISITOR),
    (
        "forwarded",
        "10.0.0.2",
        [("Forwarded", f'for="{VISITOR}:80"'), ("X-Forwarded-For", "6.6.6.6")],
        VISITOR,
    ),
    # Cloudflare's header from its edge, from our proxy in front of it, and forged from outside.
    ("cloudflare", CF_EDGE, [("CF-Connecting-IP", VISITOR)], VISITOR),
    (
        "cloudflare",
        "10.0.0.2",
        [("CF-Connecting-IP", VISITOR), ("X-Forwarded-For", CF_EDGE)],
        VISITOR,
    ),
    ("cloudflare", "203.0.113.7", [("CF-Connecting-IP", "6.6.6.6")], "203.0.113.7"),
    (
        "cloudflare",
        "10.0.0.2",
        [("CF-Connecting-IP", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7")],
        "203.0.113.7",
    ),
    ("fly", "172.19.0.1", [*FORGED, ("Fly-Client-IP", VISITOR)], VISITOR),
    (
        "google_load_balancer",
        "35.191.0.9",
        [("X-Forwarded-For", f"6.6.6.6,{VISITOR},34.1.2.3")],
        VISITOR,
    ),
    ("heroku", "10.1.2.3", [("X-Forwarded-For", f"6.6.6.6, {VISITOR}")], VISITOR),
    ("render", "10.1.2.3", [("X-Forwarded-For", f"6.6.6.6, {VISITOR}, {CF_EDGE}")], VISITOR),
    ("akamai", "10.1.2.3", [*FORGED[:1], ("True-Client-IP", VISITOR)], VISITOR),
]


ORIGIN = "https://example.com"
FORGED_ORIGIN = [("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "http")]
BOTH = {"proxy_sets_host": True, "proxy_sets_proto": True}
OriginCase = tuple[str, dict[str, Any], str, Lines, str]

ORIGIN_CASES: list[OriginCase] = [
    # A stock reverse proxy (nginx) passes the visitor's X-Forwarded-Host and -Proto on.
    ("reverse_proxy", {}, "127.0.0.1", [*FORGED_ORIGIN, ("X-Forwarded-For", VISITOR)], ORIGIN),
    ("forwarded", {}, "10.0.0.2", FORGED_ORIGIN, ORIGIN),
    ("none", {}, "10.0.0.2", FORGED_ORIGIN, ORIGIN),
    # One that says it sets them (proxy_set_header X-Forwarded-Host ...): its entry, the last.
    (
        "reverse_proxy",
        BOTH,
        "127.0.0.1",
        [*FORGED_ORIGIN, ("X-Forwarded-Host", "shop.example"), ("X-Forwarded-Proto", "https")],
        "https://shop.example",
    ),
    ("reverse_proxy", BOTH, "10.0.0.2", FORGED_ORIGIN, "http://evil.example"),
    ("reverse_proxy", {"proxy_sets_proto": True}, "10.0.0.2", FORGED_ORIGIN, "http://example.com"),
    # ... but only from a trusted proxy.
    ("reverse_proxy", BOTH, "203.0.113.7", FORGED_ORIGIN, ORIGIN),
    # Platforms that write X-Forwarded-Proto (so here the value is theirs, not forged) and pass
    # the Host header on as sent.
    ("aws_alb", {}, "10.0.0.2", FORGED_ORIGIN, "http://example.com"),
    ("aws_alb", {}, "203.0.113.7", FORGED_ORIGIN, ORIGIN),
    ("heroku", {}, "10.1.2.3", FORGED_ORIGIN, "http://example.com"),
    ("fly", {}, "172.19.0.1", FORGED_ORIGIN, "http://example.com"),
    ("google_load_balancer", {}, "35.191.0.9", FORGED_ORIGIN, "http://example.com"),
    ("cloudflare", {}, CF_EDGE, FORGED_ORIGIN, "http://example.com"),
    # Sent past Cloudflare, straight to the origin or to our own proxy: the visitor's.
    ("cloudflare", {}, "203.0.113.7", FORGED_ORIGIN, ORIGIN),
    ("cloudflare", {}, "10.0.0.2", [*FORGED_ORIGIN, ("X-Forwarded-For", "203.0.113.7")], ORIGIN),
    (
        "cloudflare",
        {},
        "10.0.0.2",
        [*FORGED_ORIGIN, ("X-Forwarded-For", CF_EDGE)],
        "http://example.com",
    ),
    # Front Door overwrites both; Render documents neither, Akamai passes Host on.
    ("azure_front_door", {}, "10.0.0.2", FORGED_ORIGIN, "http://evil.example"),
    ("azure_front_door", {}, "203.0.113.7", FORGED_ORIGIN, ORIGIN),
    ("render", {}, "10.1.2.3", FORGED_ORIGIN, ORIGIN),
    ("akamai", {}, "10.1.2.3", FORGED_ORIGIN, ORIGIN),
]


def _asgi(api: FakePirschAPI, options: dict[str, Any], peer: str, lines: Lines) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": b"<p>hi</p>"})

    middleware = ASGIMiddleware(app, **options)
    headers = [(b"host", b"example.com")]
    headers += [(k.encode(), v.encode()) for k, v in BROWSER_HEADERS.items()]
    headers += [(k.lower().encode(), v.encode()) for k, v in lines]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "https", "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"",
        "headers": headers, "client": (peer, 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    try:
        asyncio.run(middleware(scope, receive, send))
    finally:
        middleware.tracker.close(2)


def _environ_headers(lines: Lines) -> dict[str, str]:
    # As a WSGI server builds the environ (PEP 3333 / CGI): repeated lines joined with ", ".
    joined: dict[str, str] = {}
    for name, value in [*BROWSER_HEADERS.items(), *lines]:
        key = "HTTP_" + name.upper().replace("-", "_")
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def _wsgi(api: FakePirschAPI, options: dict[str, Any], peer: str, lines: Lines) -> None:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>hi</p>"]

    middleware = WSGIMiddleware(app, **options)
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "example.com", "SERVER_PORT": "443", "wsgi.url_scheme": "https",
        "HTTP_HOST": "example.com", "REMOTE_ADDR": peer, **_environ_headers(lines),
    }  # fmt: skip
    try:
        list(middleware(environ, _start_response))
    finally:
        middleware.tracker.close(2)


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], object]:
    return lambda data: None


def _flask(api: FakePirschAPI, options: dict[str, Any], peer: str, lines: Lines) -> None:
    app = Flask(__name__, static_folder=None)
    app.config.update({f"PIRSCH_{k.upper()}": v for k, v in options.items()})
    app.add_url_rule("/", "home", lambda: "<p>hi</p>")
    Pirsch(app)
    try:
        app.test_client().get(
            "/",
            base_url=ORIGIN,
            headers=[*BROWSER_HEADERS.items(), *lines],
            environ_base={"REMOTE_ADDR": peer},
        )
    finally:
        app.extensions["pirsch"].tracker.close(2)


def _django(api: FakePirschAPI, options: dict[str, Any], peer: str, lines: Lines) -> None:
    with override_settings(PIRSCH=options):
        Client(REMOTE_ADDR=peer).get(
            "/page", secure=True, HTTP_HOST="example.com", **_environ_headers(lines)
        )


def _options(api: FakePirschAPI, proxy: str, **more: Any) -> dict[str, Any]:
    return {
        "access_key": ACCESS_KEY, "base_url": api.base_url, "sync": True, "environ": {},
        "proxy": proxy, **more,
    }  # fmt: skip


ADAPTERS: dict[str, Callable[[FakePirschAPI, dict[str, Any], str, Lines], None]] = {
    "asgi": _asgi,
    "wsgi": _wsgi,
    "flask": _flask,
    "django": _django,
}


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("proxy", "peer", "lines", "expected"), CASES)
def test_deployment_headers_give_the_visitors_address_in_every_adapter(
    api: FakePirschAPI, adapter: str, proxy: str, peer: str, lines: Lines, expected: str
) -> None:
    ADAPTERS[adapter](api, _options(api, proxy), peer, lines)
    assert [hit["ip"] for hit in api.hits] == [expected]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("proxy", "more", "peer", "lines", "expected"), ORIGIN_CASES)
def test_forwarded_host_and_proto_count_only_where_the_deployment_writes_them(
    api: FakePirschAPI,
    adapter: str,
    proxy: str,
    more: dict[str, Any],
    peer: str,
    lines: Lines,
    expected: str,
) -> None:
    ADAPTERS[adapter](api, _options(api, proxy, **more), peer, lines)
    assert [hit["url"].rsplit("/", 1)[0] for hit in api.hits] == [expected]
