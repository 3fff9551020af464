"""Request to record: what is a page view, and the fields Pirsch needs from it."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from sys import intern
from typing import TypeVar
from urllib.parse import parse_qs, quote

from .bots import bot_matcher
from .ip import IPResolver
from .records import MAX_TITLE, Event, Hit, Session
from .request import RequestData
from .settings import Settings

__all__ = ["SKIP_REASONS", "Extractor"]

#: Why a request was not sent, as counted in ``Tracker.stats()["skipped"]``.
SKIP_REASONS = (
    "method",  # not GET
    "excluded_path",  # exclude_paths
    "prefetch",  # X-Moz, X-Purpose, Purpose or Sec-Purpose says prefetch or preview
    "dnt",  # DNT: 1 with respect_dnt
    "no_user_agent",  # the API answers 400 without one
    "bot",  # a known crawler, with exclude_bots
    "should_track",  # the should_track predicate said no
    "status",  # a redirect or an error
    "content_type",  # not an HTML page
    "no_ip",  # no peer and no usable forwarding header
    "bad_host",  # a Host header that cannot be part of a URL
    "before_send",  # before_send returned None
    "view",  # the view called skip_page_view() or is decorated with @exempt
    "invalid",  # an event() or keep_alive() with arguments the API would refuse (logged)
    "disabled",  # enabled=False (returned, not counted)
)

_PREFETCH_HEADERS = ("x-moz", "x-purpose", "purpose", "sec-purpose")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SAFE_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~%]*\Z")
_HOST = re.compile(r"(?:[A-Za-z0-9_\-.]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?\Z")
_CLIENT_HINTS = (
    ("sec_ch_ua", "sec-ch-ua"),
    ("sec_ch_ua_mobile", "sec-ch-ua-mobile"),
    ("sec_ch_ua_platform", "sec-ch-ua-platform"),
    ("sec_ch_ua_platform_version", "sec-ch-ua-platform-version"),
    ("sec_ch_width", "sec-ch-width"),
    ("sec_ch_viewport_width", "sec-ch-viewport-width"),
)
_H = TypeVar("_H", bound=Hit)

# Caps on what a visitor sends, so a record stays small whatever arrives.
_MAX_URL = 4096
_MAX_HEADER = 1024


def _cap(value: str | None, limit: int = _MAX_HEADER) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit]


def _shared(value: str | None, limit: int = _MAX_HEADER) -> str | None:
    """Capped, and one object for equal values: a server decodes each request's headers into new
    strings, and a queue of 50,000 records would otherwise hold 50,000 copies of the same user
    agent. Interned strings are freed with their last record, so this cannot grow without bound."""
    if value is None:
        return None
    return intern(value if len(value) <= limit else value[:limit])


class Extractor:
    """Turns :class:`RequestData` into page hits, events and sessions, or a reason to skip."""

    def __init__(self, settings: Settings) -> None:
        self._ip = IPResolver(settings.proxy_networks(), settings.ip_headers)
        self._is_bot = bot_matcher() if settings.exclude_bots else None
        self._respect_dnt = settings.respect_dnt
        self._should_track = settings.should_track
        self._disable_bot_filter = settings.disable_bot_filter
        # Most globs are a whole path, a prefix or a suffix: set and str methods answer those
        # several times faster than one regular expression of them all would.
        exact, prefixes, suffixes, other = set(), [], [], []
        for glob in (p for p in settings.exclude_paths if isinstance(p, str)):
            if glob.endswith("/"):
                glob += "*"
            wild = [i for i, char in enumerate(glob) if char in "*?["]
            if not wild:
                exact.add(glob)
            elif wild == [len(glob) - 1] and glob[-1] == "*":
                prefixes.append(glob[:-1])
            elif wild == [0] and glob[0] == "*":
                suffixes.append(glob[1:])
            else:
                other.append(fnmatch.translate(glob))
        self._exact = frozenset(exact)
        self._prefixes, self._suffixes = tuple(prefixes), tuple(suffixes)
        self._glob = re.compile("|".join(other)).match if other else None
        regexes = [p for p in settings.exclude_paths if isinstance(p, re.Pattern)]
        self._regexes = tuple(r.search for r in regexes)

    def request_skip(self, request: RequestData) -> str | None:
        """Why this request is no page view, judged before the app answers; ``None`` if it is."""
        return self.route_skip(request.method, request.path) or self.header_skip(request)

    def route_skip(self, method: str, path: str) -> str | None:
        """The part of :meth:`request_skip` that needs only the method and the path: adapters ask
        it before they copy any header, so an asset costs next to nothing."""
        if method != "GET":
            return "method"
        if self.path_excluded(path):
            return "excluded_path"
        return None

    def header_skip(self, request: RequestData) -> str | None:
        """The part of :meth:`request_skip` that reads headers (prefetch and the visitor rules)."""
        headers = request.headers
        for name in _PREFETCH_HEADERS:
            value = headers.get(name)
            if value is not None:
                value = value.lower()
                if "prefetch" in value or "preview" in value:
                    return "prefetch"
        return self.visitor_skip(request)

    def visitor_skip(self, request: RequestData) -> str | None:
        """The checks that apply to events and sessions as well as page views."""
        headers = request.headers
        if self._respect_dnt and headers.get("dnt", "").strip() == "1":
            return "dnt"
        user_agent = headers.get("user-agent", "").strip()
        if not user_agent:
            return "no_user_agent"
        if self._is_bot is not None and self._is_bot(user_agent):
            return "bot"
        if self._should_track is not None and not self._should_track(request):
            return "should_track"
        return None

    def path_excluded(self, path: str) -> bool:
        """Whether ``exclude_paths`` names this path."""
        if path in self._exact or path.startswith(self._prefixes) or path.endswith(self._suffixes):
            return True
        if self._glob is not None and self._glob(path):
            return True
        # The emptiness test spares the generator on every request without regexes.
        return bool(self._regexes) and any(search(path) for search in self._regexes)

    @staticmethod
    def response_skip(status: int, content_type: str | None) -> str | None:
        """Why this response is no page view: a redirect, an error, or not an HTML page."""
        if not 200 <= status < 300:
            return "status"
        if not content_type or not content_type.lstrip().lower().startswith(_HTML_TYPES):
            return "content_type"
        return None

    def hit(
        self,
        request: RequestData,
        time: float,
        *,
        title: str | None = None,
        tags: dict[str, str] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
    ) -> Hit | str:
        """The page hit for a request, or the reason it cannot be built."""
        return self._build(Hit, request, time, title, tags, screen_width, screen_height, {})

    def event(
        self,
        request: RequestData,
        time: float,
        name: str,
        *,
        duration: int | None = None,
        meta: dict[str, str] | None = None,
        non_interactive: bool = False,
        title: str | None = None,
        tags: dict[str, str] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
    ) -> Event | str:
        """The event for a request, or the reason it cannot be built."""
        extra = {
            "event_name": name,
            "event_duration": duration,
            "event_meta": meta,
            "non_interactive": non_interactive,
        }
        return self._build(Event, request, time, title, tags, screen_width, screen_height, extra)

    def session(self, request: RequestData, time: float) -> Session | str:
        """The session keep-alive for a request, or the reason it cannot be built."""
        ip = self._ip.resolve(request.peer, request.headers)
        if ip is None:
            return "no_ip"
        headers = request.headers
        return Session(
            ip=ip,
            user_agent=_cap(headers.get("user-agent", "").strip()) or "",
            time=time,
            disable_bot_filter=self._disable_bot_filter,
            **{field: _cap(headers.get(name)) for field, name in _CLIENT_HINTS},
        )

    def _build(
        self,
        cls: type[_H],
        request: RequestData,
        time: float,
        title: str | None,
        tags: dict[str, str] | None,
        screen_width: int | None,
        screen_height: int | None,
        extra: Mapping[str, object],
    ) -> _H | str:
        headers = request.headers
        ip = self._ip.resolve(request.peer, headers)
        if ip is None:
            return "no_ip"
        url = self._url(request)
        if url is None:
            return "bad_host"
        get, cap, shared = headers.get, _cap, _shared
        # Spelled out rather than looped: this runs on every page view.
        return cls(
            ip=ip,
            user_agent=shared(get("user-agent", "").strip()) or "",
            time=time,
            url=url,
            accept_language=shared(get("accept-language")),
            referrer=shared(_referrer(request.query, headers), 2048),
            title=cap(" ".join(title.split()), MAX_TITLE) if title else None,
            screen_width=screen_width,
            screen_height=screen_height,
            tags=tags or None,
            disable_bot_filter=self._disable_bot_filter,
            sec_ch_ua=shared(get("sec-ch-ua")),
            sec_ch_ua_mobile=shared(get("sec-ch-ua-mobile")),
            sec_ch_ua_platform=shared(get("sec-ch-ua-platform")),
            sec_ch_ua_platform_version=shared(get("sec-ch-ua-platform-version")),
            sec_ch_width=cap(get("sec-ch-width")),
            sec_ch_viewport_width=cap(get("sec-ch-viewport-width")),
            dnt=cap(get("dnt")),
            cf_connecting_ip=cap(get("cf-connecting-ip")),
            x_forwarded_for=cap(get("x-forwarded-for")),
            forwarded=cap(get("forwarded")),
            x_real_ip=cap(get("x-real-ip")),
            **extra,
        )

    def _url(self, request: RequestData) -> str | None:
        scheme, host = request.scheme.lower(), request.host
        if scheme not in ("http", "https"):
            scheme = "http"
        headers = request.headers
        proto, forwarded_host = headers.get("x-forwarded-proto"), headers.get("x-forwarded-host")
        # A proxy's view of scheme and host counts only from a trusted proxy.
        if (proto or forwarded_host) and self._ip.trusts(request.peer):
            if proto:
                proto = proto.partition(",")[0].strip().lower()
                if proto in ("http", "https"):
                    scheme = proto
            if forwarded_host:
                host = forwarded_host.partition(",")[0].strip()
        if not _HOST.match(host):
            return None
        path = request.path or "/"
        if not _SAFE_PATH.match(path):
            path = quote(path, safe="/:@!$&'()*+,;=-._~%", errors="replace")
        url = f"{scheme}://{host.lower()}{path}"
        return _cap(f"{url}?{request.query}" if request.query else url, _MAX_URL)


def _referrer(query: str, headers: Mapping[str, str]) -> str | None:
    """Pirsch's rule: ``ref``/``referer``/``referrer`` parameters win over the Referer header,
    ``source``/``utm_source`` count only when the header is empty."""
    header = headers.get("referer") or None
    if not query or ("ref" not in query and "source" not in query):
        return header
    params = parse_qs(query[:_MAX_URL])
    for name in ("ref", "referer", "referrer"):
        if params.get(name):
            return params[name][0]
    if header:
        return header
    for name in ("source", "utm_source"):
        if params.get(name):
            return params[name][0]
    return None
