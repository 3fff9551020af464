"""The normalised request every adapter hands the core, and builders from ASGI and WSGI input."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

from .headers import ASGIHeaders, EnvironHeaders

__all__ = [
    "HEADERS_READ",
    "PATH_SAFE",
    "SAFE_PATH",
    "RequestData",
    "asgi_path",
    "asgi_raw_path",
    "asgi_request",
    "environ_path",
    "environ_raw_path",
    "environ_request",
    "join_headers",
]

# What a browser leaves unescaped in a path besides letters, digits and "_.-~": all printable
# ASCII but the WHATWG URL standard's path percent-encode set (space " # < > ? ` { }); "%" too,
# so escapes the client sent stay as sent.
PATH_SAFE = "/:@!$&'()*+,;=%[]\\^|"
#: Matches a path of only what a browser leaves unescaped (``PATH_SAFE`` and letters, digits and
#: "_.-~"): escaping it changes nothing, so the escaping is skipped.
SAFE_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~%\[\]\\^|]*\Z")

#: The request headers the core reads, besides the header the chosen ``proxy`` reads and the
#: ``partial_headers`` (:attr:`RequestData.headers` has every header the request came with).
HEADERS_READ: tuple[str, ...] = (
    "user-agent",
    "accept-language",
    "accept-encoding",
    "accept",
    "referer",
    "dnt",
    "sec-gpc",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-site",
    "upgrade-insecure-requests",
    "hx-request",
    "hx-boosted",
    "hx-history-restore-request",
    "turbo-frame",
    "x-turbo-request-id",
    "x-up-version",
    "x-up-target",
    "x-requested-with",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-ch-ua-platform-version",
    "sec-ch-width",
    "sec-ch-viewport-width",
    "x-moz",
    "x-purpose",
    "purpose",
    "sec-purpose",
    "x-sec-purpose",
    "x-forwarded-proto",
    "x-forwarded-host",
    "cf-connecting-ip",
    "true-client-ip",
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
)


@dataclass(slots=True)
class RequestData:
    """One HTTP request as the core sees it, whatever the framework.

    ``headers`` maps lower-case names to values, repeated headers joined with ``", "`` (from an
    adapter, a read-only view that decodes a value when it is read: see
    :mod:`~pirsch_middleware.headers`);
    ``path`` is the decoded path without the query (what ``exclude_paths`` match); ``query`` is
    the raw query string without ``?`` (its bytes as latin-1, as PEP 3333 has it); ``peer`` is
    the address of the connected client (``None`` when unknown, as ASGI allows); ``raw_path`` is
    the path as the client sent it, bytes with escapes such as ``%2F`` kept, mount prefix
    included (``None`` when unknown: the URL then escapes ``path``).
    """

    method: str
    scheme: str
    host: str
    path: str
    query: str = ""
    peer: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_path: bytes | None = None


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Build ``RequestData.headers`` from raw pairs: names lower-cased, repeats joined."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in headers:
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    return headers


def environ_path(environ: Mapping[str, Any]) -> str:
    """The decoded path of a WSGI request, ``SCRIPT_NAME`` included."""
    # PEP 3333 hands the path over as bytes decoded as latin-1; the URL wants the text.
    raw = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    if raw.isascii():
        return raw
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def environ_raw_path(environ: Mapping[str, Any]) -> bytes:
    """The path of a WSGI request as the client sent it, ``SCRIPT_NAME`` included.

    From ``REQUEST_URI`` or ``RAW_URI`` (gunicorn, uWSGI, Werkzeug, mod_wsgi set them), else from
    ``SCRIPT_NAME`` and ``PATH_INFO`` (already decoded: ``%2F`` cannot be told from ``/``).
    """
    script = str(environ.get("SCRIPT_NAME", ""))
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if isinstance(target, str) and target:
        path = target.partition("?")[0].partition("#")[0]
        if not path.startswith("/"):  # absolute form: http://host/path
            rest = path.partition("://")[2]
            path = "/" + rest.partition("/")[2] if rest else "/"
        try:
            return _with_root(path.encode("latin-1"), script)
        except UnicodeError:
            pass
    text = f"{script}{environ.get('PATH_INFO', '')}"
    if SAFE_PATH.match(text):
        return text.encode("ascii")
    try:
        raw = text.encode("latin-1")
    except UnicodeError:
        raw = text.encode("utf-8", "replace")
    return quote_from_bytes(raw, safe=PATH_SAFE).encode("ascii")


def _with_root(raw: bytes, root: str) -> bytes:
    """``raw`` with the mount prefix ``root`` in front, unless it starts with it already: by
    whole segments (``/app`` is no prefix of ``/apple``)."""
    if not root or root == "/":
        return raw
    prefix = quote(root.rstrip("/"), safe=PATH_SAFE).encode("ascii")
    if raw == prefix or raw.startswith(prefix + b"/"):
        return raw
    return prefix + raw


def environ_request(
    environ: Mapping[str, Any], *, path: str | None = None, scheme: str | None = None
) -> RequestData:
    """A :class:`RequestData` from a WSGI environ (or Django's ``request.META``).

    Its headers are a view of ``environ`` (:class:`~pirsch_middleware.headers.EnvironHeaders`),
    read when needed: a caller whose app may change the environ passes a copy (the WSGI adapter
    copies it as it arrives). ``path`` and ``scheme`` override what the environ says, for
    frameworks that already decoded them.
    """
    get = environ.get
    host = get("HTTP_HOST")
    if not host:
        host = str(get("SERVER_NAME", ""))
        port = str(get("SERVER_PORT", ""))
        if port and port not in ("80", "443"):
            host = f"{host}:{port}"
    return RequestData(
        str(get("REQUEST_METHOD", "GET")),
        scheme or str(get("wsgi.url_scheme", "http")),
        host,
        environ_path(environ) if path is None else path,
        str(get("QUERY_STRING", "")),
        get("REMOTE_ADDR") or None,
        EnvironHeaders(environ),
        environ_raw_path(environ),
    )


def asgi_path(scope: Mapping[str, Any]) -> str:
    """The full path of an ASGI request: ``root_path`` included exactly once.

    Servers disagree on whether ``path`` includes ``root_path`` (the spec says it does; older
    servers and apps mounted by hand do not).
    """
    path: str = scope.get("path") or "/"
    root = scope.get("root_path")
    if root and root != "/":
        root = root.rstrip("/")
        if not (path == root or path.startswith(root + "/")):
            path = root + path
    return path


def asgi_request(scope: Mapping[str, Any], path: str | None = None) -> RequestData:
    """A :class:`RequestData` from an ASGI HTTP scope (``path`` as :func:`asgi_path` gave it).

    Its headers are a view of the scope's (:class:`~pirsch_middleware.headers.ASGIHeaders`),
    decoded when read.
    """
    headers = ASGIHeaders.of(scope.get("headers") or ())
    value = headers.raw.get(b"host")
    if value:
        host = value.decode("latin-1")
    else:
        server = scope.get("server")
        if not server:
            host = ""
        elif server[1] in (None, 80, 443):
            host = str(server[0])
        else:
            host = f"{server[0]}:{server[1]}"
    client = scope.get("client")
    query = scope.get("query_string") or b""
    return RequestData(
        scope.get("method", "GET"),
        scope.get("scheme") or "http",
        host,
        asgi_path(scope) if path is None else path,
        query.decode("latin-1"),
        client[0] if client else None,
        headers,
        asgi_raw_path(scope),
    )


def asgi_raw_path(scope: Mapping[str, Any]) -> bytes | None:
    """The path of an ASGI request as the client sent it (``raw_path``), ``root_path`` included
    once; ``None`` when the server gives no ``raw_path`` (the spec allows it)."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes):
        return None
    root = scope.get("root_path")
    return _with_root(raw, root) if root else raw
