"""What a request's headers say about the request and its visitor: prefetch, how the request was
made (:class:`~pirsch_middleware.pageview.NavigationRules`), the visitor rules (Do Not Track and
Global Privacy Control, user agent, crawler list) and the record fields they give, judged once per
distinct set of values and cached; and the header values a draft takes.

Headers are read by their raw keys in the server's own structure (see
:mod:`~pirsch_middleware.headers`): a known set of values costs one dict lookup per header and
no decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from sys import intern
from typing import Any

from .bots import bad_user_agent, bot_matcher
from .headers import ASGIHeaders, EnvironHeaders, asgi_key, environ_key
from .pageview import MAX_CACHED_KEY, NavigationRules
from .settings import Settings

__all__ = ["MAX_HEADER", "MAX_VISITORS", "HeaderRules", "Visitor", "shared"]

_PREFETCH_HEADERS = ("x-moz", "x-purpose", "purpose", "sec-purpose", "x-sec-purpose")
_CLIENT_HINTS = (
    ("sec_ch_ua", "sec-ch-ua"),
    ("sec_ch_ua_mobile", "sec-ch-ua-mobile"),
    ("sec_ch_ua_platform", "sec-ch-ua-platform"),
    ("sec_ch_ua_platform_version", "sec-ch-ua-platform-version"),
    ("sec_ch_width", "sec-ch-width"),
    ("sec_ch_viewport_width", "sec-ch-viewport-width"),
)
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
#: Distinct visitors remembered per form of headers; past this the cache starts again.
MAX_VISITORS = 2048
#: The cap on a header value a record keeps, so a record stays small whatever arrives.
MAX_HEADER = 1024


def shared(value: str | None, limit: int = MAX_HEADER) -> str | None:
    """Capped, and one object for equal values: a server decodes each request's headers into new
    strings, and a queue of 50,000 records would otherwise hold 50,000 copies of the same user
    agent. Interned strings are freed with their last record, so this cannot grow without bound."""
    if value is None:
        return None
    return intern(value if len(value) <= limit else value[:limit])


class Visitor:
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
    """How headers held in one form (an ASGI dict, an environ, a mapping of names; see
    :mod:`~pirsch_middleware.headers`) are read: the keys of what is read, made once, and the
    verdicts of the values seen in that form (bytes in one, text in the others)."""

    __slots__ = ("draft", "encoding", "partial", "referer", "rules", "turbo", "visitors")

    def __init__(self, key: Callable[[str], Any], partial: Iterable[str], proxy: str) -> None:
        self.rules = tuple(map(key, _RULE_HEADERS))
        self.referer, self.encoding = key("referer"), key("accept-encoding")
        self.turbo = key("x-turbo-request-id")
        self.partial = frozenset(map(key, partial))
        self.draft = tuple(map(key, (*_DRAFT_HEADERS, proxy or "x-forwarded-for")))
        self.visitors: dict[tuple[object, ...], Visitor] = {}


class HeaderRules:
    """The header rules of these settings: :meth:`of` a request's headers, and the
    :meth:`values` a draft takes from them (``proxy_header``: the header the chosen proxy
    preset reads the visitor's address from, ``""`` for none)."""

    def __init__(self, settings: Settings, proxy_header: str) -> None:
        self._is_bot = bot_matcher() if settings.exclude_bots else None
        self._navigation = NavigationRules(
            tuple(settings.partial_headers),
            navigations_only=settings.navigations_only,
            track_frames=settings.track_frames,
            check_browser=settings.exclude_bots,
        )
        partial = self._navigation.partial
        # Views are read by their raw keys (in C); any other mapping by its names.
        self._readers: dict[type[object], _Reader] = {
            ASGIHeaders: _Reader(asgi_key, partial, proxy_header),
            EnvironHeaders: _Reader(environ_key, partial, proxy_header),
        }
        self._names = _Reader(str, partial, proxy_header)
        self._respect_dnt = settings.respect_dnt

    def of(self, headers: Mapping[str, str]) -> Visitor:
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
        # _judge fail): two thirds of the time of map() over them.
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
            visitor = self._judge(key)
            if sum(len(v) for v in key if isinstance(v, str | bytes)) <= MAX_CACHED_KEY:
                if len(visitors) >= MAX_VISITORS:
                    visitors.clear()
                visitors[key] = visitor
        if reader is not self._names:
            headers.verdict = (self, visitor)  # type: ignore[attr-defined]
        return visitor

    def _judge(self, key: tuple[object, ...]) -> Visitor:
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
            "user_agent": shared(agent) or "",
            "accept_language": shared(language),
            "dnt": shared(dnt),
        }
        for (field, _), value in zip(_CLIENT_HINTS, hints, strict=True):
            fields[field] = shared(value)
        kept = {k: v for k, v in fields.items() if v is not None}
        return Visitor(prefetch, reason, kept, navigation)

    def values(self, headers: Mapping[str, str]) -> tuple[str | None, ...]:
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
