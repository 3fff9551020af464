"""``python -m pirsch_middleware demo``: an example app, real HTTP on 127.0.0.1, a local API."""

from __future__ import annotations

import importlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx

from ._fake_cli import FAKE_KEY, show
from ._version import __version__
from .errors import ConfigurationError
from .settings import Settings
from .testing import FakePirschAPI
from .tracker import Tracker

APPS = {
    "starlette": "example_apps.starlette_app",
    "fastapi": "example_apps.fastapi_app",
    "flask": "example_apps.flask_app",
    "django": "example_apps.django_app",
}
_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
# What Firefox adds to a navigation; a visit that names its own Sec-Fetch-Mode replaces them.
_NAVIGATION = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "same-origin",
    "Upgrade-Insecure-Requests": "1",
}
_FETCH = {"Accept": "*/*", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
_VISITS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/", {}),
    ("GET", "/pricing?utm_source=newsletter", {}),
    ("GET", "/static/site.css", {}),
    ("GET", "/api/status", {}),
    ("GET", "/old", {}),
    ("GET", "/", {"Sec-Purpose": "prefetch"}),
    ("GET", "/", {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}),
    ("GET", "/", {"HX-Request": "true", **_FETCH}),
    ("GET", "/pricing", _FETCH),
    ("GET", "/", {"User-Agent": "ELB-HealthChecker/2.0", "Accept": "*/*"}),
    ("GET", "/", {"DNT": "1"}),
    ("GET", "/", {"X-Forwarded-For": "198.51.100.23"}),
    ("POST", "/signup", {}),
]
_PAGE = "/pricing"
# What the page's first-party snippet then asks for (see snippet.py): its script, an outbound
# link's click event (sent by navigator.sendBeacon) and a session keep-alive, a minute later.
_SNIPPET_VISITS: list[tuple[str, str, bytes, str]] = [
    ("GET", "/p/pa.js", b"", "the snippet's script"),
    (
        "POST",
        "/p/e",
        b'{"url": "%(page)s", "title": "Pricing", "event_name": "Outbound Link Click", '
        b'"event_meta": {"url": "https://pirsch.io/"}, "screen_width": 1920, '
        b'"screen_height": 1080}',
        "an outbound link's click",
    ),
    ("POST", "/p/s", b"", "a session keep-alive"),
]


def demo(app_name: str = "starlette") -> int:
    """Serve an example app, visit it, and show what reaches the Pirsch API; 1 when not every
    page view and event arrived."""
    try:
        chosen = Settings()  # what the example app will read from the environment
    except ConfigurationError as error:
        print(f"error: {error}")
        return 2
    real = chosen.auth_mode != "none" or bool(chosen.destinations)
    with FakePirschAPI() as api:
        if real:
            target = (
                f"the Pirsch API at {chosen.base_url} with the credentials in your environment "
                "(unset PIRSCH_ACCESS_KEY, PIRSCH_CLIENT_ID, PIRSCH_DESTINATIONS and "
                "PIRSCH_BASE_URL for a local one)"
            )
        else:
            os.environ["PIRSCH_ACCESS_KEY"] = FAKE_KEY
            os.environ["PIRSCH_BASE_URL"] = api.base_url
            target = f"a local stand-in of the Pirsch API at {api.base_url}"
        print(f"pirsch-middleware {__version__}: the {app_name} example app, sending to {target}\n")
        os.environ.setdefault("PIRSCH_SNIPPET", "hybrid")  # the snippet, first-party
        api.on_receive = show
        try:
            module = importlib.import_module(APPS[app_name])
        except ModuleNotFoundError as error:
            if not (error.name or "").startswith("example_apps"):
                raise
            print("The demo serves the apps in example_apps/: run it from the repository root.")
            return 2
        with _serve(app_name, module) as (url, tracker):
            browser = {"User-Agent": _FIREFOX, "Accept-Language": "en-US,en;q=0.5"}
            with httpx.Client(base_url=url, headers=browser) as client:
                for method, path, headers in _VISITS:
                    before = tracker().stats().skipped
                    sent = headers if "Sec-Fetch-Mode" in headers else {**_NAVIGATION, **headers}
                    response = client.request(method, path, headers=sent)
                    after = tracker().stats().skipped
                    why = [k for k in after if after[k] != before.get(k, 0)]
                    note = f"not a page view ({', '.join(why)})" if why else "tracked"
                    shown = " ".join(f"{k}: {v}" for k, v in headers.items())[:30]
                    print(f"  {method:4} {path:32} {shown:32} -> {response.status_code} {note}")
                if tracker().settings.snippet != "off":
                    _snippet_visits(client, url)
            print("\nwaiting for the background sender ...")
            delivered = tracker().flush(10)
            stats = tracker().stats()
    dropped = sum(stats.dropped.values())
    print(f"\nsent {stats.sent}, dropped {dropped}, skipped {stats.skipped}")
    for name, each in stats.destinations.items():  # several dashboards: the sums above, by one
        print(f"  {name}: sent {each.sent}, dropped {sum(each.dropped.values())}")
    if stats.address_warnings:
        # On loopback every visitor is 127.0.0.1: the warning a misconfigured proxy gives.
        print(f"address warnings {stats.address_warnings} (see the log line above)")
    if not stats.sent or dropped or not delivered:
        reasons = ", ".join(f"{k}: {v}" for k, v in stats.dropped.items()) or "none"
        print(
            f"Not everything reached {'the Pirsch API' if real else 'the local API'}: "
            f"{stats.sent} accepted, dropped by reason: {reasons}, "
            f"{stats.pending} still queued. The warnings above say why."
        )
        return 1
    if real:
        print(f"The API accepted all {stats.sent}: they are in your Pirsch dashboard.")
    return 0


def _snippet_visits(client: httpx.Client, url: str) -> None:
    """Ask for what the snippet of a page asks for, as a browser's script does."""
    script = {"Accept": "*/*", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}
    beacon = {"Content-Type": "text/plain;charset=UTF-8", **_FETCH}
    for method, path, body, what in _SNIPPET_VISITS:
        content = body.replace(b"%(page)s", f"{url}{_PAGE}".encode())
        sent = script if method == "GET" else beacon
        response = client.request(method, path, headers=sent, content=content)
        size = f", {len(response.content)} bytes" if method == "GET" else ""
        note = f"answered by the snippet proxy{size}"
        print(f"  {method:4} {path:32} {what:32} -> {response.status_code} {note}")


@contextmanager
def _serve(name: str, module: Any) -> Iterator[tuple[str, Callable[[], Tracker]]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    if name == "django":
        from pirsch_middleware.django.middleware import tracker_for

        from .django.conf import raw_setting

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{APPS[name]}.settings")
        wsgi = importlib.import_module(f"{APPS[name]}.wsgi").application
        with _wsgi_server(wsgi, sock):
            yield url, lambda: tracker_for(raw_setting())[0]
    elif name == "flask":
        with _wsgi_server(module.app, sock):
            yield url, lambda: module.app.extensions["pirsch"].tracker
    else:
        with _asgi_server(module.app, sock):
            yield url, lambda: _asgi_tracker(module.app)


def _asgi_tracker(app: Any) -> Tracker:
    from .asgi import PirschMiddleware

    layer = app.middleware_stack
    while not isinstance(layer, PirschMiddleware):
        layer = layer.app
    return layer.tracker


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _wsgi_server(app: Any, sock: socket.socket) -> Iterator[None]:
    host, port = sock.getsockname()
    sock.close()
    server = make_server(host, port, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _asgi_server(app: Any, sock: socket.socket) -> Iterator[None]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.02)
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
