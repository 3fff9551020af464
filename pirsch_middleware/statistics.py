"""Every statistics endpoint, declared once and served by the sync and the async client.

``PirschClient().visitors(filter)`` returns ``list[VisitorStats]``;
``await AsyncPirschClient().visitors(filter)`` the same. An :class:`Endpoint` is a descriptor:
read from a client it is that client's method for the endpoint, typed for sync or async.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import httpx

from . import results as r
from .errors import PirschError
from .filter import Filter

if TYPE_CHECKING:
    from .async_client import AsyncPirschClient
    from .client import PirschClient

__all__ = ["DOMAINS", "ENDPOINTS", "FUNNELS", "Endpoint", "StatisticsAPI"]

_T = TypeVar("_T")
_R = TypeVar("_R", bound=r.Result)


def many(cls: type[_R]) -> Callable[[Any], list[_R]]:
    """A parser for a JSON array of ``cls`` (``null`` reads as empty)."""

    def parse(data: Any) -> list[_R]:
        if data is None:
            return []
        if not isinstance(data, list):
            raise PirschError(f"expected a JSON array of {cls.__name__}, got {type(data).__name__}")
        return [cls.from_json(item) for item in data]

    return parse


def one(cls: type[_R]) -> Callable[[Any], _R]:
    """A parser for one JSON object of ``cls``."""
    return cls.from_json


class Endpoint(Generic[_T]):
    """One statistics endpoint: its path, how to read its answer, what it sends.

    ``query`` is ``"filter"`` (the whole filter; ``needs`` names fields it requires beyond the
    domain and the dates), ``"id"`` (only the domain id: the filter does not apply) or
    ``"none"``.
    """

    def __init__(
        self,
        path: str,
        parse: Callable[[Any], _T],
        summary: str,
        needs: tuple[str, ...] = (),
        query: Literal["filter", "id", "none"] = "filter",
    ) -> None:
        self.path = path
        self.parse = parse
        self.summary = summary
        self.needs = needs
        self.query = query
        self.name = path.rsplit("/", 1)[-1]

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        ENDPOINTS[name] = self

    def __repr__(self) -> str:
        return f"Endpoint({self.name!r}, GET {self.path})"

    def params(self, arg: Filter | str | None) -> list[tuple[str, str]]:
        """The query of a call, checked before anything is sent."""
        if self.query == "none":
            return []
        if self.query == "id" and isinstance(arg, str):
            if not arg.strip():
                raise ValueError(f"{self.name}: expected a domain id, got {arg!r}")
            return [("id", arg)]
        if not isinstance(arg, Filter):
            raise TypeError(f"{self.name}: expected a pirsch_middleware.Filter, got {arg!r}")
        if self.query == "id":
            return [("id", arg.domain_id)]
        missing = [name for name in self.needs if not getattr(arg, name)]
        if missing:
            raise ValueError(
                f"{self.name} ({self.path}) needs the filter's {' and '.join(missing)}"
            )
        return arg.params()

    def read(self, response: httpx.Response) -> _T:
        """The typed result of an answer."""
        try:
            data = response.json()
        except ValueError:
            raise PirschError(f"GET {self.path}: the answer is not JSON") from None
        return self.parse(data)

    @overload
    def __get__(self, client: None, owner: type) -> Endpoint[_T]: ...
    @overload
    def __get__(self, client: PirschClient, owner: type) -> Callable[[Filter], _T]: ...
    @overload
    def __get__(
        self, client: AsyncPirschClient, owner: type
    ) -> Callable[[Filter], Awaitable[_T]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        return functools.partial(client._statistics, self)


#: Every endpoint by method name, for the command line and the docs.
ENDPOINTS: dict[str, Endpoint[Any]] = {}

_S = "/api/v1/statistics/"


class StatisticsAPI:
    """The statistics endpoints: each takes a :class:`Filter` (and needs an OAuth client)."""

    # The API document
    session_duration = Endpoint(
        _S + "duration/session", many(r.TimeSpentStats), "average session duration per day"
    )
    time_on_page = Endpoint(_S + "duration/page", many(r.TimeSpentStats), "time on page per day")
    utm_source = Endpoint(_S + "utm/source", many(r.UTMSourceStats), "visitors by UTM source")
    utm_medium = Endpoint(_S + "utm/medium", many(r.UTMMediumStats), "visitors by UTM medium")
    utm_campaign = Endpoint(
        _S + "utm/campaign", many(r.UTMCampaignStats), "visitors by UTM campaign"
    )
    utm_content = Endpoint(_S + "utm/content", many(r.UTMContentStats), "visitors by UTM content")
    utm_term = Endpoint(_S + "utm/term", many(r.UTMTermStats), "visitors by UTM term")
    visitors = Endpoint(_S + "visitor", many(r.VisitorStats), "visitors, views, sessions per day")
    pages = Endpoint(_S + "page", many(r.PageStats), "pages")
    entry_pages = Endpoint(_S + "page/entry", many(r.EntryStats), "entry pages")
    exit_pages = Endpoint(_S + "page/exit", many(r.ExitStats), "exit pages")
    conversion_goals = Endpoint(
        _S + "goals", many(r.ConversionGoalStats), "conversion goals and their statistics"
    )
    # Not "events": that name sends events (the ingestion endpoint).
    event_stats = Endpoint(_S + "events", many(r.EventStats), "events and their metadata keys")
    event_metadata = Endpoint(
        _S + "event/meta",
        many(r.EventStats),
        "one event broken down by the values of one metadata key",
        needs=("event", "event_meta_key"),
    )
    growth = Endpoint(_S + "growth", one(r.Growth), "growth against the previous period")
    active_visitors = Endpoint(
        _S + "active", one(r.ActiveVisitors), "active visitors (filter.start: past seconds)"
    )
    visitors_by_hour = Endpoint(_S + "hours", many(r.VisitorHourStats), "visitors by hour of day")
    languages = Endpoint(_S + "language", many(r.LanguageStats), "visitors by language")
    referrers = Endpoint(_S + "referrer", many(r.ReferrerStats), "referrers")
    os = Endpoint(_S + "os", many(r.OSStats), "visitors by operating system")
    os_versions = Endpoint(
        _S + "os/version", many(r.OSVersionStats), "visitors by operating system version"
    )
    browsers = Endpoint(_S + "browser", many(r.BrowserStats), "visitors by browser")
    browser_versions = Endpoint(
        _S + "browser/version", many(r.BrowserVersionStats), "visitors by browser version"
    )
    countries = Endpoint(_S + "country", many(r.CountryStats), "visitors by country")
    cities = Endpoint(_S + "city", many(r.CityStats), "visitors by city")
    platforms = Endpoint(_S + "platform", one(r.PlatformStats), "desktop, mobile and unknown")
    screen_classes = Endpoint(_S + "screen", many(r.ScreenClassStats), "visitors by screen class")
    keywords = Endpoint(
        _S + "keywords", many(r.Keyword), "Google Search Console keywords (needs the integration)"
    )

    # Newer endpoints (pirsch-facts.md)
    total = Endpoint(_S + "total", one(r.TotalVisitorStats), "totals for the period")
    regions = Endpoint(_S + "region", many(r.RegionStats), "visitors by region")
    tags = Endpoint(_S + "tags", many(r.TagStats), "page tag keys")
    tag_details = Endpoint(
        _S + "tag/details", many(r.TagStats), "the values of one tag", needs=("tag",)
    )
    event_list = Endpoint(
        _S + "event/list", many(r.EventListStats), "events with their metadata (expensive)"
    )
    event_pages = Endpoint(
        _S + "event/page", many(r.PageStats), "the pages an event happened on", needs=("event",)
    )
    funnel = Endpoint(_S + "funnel", one(r.FunnelStats), "one funnel's steps", needs=("funnel_id",))
    hostnames = Endpoint(_S + "hostname", many(r.TrafficStats), "visitors by hostname")
    channels = Endpoint(_S + "channel", many(r.TrafficStats), "visitors by channel")
    visitors_by_minute = Endpoint(
        _S + "minutes", many(r.VisitorMinuteStats), "visitors by minute (from_time/to_time)"
    )
    visitors_by_weekday = Endpoint(
        _S + "weekdays", many(r.WeekdayStats), "visitors by weekday and hour"
    )
    overview = Endpoint(
        _S + "overview", one(r.Overview), "visitors and views of the last 30 days", query="id"
    )
    session_list = Endpoint(_S + "session/list", many(r.VisitorSession), "sessions")
    session_details = Endpoint(
        _S + "session/details",
        many(r.SessionStep),
        "the page views and events of one session",
        needs=("visitor_id", "session_id"),
    )


#: The client's domains (no filter).
DOMAINS = Endpoint("/api/v1/domain", many(r.Domain), "the client's domains", query="none")
#: The funnels defined for a domain (only the domain id is sent).
FUNNELS = Endpoint("/api/v1/funnel", many(r.Funnel), "the domain's funnels", query="id")
