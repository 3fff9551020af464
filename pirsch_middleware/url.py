"""The page's URL as the browser has it (``location.href``), and its referrer by Pirsch's rule.

The path and query are escaped as a browser escapes them (the WHATWG URL standard's percent-encode
sets), the origin is serialised as a browser does (lower case, IDNA, the default port dropped),
and ``X-Forwarded-Proto`` / ``-Host`` count only where the proxy preset says what is in front
writes them.
"""

from __future__ import annotations

import re
from contextlib import suppress
from urllib.parse import parse_qs, quote, quote_from_bytes

import idna

from .ip import IPResolver
from .pageview import MAX_CACHED_KEY
from .proxies import Preset
from .request import PATH_SAFE, SAFE_PATH

__all__ = ["PageURL", "referrer_of"]

# A browser escapes in a query only what the WHATWG URL standard's query percent-encode set
# names (space " # < > ' and controls) and what is not ASCII.
_SAFE_QUERY = re.compile(r"[!$%&()*+,\-./0-9:;=?@A-Z\[\\\]^_`a-z{|}~]*\Z")
_QUERY_SAFE = "!$%&()*+,-./:;=?@[\\]^_`{|}~"
_HOST = re.compile(r"(?:[A-Za-z0-9_\-.]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?\Z")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# Distinct origins remembered; past this the cache starts again.
_MAX_ORIGINS = 2048
# The cap on a URL, so a record stays small whatever arrives.
_MAX_URL = 4096


class PageURL:
    """The URLs of pages served behind ``preset`` (whose ``sets_host`` / ``sets_proto`` say
    whether the forwarded host and scheme count), for requests ``resolver`` says came through
    it."""

    def __init__(self, preset: Preset, resolver: IPResolver) -> None:
        self._origins: dict[tuple[str, str], str] = {}
        self._ip = resolver
        self._sets_host, self._sets_proto = preset.sets_host, preset.sets_proto

    def url(
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
        (str), both escaped as a browser would; the query as received, escaped likewise.
        ``None`` when the host cannot be part of a URL."""
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
                if len(self._origins) >= _MAX_ORIGINS:
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


def referrer_of(query: str, header: str | None) -> str | None:
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
