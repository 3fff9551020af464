"""What a page view is: every rule in the order it is judged, and the rules on the request's kind.

The reference is Pirsch's own JavaScript snippet: one page view per document load and per history
navigation (``pushState``), nothing else. A browser marks how a request was made with Fetch
Metadata (https://www.w3.org/TR/fetch-metadata/), which page scripts cannot set; htmx, Turbo and
Unpoly mark their requests with headers of their own.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CLIENT_HINTS",
    "DEFAULT_DOWNLOAD_EXTENSIONS",
    "DEFAULT_PARTIAL_HEADERS",
    "DOWNLOAD_EVENT",
    "MAX_CACHED_KEY",
    "NOT_FOUND_EVENT",
    "RULES",
    "NavigationRules",
    "Rule",
    "merge_accept_ch",
    "rule_text",
    "rules_markdown",
]


class Rule(NamedTuple):
    """One reason a request is no page view: what it reads, whether it is on by default, the
    setting that turns it off, and why."""

    reason: str
    reads: str
    default: str
    setting: str
    why: str


#: Every page-view rule, in the order the middleware judges it (cheapest first); a skip is
#: counted under its reason in ``Tracker.stats().skipped``. The README's table is made of this.
RULES: tuple[Rule, ...] = (
    Rule("method", "the method", "on", "-", "only a `GET` loads a page"),
    Rule("excluded_path", "the path", "on", "exclude_paths", "assets and well-known files"),
    Rule(
        "status",
        "the status",
        "on",
        "-",
        "redirects and errors show no page; a `304` to a navigation is a revalidated reload "
        "and counts",
    ),
    Rule(
        "content_type",
        "`Content-Type`",
        "on",
        "-",
        "only `text/html` and `application/xhtml+xml` are pages",
    ),
    Rule(
        "prefetch",
        "`X-Moz`, `X-Purpose`, `Purpose`, `Sec-Purpose`, `X-Sec-Purpose`",
        "on",
        "-",
        "a prefetch or preview nobody may see (Turbo 8 sends `X-Sec-Purpose` from JavaScript)",
    ),
    Rule(
        "not_browser",
        "`Sec-Fetch-*`, `Upgrade-Insecure-Requests`, `Referer`, `Accept-Language`, "
        "`Accept-Encoding`",
        "on",
        "exclude_bots",
        "every browser sends `Accept-Language` and `Accept-Encoding` and no impossible Fetch "
        "Metadata: the Pirsch server's header rules, which it cannot run on a JSON hit",
    ),
    Rule(
        "frame",
        "`Sec-Fetch-Mode`, `Sec-Fetch-Dest`",
        "on",
        "track_frames",
        "a document loaded in an `iframe` is part of another page",
    ),
    Rule(
        "partial",
        "`partial_headers`, `HX-Boosted`, `HX-History-Restore-Request`, `X-Turbo-Request-Id`",
        "on",
        "partial_headers",
        "an htmx, Turbo frame, Unpoly or XHR request updates part of a page; htmx boosted "
        "requests, htmx history restores and Turbo Drive visits navigate and count",
    ),
    Rule(
        "not_navigation",
        "`Sec-Fetch-Mode`, `Sec-Fetch-Dest`, `Accept`",
        "on",
        "navigations_only",
        "a `fetch()`, XHR or subresource is no document load; without Fetch Metadata "
        "(older Safari and Firefox) a navigation is told by `text/html` in its `Accept`",
    ),
    Rule("dnt", "`DNT`, `Sec-GPC`", "on", "respect_dnt", "the visitor asked not to be tracked"),
    Rule("no_user_agent", "`User-Agent`", "on", "-", "the API answers 400 without one"),
    Rule(
        "bad_user_agent",
        "`User-Agent`",
        "on",
        "exclude_bots",
        "16 characters or fewer, over 500, not ASCII, an IP or a UUID, or a browser older "
        "than Chrome 70, Firefox 68, Safari 12, Opera 65, Edge 88, IE 11 (the Pirsch server's "
        "rules)",
    ),
    Rule(
        "bot",
        "`User-Agent`",
        "on",
        "exclude_bots",
        "a crawler, link previewer, HTTP library, health check or uptime monitor",
    ),
    Rule("should_track", "your rule", "off", "should_track", "your own rule said no"),
    Rule("no_ip", "the peer, the `proxy` header", "on", "-", "no visitor address to send"),
    Rule("bad_host", "`Host`", "on", "-", "a host that cannot be part of a URL"),
    Rule("before_send", "the record", "off", "before_send", "your hook dropped it"),
    Rule(
        "view",
        "the view",
        "on",
        "-",
        "the view called `skip_page_view()` or is decorated with `@exempt`",
    ),
)

#: Headers by which a library marks a request that updates part of a page: htmx
#: (https://htmx.org/reference/#request_headers), Turbo frames
#: (https://turbo.hotwired.dev/handbook/frames), Unpoly (https://unpoly.com/up.protocol: its
#: navigations and fragment updates send the same headers, so neither counts) and XHR.
DEFAULT_PARTIAL_HEADERS: tuple[str, ...] = (
    "HX-Request",
    "Turbo-Frame",
    "X-Up-Version",
    "X-Up-Target",
    "X-Requested-With",
)

#: The snippet's events for what a server sees better than a page script (pirsch-extended.js of
#: pirsch-analytics/pirsch-php-proxy): their names, and the extensions it takes for downloads.
NOT_FOUND_EVENT = "404 Page Not Found"
DOWNLOAD_EVENT = "File Download"
DEFAULT_DOWNLOAD_EXTENSIONS: tuple[str, ...] = (
    "7z", "avi", "csv", "docx", "exe", "gz", "key", "midi", "mov", "mp3", "mp4", "mpeg", "pdf",
    "pkg", "pps", "ppt", "pptx", "rar", "rtf", "txt", "wav", "wma", "wmv", "xlsx", "zip",
)  # fmt: skip

#: What ``Accept-CH`` asks for: the client hints a hit carries (the Pirsch Go demo's value).
CLIENT_HINTS = (
    "Sec-CH-UA, Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version, "
    "Sec-CH-Width, Sec-CH-Viewport-Width"
)

_HTML_ACCEPT = ("text/html", "application/xhtml+xml")
_FRAMES = ("iframe", "frame")
#: The most characters the header values of one cached verdict may hold (a browser's are a few
#: hundred); longer ones are judged each time, not remembered.
MAX_CACHED_KEY = 4096


def rule_text(reason: str) -> str:
    """A skip reason in words, from :data:`RULES` (with the setting that turns it off)."""
    if reason == "disabled":
        return "the enabled setting is False"
    if reason == "snippet":
        return "the snippet counts page views, the middleware none (setting: snippet='only')"
    if reason == "hybrid":
        return "the middleware counted this page: not the snippet too (setting: snippet='hybrid')"
    for rule in RULES:
        if rule.reason == reason:
            why = rule.why.replace("`", "")
            return f"{why} (setting: {rule.setting})" if rule.setting != "-" else why
    return f"see SKIP_REASONS for {reason!r}"


def rules_markdown() -> str:
    """:data:`RULES` as the README's Markdown table."""
    lines = [
        "| reason | reads | default | turned off by | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in RULES:
        setting = f"[`{r.setting}`](#{r.setting})" if r.setting != "-" else "-"
        lines.append(f"| `{r.reason}` | {r.reads} | {r.default} | {setting} | {r.why} |")
    return "\n".join(lines)


def merge_accept_ch(existing: str | None) -> str:
    """The ``Accept-CH`` value asking for :data:`CLIENT_HINTS`, added to an ``existing`` one
    (RFC 8942) without repeating a hint it names."""
    if not existing or not existing.strip():
        return CLIENT_HINTS
    have = {token.strip().lower() for token in existing.split(",")}
    missing = [h for h in CLIENT_HINTS.split(", ") if h.lower() not in have]
    return ", ".join([existing.strip(), *missing]) if missing else existing


class NavigationRules:
    """The rules on how a request was made: ``not_browser``, ``frame``, ``partial`` and
    ``not_navigation`` of :data:`RULES`, judged by :meth:`judge` (the extractor caches the
    verdict together with the visitor's, keyed by the values of both)."""

    #: The headers whose values the rules read (in :meth:`judge`'s order); for ``Referer``,
    #: ``Accept-Language``, ``Accept-Encoding``, ``X-Turbo-Request-Id`` and the partial headers
    #: only whether they are present matters.
    HEADERS = (
        "sec-fetch-mode",
        "sec-fetch-dest",
        "sec-fetch-site",
        "upgrade-insecure-requests",
        "accept",
        "hx-boosted",
        "hx-history-restore-request",
    )

    def __init__(
        self,
        partial_headers: tuple[str, ...],
        *,
        navigations_only: bool = True,
        track_frames: bool = False,
        check_browser: bool = True,
    ) -> None:
        self.partial = frozenset(name.lower() for name in partial_headers)
        self._navigations_only = navigations_only
        self._track_frames = track_frames
        self._check_browser = check_browser

    def judge(
        self,
        mode: str | None,
        dest: str | None,
        site: str | None,
        upgrade: str | None,
        accept: str | None,
        boosted: str | None,
        restore: str | None,
        referer: bool,
        language: bool,
        encoding: bool,
        turbo: bool,
        partial: bool,
    ) -> str | None:
        """Why a request is no page view by how it was made, or ``None``: the values of
        :attr:`HEADERS`, then whether ``Referer``, ``Accept-Language``, ``Accept-Encoding``,
        ``X-Turbo-Request-Id`` and a header of :attr:`partial` came. An empty one is missing, as
        for the Pirsch server (Go's ``Header.Get(name) == ""``), but for the last two."""
        mode = mode and mode.strip().lower()
        dest = dest and dest.strip().lower()
        if self._check_browser and (
            not language
            or not encoding
            # Combinations no browser sends (pkg/ingest/header/bot_filter.go of the Pirsch server).
            or (referer and (site or "").strip().lower() == "none")
            or ((upgrade or "").strip() == "1" and (mode == "cors" or dest == "empty"))
        ):
            return "not_browser"
        if not self._navigations_only:
            return None
        if mode == "navigate":
            if dest is None or dest == "document":
                return None
            if dest in _FRAMES:
                return None if self._track_frames else "frame"
            return "not_navigation"  # an <object> or <embed> document
        history = (
            (boosted or "").strip().lower() == "true"
            or (restore or "").strip().lower() == "true"
            or (turbo and not partial)  # Turbo Drive: a Turbo fetch for no frame
        )
        if history:
            return None
        if partial:
            return "partial"
        if mode is None and accept and any(t in accept.lower() for t in _HTML_ACCEPT):
            return None  # no Fetch Metadata: an older browser's navigation asks for HTML
        return "not_navigation"
