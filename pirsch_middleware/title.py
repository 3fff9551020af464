"""The page title, read from the start of an HTML response body."""

from __future__ import annotations

import html
import re
from functools import lru_cache

__all__ = ["TITLE_WINDOW", "charset_of", "find_title"]

#: How many bytes at the start of a body are searched; a title later than this is not read.
TITLE_WINDOW = 8192

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


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
    window = min(len(chunk), TITLE_WINDOW)
    # Searched in place (find with bounds copies nothing); lower-cased only when "<title" in
    # lower case is not there.
    head = chunk
    start = chunk.find(b"<title", 0, window)
    if start < 0:
        head = chunk[:window].lower()
        start = head.find(b"<title")
        if start < 0:
            return None
    # "<title>" or "<title lang=...>", but not "<titles>".
    after = head[start + 6 : start + 7]
    if after not in (b">", b" ", b"\t", b"\n", b"\r", b"/"):
        return None
    open_end = head.find(b">", start, window)
    if open_end < 0:
        return None
    end = head.find(b"</title", open_end, window)
    if end < 0:
        end = chunk[:window].lower().find(b"</title", open_end)
        if end < 0:
            return None
    # More bytes than any title Pirsch keeps (512 characters) are not worth decoding or caching.
    return _clean(chunk[open_end + 1 : min(end, open_end + 2049)], charset)


@lru_cache(maxsize=1024)
def _clean(raw: bytes, charset: str) -> str | None:
    """Decoded, unescaped and collapsed; cached, since a site serves its titles again and again."""
    try:
        text = raw.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        text = raw.decode("utf-8", "replace")
    title = " ".join(html.unescape(text).split())
    return title or None
