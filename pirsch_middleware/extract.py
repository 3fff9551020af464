"""Request to record: what is a page view, and the fields Pirsch needs from it.

The :class:`Extractor` holds the route rules (the method, and ``exclude_paths`` as
:class:`~pirsch_middleware.paths.ExcludedPaths` matches them), the response rules (status,
content type, the snippet's events a response stands for) and the records' assembly; it asks
:class:`~pirsch_middleware.header_rules.HeaderRules` what the headers say and
:class:`~pirsch_middleware.url.PageURL` for the page's URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from sys import intern
from typing import Any

from ._time import format_time
from .header_rules import MAX_HEADER, HeaderRules, shared
from .ip import IPResolver
from .pageview import DOWNLOAD_EVENT, NOT_FOUND_EVENT, RULES
from .paths import ExcludedPaths
from .records import MAX_TITLE, Event, Hit, Session
from .request import RequestData
from .settings import Settings
from .url import PageURL, referrer_of

__all__ = ["SKIP_REASONS", "Extractor"]

#: Why a request was not sent, as counted in ``Tracker.stats()["skipped"]``: the page-view rules
#: (:data:`~pirsch_middleware.pageview.RULES`, in the order they are judged), then ``invalid``
#: (an event() or keep_alive() with arguments the API would refuse, logged), ``disabled``
#: (enabled=False; returned, not counted), ``snippet`` (snippet="only": the snippet counts page
#: views; returned, not counted) and ``hybrid`` (a page view from the snippet in hybrid mode).
SKIP_REASONS = (*(rule.reason for rule in RULES), "invalid", "disabled", "snippet", "hybrid")

_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: A hit or event not built yet (see :meth:`Extractor.draft`): a plain tuple, the cheapest thing
#: Python makes.
Draft = tuple[Any, ...]
_EVENT_FIELDS = ("event_name", "event_duration", "event_meta", "non_interactive")
_NO_EXTRA: Mapping[str, Any] = {}


def _cap(value: str | None, limit: int = MAX_HEADER) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit]


class Extractor:
    """Turns :class:`RequestData` into page hits, events and sessions, or a reason to skip."""

    def __init__(self, settings: Settings) -> None:
        preset = settings.preset()
        self._ip = IPResolver(settings.proxy_networks(), preset, settings.proxy_only)
        #: Called with each record's address, peer and whether forwarding headers came (set by
        #: the Tracker: see :class:`~pirsch_middleware.address.AddressCheck`).
        self.check_address: Callable[[str, str | None, bool], None] | None = None
        # Called as self._header_rules.of(...), not through bound methods kept on self: CPython
        # 3.11 specialises a method found on the object's class, not one in its __dict__ (bound
        # methods kept here measured 15-35 ns more a call; this lookup about 2).
        self._header_rules = HeaderRules(settings, preset.header)
        self._page_url = PageURL(preset, self._ip)
        self._navigations_only = settings.navigations_only
        self._not_found_event = settings.not_found_event
        self._download_event = settings.download_event
        self._download_suffixes = tuple(f".{ext}" for ext in settings.download_extensions)
        #: Whether any response of a navigation that is no page view stands for an event.
        self.response_events = settings.not_found_event or settings.download_event
        self._should_track = settings.should_track
        self._disable_bot_filter = settings.disable_bot_filter
        self._excluded_paths = ExcludedPaths(settings.exclude_paths)
        #: Whether ``exclude_paths`` names a path (decoded, without the query).
        self.path_excluded = self._excluded_paths.match

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
        if self._excluded_paths.match(path):  # every request: see the note in __init__
            return "excluded_path"
        return None

    def header_skip(self, request: RequestData) -> str | None:
        """The part of :meth:`request_skip` that reads headers: prefetch, how the request was made
        (:class:`~pirsch_middleware.pageview.NavigationRules`), then the visitor rules."""
        reason = self._header_rules.of(request.headers).page
        if reason is None and self._should_track is not None and not self._should_track(request):
            return "should_track"
        return reason

    def visitor_skip(self, request: RequestData) -> str | None:
        """The checks that apply to events and sessions as well as page views."""
        reason = self._header_rules.of(request.headers).reason
        if reason is None and self._should_track is not None and not self._should_track(request):
            return "should_track"
        return reason

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
        visitor = self._header_rules.of(headers)
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
        *_, forwarded_for, _, _, own = self._header_rules.values(request.headers)
        ip = self._ip.resolve_values(request.peer, forwarded_for, own)
        if ip is None:
            return "no_ip"
        return Session(
            ip=ip,
            time=time,
            disable_bot_filter=self._disable_bot_filter,
            **self._header_rules.of(request.headers).session_fields,
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
        referer, proto, host, cf_ip, forwarded_for, forwarded, real_ip, own = (
            self._header_rules.values(headers)
        )
        ip = self._ip.resolve_values(request.peer, forwarded_for, own)
        if ip is None:
            return "no_ip"
        # Host and referrer repeat from request to request: one string each for a queue of
        # drafts, however many requests decoded them (see header_rules.shared).
        if referer is not None:
            referer = intern(referer if len(referer) <= 2048 else referer[:2048])
        return (
            cls, ip, time, self._header_rules.of(headers), request.scheme, intern(request.host),
            request.path if request.raw_path is None else request.raw_path, request.query,
            request.peer, referer, proto, host, cf_ip, forwarded_for, forwarded, real_ip, title,
            tags, screen_width, screen_height, extra,
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
        url = self._page_url.url(
            scheme, host, path, query, peer, proto, forwarded_host, x_forwarded_for
        )
        if url is None:
            return "bad_host"
        if self.check_address is not None:
            forwarding = x_forwarded_for or forwarded or x_real_ip or cf_connecting_ip
            self.check_address(ip, peer, bool(forwarding))
        referrer = shared(referrer_of(query, referer), 2048)
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


def _download(headers: Mapping[str, str]) -> bool:
    """Whether a request is a link with the ``download`` attribute: Chromium navigates to no
    document (``Sec-Fetch-Mode: navigate``, ``Sec-Fetch-Dest: empty``; the Fetch standard's
    download request has the empty destination)."""
    mode = (headers.get("sec-fetch-mode") or "").strip().lower()
    return mode == "navigate" and (headers.get("sec-fetch-dest") or "").strip().lower() == "empty"
