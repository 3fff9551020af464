""" "Would this request be tracked, and if not, by which rule?": one call, the real rules."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .pageview import rule_text
from .request import RequestData, join_headers

if TYPE_CHECKING:
    from .extract import Extractor
    from .records import Hit

__all__ = ["Verdict", "explain", "request_from_url"]


@dataclass(frozen=True)
class Verdict:
    """What :meth:`Tracker.explain <pirsch_middleware.Tracker.explain>` found.

    ``tracked``: a page view would be queued; ``reason``: otherwise the skip reason (a name in
    ``SKIP_REASONS``); ``rule``: that reason in words; ``hit``: the page hit that would be sent.
    """

    tracked: bool
    reason: str | None = None
    rule: str = ""
    hit: Hit | None = None

    def __str__(self) -> str:
        if self.hit is not None:
            return f"tracked: a page view of {self.hit.url} from {self.hit.ip}"
        return f"not tracked ({self.reason}): {self.rule}"


def explain(
    extractor: Extractor,
    enabled: bool,
    request: RequestData,
    status: int,
    content_type: str | None,
    *,
    snippet_only: bool = False,
) -> Verdict:
    """The verdict of the rules on ``request``, in the adapters' order: method and path, then
    the response, then the headers, then the record (visitor address, host). With
    ``snippet_only`` (setting ``snippet="only"``) the snippet counts page views, not the
    middleware."""
    if not enabled:
        reason: str | None = "disabled"
    elif snippet_only:
        reason = "snippet"
    else:
        reason = extractor.route_skip(request.method, request.path)
    reason = (
        reason or extractor.response_skip(status, content_type) or extractor.header_skip(request)
    )
    if reason is None:
        built = extractor.hit(request, time.time())
        if isinstance(built, str):
            reason = built
        else:
            return Verdict(True, hit=built)
    return Verdict(False, reason, rule_text(reason))


def request_from_url(
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    method: str = "GET",
    peer: str | None = "203.0.113.7",
) -> RequestData:
    """A :class:`RequestData` for ``url`` as a client at ``peer`` would send it (for
    :meth:`Tracker.explain` from a shell or a test). ``headers`` are (name, value) pairs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url: expected an http(s) URL such as 'http://localhost/', got {url!r}")
    return RequestData(
        method=method.upper(),
        scheme=parts.scheme,
        host=parts.netloc,
        path=unquote(parts.path) or "/",
        query=parts.query,
        peer=peer,
        headers=join_headers(headers),
    )
