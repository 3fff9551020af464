"""The first-party proxy of Pirsch's JavaScript snippet: the script and its three endpoints,
answered by the middleware before the app, so no request of the page goes to pirsch.io.

What the snippet sends (``pa.js`` and its parts ``pageviews.js``, ``events.js``,
``sessions.js`` in ``pirsch-analytics/pirsch-php-proxy``):

- a page view: ``GET`` to ``data-hit-endpoint`` with the query parameters ``url`` (the page's
  ``location.href``, at most 1,800 characters), ``t`` (title), ``ref`` (``document.referrer``),
  ``w`` and ``h`` (screen size, empty when ``data-disable-resolution``), ``tag_<key>`` (tags),
  ``code`` (identification code) and ``nc`` (a cache buster);
- an event: ``navigator.sendBeacon`` (a ``POST`` with a ``text/plain`` body) to
  ``data-event-endpoint`` of a JSON object: ``event_name``, ``event_duration``, ``event_meta``,
  ``url``, ``title``, ``referrer`` (URL-encoded), ``screen_width``, ``screen_height``, ``tags``;
- a session keep-alive: ``POST`` to ``data-session-endpoint`` with ``url``, ``code`` and ``nc``
  in the query and no body.

The paths are those of Pirsch's Go proxy (``pirsch-analytics/pirsch-go-proxy``,
``pkg/proxy/config.go``: ``/p/pa.js``, ``/p/pv``, ``/p/e``, ``/p/s``). Unlike Pirsch's proxies,
nothing is forwarded from the request: each record goes through the same rules (trusted
proxies, visitor and bot rules, limits) into the same queue as the middleware's own, with the
proxy's credentials; ``code`` is therefore not needed and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from .context import report_error
from .errors import ConfigurationError
from .request import RequestData
from .script_cache import ScriptCache
from .settings import Settings
from .tracker import Tracker

__all__ = [
    "EVENT",
    "MAX_BODY",
    "PAGE_VIEW",
    "SCRIPT",
    "SESSION",
    "Answer",
    "SnippetProxy",
    "check_routes",
    "serves_snippet",
]

SCRIPT, PAGE_VIEW, EVENT, SESSION = "pa.js", "pv", "e", "s"
#: The largest event body read (20 metadata pairs of 2,000 characters fit well within it).
MAX_BODY = 64 * 1024
_MAX_QUERY = 8 * 1024
_MAX_URL = 4096
_MAX_NAME = 200
_MAX_PIXELS = 100_000
#: How long a request for the script waits for the very first fetch, in seconds.
FIRST_FETCH_WAIT = 1.0
# Headers of the snippet's own request that say nothing about the page it reports.
_NOT_OF_THE_PAGE = frozenset({"referer", "x-forwarded-proto", "x-forwarded-host"})
_NO_STORE = ("Cache-Control", "no-store")
# A 400 names the visitor's own input: plain text that no browser may sniff into HTML.
_TEXT = ("Content-Type", "text/plain; charset=utf-8")
_NOSNIFF = ("X-Content-Type-Options", "nosniff")


@dataclass(frozen=True, slots=True)
class Answer:
    """The proxy's response: status, headers and body (empty for ``HEAD``); ``length`` is the
    ``Content-Length`` where it is not the body's: for ``HEAD`` and ``304``, the length of the
    ``200`` to a ``GET`` (RFC 9110 8.6)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    length: int | None = None

    @property
    def content_length(self) -> str:
        """The ``Content-Length`` header's value."""
        return str(len(self.body) if self.length is None else self.length)


class SnippetProxy:
    """Answers the snippet's requests under ``snippet_prefix`` for one :class:`Tracker`.

    Adapters ask :meth:`endpoint` for every request (a prefix test, then a dict look-up), read
    the body when :meth:`wants_body` says so (at most :data:`MAX_BODY` + 1 bytes), and send
    what :meth:`answer` returns instead of calling the app.
    """

    def __init__(self, tracker: Tracker) -> None:
        settings = tracker.settings
        self.tracker = tracker
        self.prefix = settings.snippet_prefix
        self.hybrid = settings.snippet == "hybrid"
        self.paths = {self.prefix + name: name for name in (SCRIPT, PAGE_VIEW, EVENT, SESSION)}
        self.script = ScriptCache(
            str(settings.snippet_script_url),
            refresh=settings.snippet_refresh,
            timeout=settings.timeout,
            path=settings.snippet_cache_file,
        )
        self._max_age = f"public, max-age={int(min(settings.snippet_refresh, 3600))}"

    @classmethod
    def of(cls, tracker: Tracker) -> SnippetProxy | None:
        """The proxy of ``tracker``, or ``None`` when its ``snippet`` setting is ``"off"`` or
        ``enabled`` is ``False`` (nothing is sent then, not even a request for the script)."""
        return cls(tracker) if serves_snippet(tracker.settings) else None

    def endpoint(self, path: str) -> str | None:
        """Which of the snippet's endpoints ``path`` is (``SCRIPT``, ``PAGE_VIEW``, ``EVENT``,
        ``SESSION``), or ``None`` when the request is the app's."""
        return self.paths.get(path) if path.startswith(self.prefix) else None

    @staticmethod
    def wants_body(endpoint: str, method: str) -> bool:
        """Whether :meth:`answer` needs the request body."""
        return endpoint == EVENT and method == "POST"

    def script_ready(self) -> bool:
        """Whether the script can be served without waiting (async adapters wait in a thread)."""
        return self.script.get() is not None

    def answer(self, endpoint: str, request: RequestData, body: bytes = b"") -> Answer:
        """The response to the snippet's request; never raises. Bad input is answered ``400``
        with the reason, a wrong method ``405``. Records are only queued here."""
        try:
            allowed = ("GET", "HEAD") if endpoint in (SCRIPT, PAGE_VIEW) else ("POST",)
            if request.method not in allowed:
                text = f"method not allowed: use {' or '.join(allowed)}".encode()
                return Answer(405, [("Allow", ", ".join(allowed)), _TEXT, _NO_STORE], text)
            if endpoint == SCRIPT:
                return self._script(request)
            if endpoint == PAGE_VIEW and request.method == "HEAD":
                return Answer(200, [_TEXT, _NO_STORE])  # a GET's headers, not its effect
            if endpoint == PAGE_VIEW:
                self._page_view(request)
            elif endpoint == EVENT:
                self._event(request, body)
            else:
                self.tracker.track_session(request)
            return Answer(200, [_TEXT, _NO_STORE])
        except ValueError as error:
            self.tracker.count_skip("invalid", request)  # as an event a view cannot send
            return Answer(400, [_TEXT, _NOSNIFF, _NO_STORE], str(error).encode("utf-8", "replace"))
        except Exception:
            report_error("the snippet proxy")
            return Answer(500, [_TEXT, _NO_STORE], b"tracking failed")

    def close(self) -> None:
        """Stop refreshing the script."""
        self.script.close()

    def _script(self, request: RequestData) -> Answer:
        script = self.script.get(FIRST_FETCH_WAIT)
        if script is None:
            text = b"the Pirsch script could not be fetched yet"
            return Answer(503, [_TEXT, _NO_STORE, ("Retry-After", "30")], text)
        headers = [("Cache-Control", self._max_age), ("ETag", script.etag)]
        tags = request.headers.get("if-none-match")
        length = len(script.body)
        if tags is not None and _matches(tags, script.etag):
            return Answer(304, headers, length=length)  # RFC 9110 13.1.2
        headers.append(("Content-Type", "text/javascript; charset=utf-8"))
        if request.method == "HEAD":
            return Answer(200, headers, length=length)
        return Answer(200, headers, script.body)

    def _page_view(self, request: RequestData) -> None:
        params = _query(request.query)
        tags = {k[4:]: v for k, v in params.items() if k.startswith("tag_")}
        page = _page(request, params.get("url"), params.get("ref") or None)
        if self.hybrid:
            # The middleware counted this page when it served it: the snippet's is a second.
            self.tracker.count_skip("hybrid", page)
            return
        self.tracker.track_snippet_page_view(
            page,
            title=params.get("t") or None,
            tags=tags or None,
            screen_width=_pixels("w", params.get("w") or None),
            screen_height=_pixels("h", params.get("h") or None),
        )

    def _event(self, request: RequestData, body: bytes) -> None:
        if len(body) > MAX_BODY:
            raise ValueError(f"body: at most {MAX_BODY} bytes, got more")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            data = _with_lone_surrogates(body, error)
        if not isinstance(data, dict):
            raise ValueError(f"body: expected a JSON object, got {type(data).__name__}")
        name = data.get("event_name")
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
            raise ValueError(f"event_name: expected 1 to {_MAX_NAME} characters, got {name!r}")
        referrer = _text(data, "referrer")
        page = _page(request, data.get("url"), unquote(referrer) if referrer else None)
        duration = data.get("event_duration")
        if duration is not None and (
            not isinstance(duration, int | float) or isinstance(duration, bool)
        ):
            raise ValueError(f"event_duration: expected seconds, got {duration!r}")
        self.tracker.track_event(
            page,
            name,
            meta=_mapping(data, "event_meta"),
            duration=duration or None,
            non_interactive=data.get("non_interactive") is True,
            title=_text(data, "title"),
            tags=_mapping(data, "tags"),
            screen_width=_pixels("screen_width", data.get("screen_width")),
            screen_height=_pixels("screen_height", data.get("screen_height")),
        )


def serves_snippet(settings: Settings) -> bool:
    """Whether ``settings`` turn the snippet proxy (and the template helpers' tag) on."""
    return settings.snippet != "off" and settings.enabled


def check_routes(proxy: SnippetProxy, match: Callable[[str], object | None], where: str) -> None:
    """Raise :class:`ConfigurationError` when the app has a route of its own for one of the
    proxy's paths: ``match(path)`` returns what answers ``path`` in the app (``None``: nothing).
    A catch-all route, which answers a path no app could know as well, does not count: it is a
    fallback (a single-page app's), not a route under the prefix."""
    fallback = match("/pirsch-middleware-probe/8d0c1b2e/x")
    for path in proxy.paths:
        found = match(path)
        if found is not None and found != fallback:
            raise ConfigurationError(
                "snippet_prefix",
                f"a prefix under which the app has no route of its own ({where} answers {path})",
                proxy.prefix,
            )


def _with_lone_surrogates(body: bytes, error: ValueError) -> Any:
    """``body`` read by the standard library where orjson refused it only for a lone surrogate
    escape (``"\\ud83d"``: valid JSON, RFC 8259 section 8.2, and what ``JSON.stringify`` writes
    for half an emoji cut off by ``slice()``); the sender writes such a character as ``?``."""
    if "surrogate" in str(error):
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            pass
    raise ValueError("body: expected a JSON object, got invalid JSON") from None


def _matches(header: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _query(query: str) -> dict[str, str]:
    if len(query) > _MAX_QUERY:
        raise ValueError(f"query: at most {_MAX_QUERY} characters, got {len(query)}")
    try:
        raw = query.encode("latin-1")  # what the client sent (PEP 3333, ASGI)
    except UnicodeError:
        raw = query.encode("utf-8", "replace")
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=64)
    return dict(pairs)


def _page(request: RequestData, url: object, referrer: str | None) -> RequestData:
    """The page the snippet reports, as the request that fetched it: the snippet's ``url``,
    with the visitor's headers and address from the snippet's own request."""
    if not isinstance(url, str) or not url:
        raise ValueError("url: expected the page's address (location.href), got none")
    if len(url) > _MAX_URL:
        raise ValueError(f"url: at most {_MAX_URL} characters, got {len(url)}")
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"url: expected an absolute http(s) URL, got {url[:200]!r}")
    headers = {k: v for k, v in request.headers.items() if k not in _NOT_OF_THE_PAGE}
    if referrer:
        headers["referer"] = referrer
    path = parts.path or "/"
    return RequestData(
        "GET",
        parts.scheme,
        host,
        unquote(path),
        parts.query,
        request.peer,
        headers,
        path.encode("utf-8", "replace"),
    )


def _pixels(name: str, value: Any) -> int | None:
    if isinstance(value, str):
        value = int(value) if value.isascii() and value.isdigit() else value  # not "²"
    if value is None or value == 0:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= _MAX_PIXELS:
        raise ValueError(f"{name}: expected pixels from 0 to {_MAX_PIXELS}, got {value!r}")
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string, got {value!r}")
    return value


def _mapping(data: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected an object, got {value!r}")
    return value
