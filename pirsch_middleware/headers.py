"""A request's headers as the server holds them: read-only views that decode a value when it is
read, and the raw keys by which the core reads them at C speed.

An ASGI server hands over a list of byte pairs, a WSGI server (and Django's ``request.META``) an
environ of ``HTTP_*`` keys. Decoding every header of every request into a new ``dict`` cost more
than the rules that read them: the views keep the server's structure (one ``dict()`` of the ASGI
list, the environ as it is) and the extractor looks its rule headers up in it by their raw keys
(:func:`asgi_key`, :func:`environ_key`), decoding only what a new verdict or a record needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["ASGIHeaders", "EnvironHeaders", "HeaderView", "asgi_key", "environ_key"]

# Shown by a view's repr: what the core reads. Other headers (Cookie, Authorization) may hold
# secrets, which never appear in a repr.
_SHOWN = frozenset(
    {
        "host", "user-agent", "accept", "accept-language", "accept-encoding", "referer", "dnt",
        "sec-gpc", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-site", "sec-purpose",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-real-ip",
    }
)  # fmt: skip


def asgi_key(name: str) -> bytes:
    """The raw key of header ``name`` (lower case) in an ASGI header dict."""
    return name.encode("latin-1")


def environ_key(name: str) -> str:
    """The key of header ``name`` (lower case) in a WSGI environ (PEP 3333, CGI's rule)."""
    return "HTTP_" + name.upper().replace("-", "_")


class HeaderView(Mapping[str, str]):
    """A request's headers, names in lower case, repeated headers joined with ``", "``, values
    decoded only when read. ``raw`` is the server's own structure, for the extractor; ``verdict``
    holds what the extractor judged of these headers (their request's two reads share it)."""

    __slots__ = ("raw", "verdict")

    def __init__(self, raw: Mapping[Any, Any]) -> None:
        self.raw = raw
        self.verdict: tuple[object, object] | None = None

    def __repr__(self) -> str:
        shown = {name: value if name in _SHOWN else "..." for name, value in self.items()}
        return f"{type(self).__name__}({shown!r})"

    # Each form answers get(); the rest of the mapping reads through it.
    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


class ASGIHeaders(HeaderView):
    """The headers of an ASGI scope over ``dict(scope["headers"])``: bytes names to bytes
    values, decoded as latin-1 when read (the ASGI spec's encoding)."""

    __slots__ = ()
    raw: Mapping[bytes, bytes]

    @classmethod
    def of(cls, pairs: Iterable[Any]) -> ASGIHeaders:
        """The view of an ASGI ``headers`` list. One C call builds the dict, another checks its
        names against those seen in lower case before (the ASGI spec asks servers for lower-case
        names but does not require them); a list with a repeated name or an upper-case one takes
        the slow way, which joins the repeats and lowers the names."""
        if not isinstance(pairs, list | tuple):
            pairs = list(pairs)
        raw: dict[bytes, bytes] = dict(pairs)
        if len(raw) != len(pairs) or not _LOWER.issuperset(raw):
            raw = _checked(raw, pairs)
        return cls(raw)

    def get(self, name: object, default: Any = None) -> Any:
        if not isinstance(name, str):
            return default
        try:
            value = self.raw.get(name.encode("latin-1"))
        except UnicodeError:  # no header name
            return default
        return default if value is None else value.decode("latin-1")

    def __iter__(self) -> Iterator[str]:
        return (name.decode("latin-1") for name in self.raw)

    def __len__(self) -> int:
        return len(self.raw)


# Header names seen in lower case: a server's requests carry the same few dozen. Bounded: a
# client sending new names each time only starts it again.
_LOWER: set[bytes] = set()
_MAX_NAMES = 1024


def _checked(raw: dict[bytes, bytes], pairs: list[Any] | tuple[Any, ...]) -> dict[bytes, bytes]:
    """``raw`` when its names are in lower case and none repeats (and they are remembered), else
    the pairs lowered and joined."""
    try:
        usual = len(raw) == len(pairs) and b"".join(raw).islower()
    except TypeError:  # a name that is no bytes
        usual = False
    if not usual:
        return _lowered(pairs)
    if len(_LOWER) + len(raw) > _MAX_NAMES:
        _LOWER.clear()
    _LOWER.update(raw)
    return raw


def _lowered(pairs: Iterable[Any]) -> dict[bytes, bytes]:
    """ASGI header pairs as a dict: names lowered, repeated headers joined with ``", "``, pairs
    that are not bytes left out."""
    raw: dict[bytes, bytes] = {}
    for name, value in pairs:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            continue
        key = name.lower()
        raw[key] = raw[key] + b", " + value if key in raw else value
    return raw


class EnvironHeaders(HeaderView):
    """The headers of a WSGI environ (or Django's ``request.META``): its ``HTTP_*`` keys with
    text values (PEP 3333 decodes them as latin-1). A name reads ``HTTP_`` and the name in upper
    case with ``_`` for ``-``; iteration gives the names back the other way, so a name with ``_``
    or in upper case is none of them."""

    __slots__ = ()

    def get(self, name: object, default: Any = None) -> Any:
        if not isinstance(name, str) or "_" in name or name != name.lower():
            return default
        value = self.raw.get(environ_key(name))
        return value if isinstance(value, str) else default

    def __iter__(self) -> Iterator[str]:
        return (
            key[5:].lower().replace("_", "-")
            for key, value in self.raw.items()
            if key.startswith("HTTP_") and isinstance(value, str)
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)
