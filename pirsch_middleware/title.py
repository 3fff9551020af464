"""The page title, read from the start of an HTML response body."""

from __future__ import annotations

import html
import re
from functools import lru_cache

__all__ = ["TITLE_WINDOW", "charset_of", "find_title"]

#: How many bytes at the start of a body are searched; a title later than this is not read.
TITLE_WINDOW = 8192

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# The first "<title" in any case: the whole opening tag when a blank, "/" or ">" follows it
# ("<title>", "<title lang=en>", not "<titles>"), else only "<title"; then its closing tag.
_OPEN = re.compile(rb"<title(?:>|[ \t\n\r/][^>]*>)?", re.IGNORECASE)
_CLOSE = re.compile(rb"</title", re.IGNORECASE)


@lru_cache(maxsize=256)
def charset_of(content_type: str | None) -> str:
    """The charset a Content-Type names, UTF-8 when it names none."""
    if content_type and "charset" in content_type.lower():
        found = _CHARSET.search(content_type)
        if found:
            return found.group(1)
    return "utf-8"


def find_title(chunk: bytes, charset: str = "utf-8") -> str | None:
    """The text of the first ``<title>`` in the first :data:`TITLE_WINDOW` bytes, or ``None``.

    Entities are decoded and whitespace collapsed. A title that is not closed inside the window is
    not guessed at.
    """
    # Two case-insensitive searches bounded by the window: no copy of the body, no lower-casing.
    opened = _OPEN.search(chunk, 0, TITLE_WINDOW)
    if opened is None:
        return None
    start = opened.end()
    if start - opened.start() == 6:  # "<titles>", or no ">" in the window
        return None
    closed = _CLOSE.search(chunk, start, TITLE_WINDOW)
    if closed is None:
        return None
    # More bytes than any title Pirsch keeps (512 characters) are not worth decoding or caching.
    return _clean(chunk[start : min(closed.start(), start + 2048)], charset)


@lru_cache(maxsize=1024)
def _clean(raw: bytes, charset: str) -> str | None:
    """Decoded, unescaped and collapsed; cached, since a site serves its titles again and again."""
    try:
        text = raw.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        text = raw.decode("utf-8", "replace")
    title = " ".join(html.unescape(text).split())
    return title or None
