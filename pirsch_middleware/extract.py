"""Request to record: what is a page view, and the fields Pirsch needs from it."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from sys import intern
from typing import Any
from urllib.parse import parse_qs, quote, quote_from_bytes

import idna

from ._time import format_time
from .bots import bad_user_agent, bot_matcher
from .headers import ASGIHeaders, EnvironHeaders, asgi_key, environ_key
from .ip import IPResolver
from .pageview import DOWNLOAD_EVENT, MAX_CACHED_KEY, NOT_FOUND_EVENT, RULES, NavigationRules
from .records import MAX_TITLE, Event, Hit, Session
from .request import PATH_SAFE, SAFE_PATH, RequestData
from .settings import Settings

__all__ = ["SKIP_REASONS", "Extractor"]

#: Why a request was not sent, as counted in ``Tracker.stats()["skipped"]``: the page-view rules
#: (:data:`~pirsch_middleware.pageview.RULES`, in the order they are judged), then ``invalid``
#: (an event() or keep_alive() with arguments the API would refuse, logged), ``disabled``
#: (enabled=False; returned, not counted), ``snippet`` (snippet="only": the snippet counts page
#: views; returned, not counted) and ``hybrid`` (a page view from the snippet in hybrid mode).
SKIP_REASONS = (*(rule.reason for rule in RULES), "invalid", "disabled", "snippet", "hybrid")

_PREFETCH_HEADERS = ("x-moz", "x-purpose", "purpose", "sec-purpose", "x-sec-purpose")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# A browser escapes in a query only what the WHATWG URL standard's query percent-encode set
# names (space " # < > ' and controls) and what is not ASCII.
_SAFE_QUERY = re.compile(r"[!$%&()*+,\-./0-9:;=?@A-Z\[\\\]^_`a-z{|}~]*\Z")
_QUERY_SAFE = "!$%&()*+,-./:;=?@[\\]^_`{|}~"
_HOST = re.compile(r"(?:[A-Za-z0-9_\-.]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?\Z")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_CLIENT_HINTS = (
    ("sec_ch_ua", "sec-ch-ua"),
    ("sec_ch_ua_mobile", "sec-ch-ua-mobile"),
    ("sec_ch_ua_platform", "sec-ch-ua-platform"),
    ("sec_ch_ua_platform_version", "sec-ch-ua-platform-version"),
    ("sec_ch_width", "sec-ch-width"),
    ("sec_ch_viewport_width", "sec-ch-viewport-width"),
)
#: A hit or event not built yet (see :meth:`Extractor.draft`): a plain tuple, the cheapest thing
#: Python makes.
Draft = tuple[Any, ...]
# What a visitor sends alike on every request, and how the request was made: the verdict of every
# header rule and the cleaned values are cached per distinct values of these.
_VISITOR_HEADERS = (
    *_PREFETCH_HEADERS,
    "user-agent",
    "accept-language",
    "dnt",
    "sec-gpc",
    *(name for _, name in _CLIENT_HINTS),
)
_RULE_HEADERS = (*_VISITOR_HEADERS, *NavigationRules.HEADERS)
# What a draft takes from the headers, in its order; the header the chosen proxy reads follows.
_DRAFT_HEADERS = (
    "referer", "x-forwarded-proto", "x-forwarded-host", "cf-connecting-ip", "x-forwarded-for",
    "forwarded", "x-real-ip",
)  # fmt: skip
_HINT_FIELDS = frozenset(field for field, _ in _CLIENT_HINTS)
_SESSION_FIELDS = frozenset({"user_agent", *_HINT_FIELDS})
_EVENT_FIELDS = ("event_name", "event_duration", "event_meta", "non_interactive")
_NO_EXTRA: Mapping[str, Any] = {}
# Distinct visitors (and origins) remembered; past this the cache starts again.
_MAX_CACHED = 2048

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


class _Visitor:
    """What a request's headers decide: why it is no page view (``page``: prefetch, then how it
    was made, then the visitor rules), why the visitor sends nothing at all (``reason``: for
    events and sessions too), how it was made (``navigation``), and the record fields they give."""

    __slots__ = ("fields", "hints", "navigation", "page", "prefetch", "reason", "session_fields")

    def __init__(
        self,
        prefetch: bool,
        reason: str | None,
        fields: dict[str, str],
        navigation: str | None = None,
    ) -> None:
        self.prefetch = prefetch
        self.reason = reason
        self.navigation = navigation
        self.page = "prefetch" if prefetch else navigation or reason
        self.fields = fields
        self.session_fields = {k: v for k, v in fields.items() if k in _SESSION_FIELDS}
        self.hints = {k: v for k, v in fields.items() if k in _HINT_FIELDS}  # in record order


class _Reader:
    """How the extractor reads headers held in one form (an ASGI dict, an environ, a mapping of
    names; see :mod:`~pirsch_middleware.headers`): the keys of what it reads, made once, and the
    verdicts of the values seen in that form (bytes in one, text in the others)."""

    __slots__ = ("draft", "encoding", "partial", "referer", "rules", "turbo", "visitors")

    def __init__(self, key: Callable[[str], Any], partial: Iterable[str], proxy: str) -> None:
        self.rules = tuple(map(key, _RULE_HEADERS))
        self.referer, self.encoding = key("referer"), key("accept-encoding")
        self.turbo = key("x-turbo-request-id")
        self.partial = frozenset(map(key, partial))
        self.draft = tuple(map(key, (*_DRAFT_HEADERS, proxy or "x-forwarded-for")))
        self.visitors: dict[tuple[object, ...], _Visitor] = {}


class Extractor:
    """Turns :class:`RequestData` into page hits, events and sessions, or a reason to skip."""

    def __init__(self, settings: Settings) -> None:
        self._origins: dict[tuple[str, str], str] = {}
        preset = settings.preset()
        self._ip = IPResolver(settings.proxy_networks(), preset, settings.proxy_only)
        self._sets_host, self._sets_proto = preset.sets_host, preset.sets_proto
        #: Called with each record's address, peer and whether forwarding headers came (set by
        #: the Tracker: see :class:`~pirsch_middleware.address.AddressCheck`).
        self.check_address: Callable[[str, str | None, bool], None] | None = None
        self._is_bot = bot_matcher() if settings.exclude_bots else None
        self._navigation = NavigationRules(
            tuple(settings.partial_headers),
            navigations_only=settings.navigations_only,
            track_frames=settings.track_frames,
            check_browser=settings.exclude_bots,
        )
        self._navigations_only = settings.navigations_only
        partial = self._navigation.partial
        # Views are read by their raw keys (in C); any other mapping by its names.
        self._readers: dict[type[object], _Reader] = {
            ASGIHeaders: _Reader(asgi_key, partial, preset.header),
            EnvironHeaders: _Reader(environ_key, partial, preset.header),
        }
        self._names = _Reader(str, partial, preset.header)
        self._respect_dnt = settings.respect_dnt
        self._not_found_event = settings.not_found_event
        self._download_event = settings.download_event
        self._download_suffixes = tuple(f".{ext}" for ext in settings.download_extensions)
        #: Whether any response of a navigation that is no page view stands for an event.
        self.response_events = settings.not_found_event or settings.download_event
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

    @property
    def resolver(self) -> IPResolver:
        """How visitor addresses are resolved."""
        return self._ip

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
        """The part of :meth:`request_skip` that reads headers: prefetch, how the request was made
        (:class:`~pirsch_middleware.pageview.NavigationRules`), then the visitor rules."""
        reason = self._visitor(request.headers).page
        if reason is None and self._should_track is not None and not self._should_track(request):
            return "should_track"
        return reason

    def visitor_skip(self, request: RequestData) -> str | None:
        """The checks that apply to events and sessions as well as page views."""
        reason = self._visitor(request.headers).reason
        if reason is None and self._should_track is not None and not self._should_track(request):
            return "should_track"
        return reason

    def _visitor(self, headers: Mapping[str, str]) -> _Visitor:
        """The verdicts and fields of these headers, cached: visitors come back, and a busy site
        sees a few browsers making a few kinds of request far more often than anything else.
        The cache is keyed by the raw values of the rule headers (and whether the headers only
        present matter came), taken from the server's own structure in one C call each; a new
        key alone decodes them and is judged."""
        reader = self._readers.get(type(headers))
        if reader is None:
            reader, raw = self._names, headers
        else:
            known = headers.verdict  # type: ignore[attr-defined]
            if known is not None and known[0] is self:  # its request's rules, then its record
                return known[1]  # type: ignore[no-any-return]
            raw = headers.raw  # type: ignore[attr-defined]
        get, k = raw.get, reader.rules
        # Straight-line (_RULE_HEADERS in order; a header added there without an index here makes
        # _judge_visitor fail): two thirds of the time of map() over them.
        key = (
            get(k[0]), get(k[1]), get(k[2]), get(k[3]), get(k[4]), get(k[5]), get(k[6]),
            get(k[7]), get(k[8]), get(k[9]), get(k[10]), get(k[11]), get(k[12]), get(k[13]),
            get(k[14]), get(k[15]), get(k[16]), get(k[17]), get(k[18]), get(k[19]), get(k[20]),
            get(k[21]), bool(get(reader.referer)), bool(get(reader.encoding)),
            reader.turbo in raw, not raw.keys().isdisjoint(reader.partial),
        )  # fmt: skip
        visitors = reader.visitors
        visitor = visitors.get(key)
        if visitor is None:
            visitor = self._judge_visitor(key)
            if sum(len(v) for v in key if isinstance(v, str | bytes)) <= MAX_CACHED_KEY:
                if len(visitors) >= _MAX_CACHED:
                    visitors.clear()
                visitors[key] = visitor
        if reader is not self._names:
            headers.verdict = (self, visitor)  # type: ignore[attr-defined]
        return visitor

    def _judge_visitor(self, key: tuple[object, ...]) -> _Visitor:
        # Bytes from an ASGI server are latin-1 (the ASGI spec), as a view decodes them.
        decoded = [v.decode("latin-1") if isinstance(v, bytes) else v for v in key]
        values: list[str | None] = decoded[: len(_VISITOR_HEADERS)]  # type: ignore[assignment]
        mode, dest, site, upgrade, accept, boosted, restore, referer, encoding, turbo, partial = (
            decoded[len(_VISITOR_HEADERS) :]
        )
        purposes = values[: len(_PREFETCH_HEADERS)]
        user_agent, language, dnt, gpc, *hints = values[len(_PREFETCH_HEADERS) :]
        navigation = self._navigation.judge(
            mode, dest, site, upgrade, accept, boosted, restore,  # type: ignore[arg-type]
            bool(referer), bool(language), bool(encoding), bool(turbo), bool(partial),
        )  # fmt: skip
        prefetch = any(
            "prefetch" in value or "preview" in value
            for value in (v.lower() for v in purposes if v is not None)
        )
        agent = (user_agent or "").strip()
        reason = None
        # Global Privacy Control (https://w3c.github.io/gpc/) asks what DNT asks: counted as dnt.
        if self._respect_dnt and "1" in ((dnt or "").strip(), (gpc or "").strip()):
            reason = "dnt"
        elif not agent:
            reason = "no_user_agent"
        elif self._is_bot is not None and bad_user_agent(agent):
            reason = "bad_user_agent"
        elif self._is_bot is not None and self._is_bot(agent):
            reason = "bot"
        fields = {
            "user_agent": _shared(agent) or "",
            "accept_language": _shared(language),
            "dnt": _shared(dnt),
        }
        for (field, _), value in zip(_CLIENT_HINTS, hints, strict=True):
            fields[field] = _shared(value)
        kept = {k: v for k, v in fields.items() if v is not None}
        return _Visitor(prefetch, reason, kept, navigation)

    def path_excluded(self, path: str) -> bool:
        """Whether ``exclude_paths`` names this path."""
        if path in self._exact or path.startswith(self._prefixes) or path.endswith(self._suffixes):
            return True
        if self._glob is not None and self._glob(path):
            return True
        # The emptiness test spares the generator on every request without regexes.
        return bool(self._regexes) and any(search(path) for search in self._regexes)

    def response_skip(self, status: int, content_type: str | None) -> str | None:
        """Why this response is no page view: a redirect, an error, or not an HTML page. A ``304``
        answers a revalidated reload (the browser shows the page it has): it counts when the
        request is a navigation, unless it names a content type that is not HTML; without
        ``navigations_only`` nothing tells a navigation from a ``fetch()``, so it is ``status``
        then, as before."""
        if status == 304:
            if not self._navigations_only:
                return "status"
            if content_type and not content_type.lstrip().lower().startswith(_HTML_TYPES):
                return "content_type"  # a revalidated PDF or JSON a server still names
            return None
        if not 200 <= status < 300:
            return "status"
        if not content_type or not content_type.lstrip().lower().startswith(_HTML_TYPES):
            return "content_type"
        return None

    def response_event(
        self, request: RequestData, status: int, disposition: str | None
    ) -> tuple[str, dict[str, str]] | None:
        """The snippet's event (name and meta) a navigation's response stands for, when its
        setting is on: ``"404 Page Not Found"`` with the ``path`` for a 404
        (``not_found_event``), ``"File Download"`` with the ``file`` for a 2xx that is an
        attachment (``Content-Disposition``, RFC 6266) or has one of ``download_extensions``
        (``download_event``). ``None`` otherwise, and for a request that is no navigation."""
        path = request.path
        if status == 404 and self._not_found_event:
            event = NOT_FOUND_EVENT, {"path": path}
        elif (
            200 <= status < 300
            and self._download_event
            and (
                (disposition or "").lstrip().lower().startswith("attachment")
                or path.lower().endswith(self._download_suffixes)
            )
        ):
            event = DOWNLOAD_EVENT, {"file": path}
        else:
            return None
        headers = request.headers
        visitor = self._visitor(headers)
        if visitor.prefetch:
            return None
        reason = visitor.navigation
        if reason is not None and not (
            reason == "not_navigation" and event[0] == DOWNLOAD_EVENT and _download(headers)
        ):
            return None
        return event

    def hit(
        self,
        request: RequestData,
        time: float,
        title: str | None = None,
        tags: dict[str, str] | None = None,
        screen_width: int | None = None,
        screen_height: int | None = None,
    ) -> Hit | str:
        """The page hit for a request, or the reason it cannot be built."""
        built = self.draft(Hit, request, time, title, tags, screen_width, screen_height, _NO_EXTRA)
        return built if isinstance(built, str) else self.complete(built)

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
        built = self.draft(Event, request, time, title, tags, screen_width, screen_height, extra)
        if isinstance(built, str):
            return built
        event = self.complete(built)
        assert isinstance(event, Event | str)
        return event

    def session(self, request: RequestData, time: float) -> Session | str:
        """The session keep-alive for a request, or the reason it cannot be built."""
        values = self._values(request.headers)
        ip = self._ip.resolve_values(request.peer, values[4], values[-1])
        if ip is None:
            return "no_ip"
        return Session(
            ip=ip,
            time=time,
            disable_bot_filter=self._disable_bot_filter,
            **self._visitor(request.headers).session_fields,
        )

    def draft(
        self,
        cls: type[Hit],
        request: RequestData,
        time: float,
        title: str | None,
        tags: dict[str, str] | None,
        screen_width: int | None,
        screen_height: int | None,
        extra: Mapping[str, Any],
    ) -> Draft | str:
        """What a hit or event needs from its request, taken on the request path; the sender
        thread makes the record of it (:meth:`complete`), so building the URL and the record
        costs the request nothing. ``no_ip`` is known at once; ``bad_host`` only then."""
        headers = request.headers
        referer, proto, host, cf_ip, forwarded_for, forwarded, real_ip, own = self._values(headers)
        ip = self._ip.resolve_values(request.peer, forwarded_for, own)
        if ip is None:
            return "no_ip"
        # Host and referrer repeat from request to request: one string each for a queue of
        # drafts, however many requests decoded them (see _shared).
        if referer is not None:
            referer = intern(referer if len(referer) <= 2048 else referer[:2048])
        return (
            cls, ip, time, self._visitor(headers), request.scheme, intern(request.host),
            request.path if request.raw_path is None else request.raw_path, request.query,
            request.peer, referer, proto, host, cf_ip, forwarded_for, forwarded, real_ip, title,
            tags, screen_width, screen_height, extra,
        )  # fmt: skip

    def _values(self, headers: Mapping[str, str]) -> tuple[str | None, ...]:
        """The values a draft takes (``_DRAFT_HEADERS``, then the header the proxy reads),
        decoded: from a view, looked up by their raw keys."""
        reader = self._readers.get(type(headers))
        if reader is None:
            return tuple(map(headers.get, self._names.draft))
        # Straight-line: a third of the time of map() and a loop; most of them are missing.
        get = headers.raw.get  # type: ignore[attr-defined]
        r, p, h, c, f, d, i, o = reader.draft
        r, p, h, c, f, d, i, o = get(r), get(p), get(h), get(c), get(f), get(d), get(i), get(o)
        if type(headers) is not ASGIHeaders:
            return r, p, h, c, f, d, i, o
        return (
            None if r is None else r.decode("latin-1"), None if p is None else p.decode("latin-1"),
            None if h is None else h.decode("latin-1"), None if c is None else c.decode("latin-1"),
            None if f is None else f.decode("latin-1"), None if d is None else d.decode("latin-1"),
            None if i is None else i.decode("latin-1"), None if o is None else o.decode("latin-1"),
        )  # fmt: skip

    def complete(self, draft: Draft) -> Hit | str:
        """The record a :meth:`draft` describes, or the reason it cannot be built."""
        return self.build(draft, False)  # type: ignore[no-any-return]

    def body(self, draft: Draft) -> dict[str, Any] | str:
        """The ``payload()`` of the record :meth:`complete` would build, without building it: the
        sender's way when no ``before_send`` hook needs the record (half the CPU, see
        ``benchmarks/encode.py``). The same fields in the same order, so the same JSON
        (``tests/test_properties.py`` holds both to that); or the reason it cannot be built."""
        return self.build(draft, True)  # type: ignore[no-any-return]

    def build(self, draft: Draft, as_body: bool) -> Any:
        """:meth:`body` if ``as_body``, else :meth:`complete` (the sender's call, once a hit)."""
        (
            cls, ip, time, visitor, scheme, host, path, query, peer, referer, proto,
            forwarded_host, cf_connecting_ip, x_forwarded_for, forwarded, x_real_ip, title, tags,
            screen_width, screen_height, extra,
        ) = draft  # fmt: skip
        url = self._url(scheme, host, path, query, peer, proto, forwarded_host, x_forwarded_for)
        if url is None:
            return "bad_host"
        if self.check_address is not None:
            forwarding = x_forwarded_for or forwarded or x_real_ip or cf_connecting_ip
            self.check_address(ip, peer, bool(forwarding))
        referrer = _shared(_referrer(query, referer), 2048)
        title = _cap(" ".join(title.split()), MAX_TITLE) if title else None
        if not as_body:
            return cls(
                ip=ip,
                time=time,
                url=url,
                referrer=referrer,
                title=title,
                screen_width=screen_width,
                screen_height=screen_height,
                tags=tags or None,
                disable_bot_filter=self._disable_bot_filter,
                # The API document's forwarding fields, as received.
                cf_connecting_ip=_cap(cf_connecting_ip),
                x_forwarded_for=_cap(x_forwarded_for),
                forwarded=_cap(forwarded),
                x_real_ip=_cap(x_real_ip),
                **visitor.fields,
                **extra,
            )
        # What payload() writes: the record's fields in their declared order (records.py),
        # those that are None or False left out. Straight-line code: it runs for every hit.
        fields = visitor.fields
        body = {"ip": ip, "user_agent": fields["user_agent"], "time": format_time(time)}
        if visitor.hints:
            body.update(visitor.hints)
        if self._disable_bot_filter:
            body["disable_bot_filter"] = True
        body["url"] = url
        value = fields.get("accept_language")
        if value is not None:
            body["accept_language"] = value
        if referrer is not None:
            body["referrer"] = referrer
        if title is not None:
            body["title"] = title
        if screen_width is not None:
            body["screen_width"] = screen_width
        if screen_height is not None:
            body["screen_height"] = screen_height
        if tags:
            body["tags"] = tags
        value = fields.get("dnt")
        if value is not None:
            body["dnt"] = value
        if cf_connecting_ip is not None:
            body["cf_connecting_ip"] = _cap(cf_connecting_ip)
        if x_forwarded_for is not None:
            body["x_forwarded_for"] = _cap(x_forwarded_for)
        if forwarded is not None:
            body["forwarded"] = _cap(forwarded)
        if x_real_ip is not None:
            body["x_real_ip"] = _cap(x_real_ip)
        if extra:
            for name in _EVENT_FIELDS:
                value = extra.get(name)
                if value is not None and value is not False:
                    body[name] = value
        return body

    def _url(
        self,
        scheme: str,
        host: str,
        path: str | bytes,
        query: str,
        peer: str | None,
        proto: str | None,
        forwarded_host: str | None,
        x_forwarded_for: str | None,
    ) -> str | None:
        """``location.href`` of the page: ``path`` as the client sent it (bytes) or decoded
        (str), both escaped as a browser would; the query as received, escaped likewise."""
        # X-Forwarded-Proto / -Host count only where what is in front writes them (the preset's
        # platform, or the user's word for their own proxy), for a request that came through it,
        # and only the entry the nearest one wrote: a proxy that appends (Apache's mod_proxy)
        # leaves the visitor's on the left (as Werkzeug's ProxyFix with x_proto=1, x_host=1).
        # Anywhere else they are the visitor's: stock nginx passes X-Forwarded-Host on.
        proto = proto if self._sets_proto else None
        forwarded_host = forwarded_host if self._sets_host else None
        if (proto or forwarded_host) and self._ip.came_through(peer, x_forwarded_for):
            if proto:
                proto = proto.rpartition(",")[2].strip().lower()
                if proto in ("http", "https"):
                    scheme = proto
            if forwarded_host:
                host = forwarded_host.rpartition(",")[2].strip()
        origin = self._origins.get((scheme, host))
        if origin is None:
            origin = _origin(scheme, host)
            if len(host) <= MAX_CACHED_KEY:
                if len(self._origins) >= _MAX_CACHED:
                    self._origins.clear()
                self._origins[scheme, host] = origin
        if not origin:
            return None
        if isinstance(path, bytes):
            path = quote_from_bytes(path or b"/", safe=PATH_SAFE)
        else:
            path = path or "/"
            if not SAFE_PATH.match(path):
                path = quote(path, safe=PATH_SAFE, errors="replace")
        if query and not _SAFE_QUERY.match(query):
            query = quote_from_bytes(_bytes(query), safe=_QUERY_SAFE)
        url = f"{origin}{path}?{query}" if query else f"{origin}{path}"
        return url if len(url) <= _MAX_URL else url[:_MAX_URL]


def _download(headers: Mapping[str, str]) -> bool:
    """Whether a request is a link with the ``download`` attribute: Chromium navigates to no
    document (``Sec-Fetch-Mode: navigate``, ``Sec-Fetch-Dest: empty``; the Fetch standard's
    download request has the empty destination)."""
    mode = (headers.get("sec-fetch-mode") or "").strip().lower()
    return mode == "navigate" and (headers.get("sec-fetch-dest") or "").strip().lower() == "empty"


def _bytes(text: str) -> bytes:
    """What the client sent, from text decoded as latin-1 (PEP 3333, ASGI headers), or as UTF-8
    where a framework did so."""
    try:
        return text.encode("latin-1")
    except UnicodeError:
        return text.encode("utf-8", "replace")


def _origin(scheme: str, host: str) -> str:
    """``scheme://host`` as a browser serialises it: host in lower case, an internationalised
    name in its ASCII (IDNA) form, the scheme's default port dropped; ``""`` when the host cannot
    be part of a URL."""
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        scheme = "http"
    if not host.isascii():
        name, colon, port = host.rpartition(":") if "]" not in host else (host, "", "")
        if not colon or not port.isdigit():
            name, colon, port = host, "", ""
        with suppress(UnicodeError):  # UTF-8 a server decoded as latin-1, or a framework's text
            name = _bytes(name).decode("utf-8")
        try:
            host = idna.encode(name, uts46=True).decode("ascii") + colon + port
        except (UnicodeError, idna.IDNAError):
            return ""
    if not _HOST.match(host):
        return ""
    host = host.lower()
    if host.endswith(_DEFAULT_PORTS[scheme]):
        host = host[: -len(_DEFAULT_PORTS[scheme])]
    return f"{scheme}://{host}"


def _referrer(query: str, header: str | None) -> str | None:
    """Pirsch's rule: ``ref``/``referer``/``referrer`` parameters win over the Referer header,
    ``source``/``utm_source`` count only when the header is empty."""
    header = header or None
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
