"""Typed statistics results: one dataclass per answer shape, fields named as the API names them.

Every field has a default, so a field the API leaves out reads as zero, empty or ``None``; a
field this version does not know lands in ``extra``, so a newer API does not break the client.
Times become aware ``datetime`` objects, dates ``date`` objects.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, Union

from ._time import parse_time
from .errors import PirschError

_T = TypeVar("_T", bound="Result")


@dataclass(kw_only=True)
class Result:
    """Base of every result: ``extra`` holds the fields this version does not know."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls: type[_T], data: Any) -> _T:
        """Build from one decoded JSON object; ``PirschError`` when it is not an object."""
        if not isinstance(data, dict):
            got = type(data).__name__
            raise PirschError(f"expected a JSON object for {cls.__name__}, got {got}")
        hints = _hints(cls)
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            hint = hints.get(key)
            if hint is None or key == "extra":
                extra[key] = value
                continue
            try:
                known[key] = _convert(hint, value)
            except (TypeError, ValueError):
                extra[key] = value  # a value of an unexpected form is kept, not fatal
        return cls(**known, extra=extra)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        names = {f.name for f in dataclasses.fields(cls)}
        hints = {k: v for k, v in typing.get_type_hints(cls).items() if k in names}
        _HINTS[cls] = hints
    return hints


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value)
    if origin is list:
        (item,) = typing.get_args(hint)
        if value is None:
            return []
        if not isinstance(value, list):
            raise TypeError("not a list")
        return [_convert(item, v) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError("not an object")
        if typing.get_args(hint)[1] is str:
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return dict(value)
    if isinstance(hint, type) and issubclass(hint, Result):
        return hint.from_json(value)
    if hint is datetime:
        return parse_time(value)
    if hint is date:
        return parse_time(value).date() if "T" in value else date.fromisoformat(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError("not a boolean")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("not a number")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("not a number")
        return int(value)
    if hint is str:
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # ids the API sometimes writes as numbers
        if not isinstance(value, str):
            raise TypeError("not a string")
        return value
    return value


# The domain


@dataclass(kw_only=True)
class Domain(Result):
    id: str = ""
    def_time: datetime | None = None
    mod_time: datetime | None = None
    user_id: str = ""
    organization_id: str = ""
    hostname: str = ""
    subdomain: str = ""
    identification_code: str = ""
    public: bool = False
    google_user_id: str | None = None
    google_user_email: str | None = None
    gsc_domain: str | None = None
    new_owner: int | None = None
    timezone: str | None = None
    user_role: str = ""


# Time periods: "day" for the default scale, "week", "month" or "year" for the others.


@dataclass(kw_only=True)
class Period(Result):
    day: datetime | None = None
    week: datetime | None = None
    month: datetime | None = None
    year: datetime | None = None


@dataclass(kw_only=True)
class TimeSpentStats(Period):
    path: str = ""
    title: str = ""
    average_time_spent_seconds: int = 0


@dataclass(kw_only=True)
class VisitorStats(Period):
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    bounce_rate: float = 0.0
    cr: float = 0.0
    custom_metric_avg: float = 0.0
    custom_metric_total: float = 0.0


@dataclass(kw_only=True)
class TotalVisitorStats(Result):
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    bounce_rate: float = 0.0
    cr: float = 0.0
    custom_metric_avg: float = 0.0
    custom_metric_total: float = 0.0


@dataclass(kw_only=True)
class VisitorHourStats(Result):
    hour: int = 0
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    bounce_rate: float = 0.0
    cr: float = 0.0


@dataclass(kw_only=True)
class VisitorMinuteStats(Result):
    minute: int = 0
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    bounce_rate: float = 0.0
    cr: float = 0.0


@dataclass(kw_only=True)
class WeekdayStats(Result):
    weekday: int = 0
    hour: int = 0
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    bounce_rate: float = 0.0


# Pages


@dataclass(kw_only=True)
class PageStats(Result):
    path: str = ""
    title: str = ""
    visitors: int = 0
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    relative_visitors: float = 0.0
    relative_views: float = 0.0
    bounce_rate: float = 0.0
    average_time_spent_seconds: int = 0


@dataclass(kw_only=True)
class EntryStats(Result):
    path: str = ""
    entry_path: str = ""
    title: str = ""
    visitors: int = 0
    sessions: int = 0
    entries: int = 0
    entry_rate: float = 0.0
    average_time_spent_seconds: int = 0


@dataclass(kw_only=True)
class ExitStats(Result):
    path: str = ""
    exit_path: str = ""
    title: str = ""
    visitors: int = 0
    sessions: int = 0
    exits: int = 0
    exit_rate: float = 0.0


@dataclass(kw_only=True)
class ActiveVisitorStats(Result):
    path: str = ""
    title: str = ""
    visitors: int = 0


@dataclass(kw_only=True)
class ActiveVisitors(Result):
    stats: list[ActiveVisitorStats] = field(default_factory=list)
    visitors: int = 0
    countries: list[CountryStats] = field(default_factory=list)


@dataclass(kw_only=True)
class Growth(Result):
    visitors_growth: float = 0.0
    views_growth: float = 0.0
    sessions_growth: float = 0.0
    bounces_growth: float = 0.0
    time_spent_growth: float = 0.0
    cr_growth: float = 0.0
    custom_metric_avg_growth: float = 0.0
    custom_metric_total_growth: float = 0.0


# Conversion goals and events


@dataclass(kw_only=True)
class ConversionGoal(Result):
    id: str = ""
    def_time: datetime | None = None
    mod_time: datetime | None = None
    domain_id: str = ""
    name: str = ""
    path_pattern: str = ""
    pattern: str = ""
    visitor_goal: int | None = None
    cr_goal: float | None = None
    delete_reached: bool = False
    email_reached: bool = False


@dataclass(kw_only=True)
class PageConversions(Result):
    visitors: int = 0
    views: int = 0
    cr: float = 0.0


@dataclass(kw_only=True)
class ConversionGoalStats(Result):
    page_goal: ConversionGoal | None = None
    stats: PageConversions | None = None


@dataclass(kw_only=True)
class EventStats(Result):
    name: str = ""
    visitors: int = 0
    views: int = 0
    cr: float = 0.0
    average_duration_seconds: int = 0
    meta_keys: list[str] = field(default_factory=list)
    meta_value: str = ""


@dataclass(kw_only=True)
class EventListStats(Result):
    name: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    visitors: int = 0
    count: int = 0


# Breakdowns by one dimension: visitors and their share, plus the dimension's own field.


@dataclass(kw_only=True)
class MetaStats(Result):
    visitors: int = 0
    relative_visitors: float = 0.0


@dataclass(kw_only=True)
class UTMSourceStats(MetaStats):
    utm_source: str = ""


@dataclass(kw_only=True)
class UTMMediumStats(MetaStats):
    utm_medium: str = ""


@dataclass(kw_only=True)
class UTMCampaignStats(MetaStats):
    utm_campaign: str = ""


@dataclass(kw_only=True)
class UTMContentStats(MetaStats):
    utm_content: str = ""


@dataclass(kw_only=True)
class UTMTermStats(MetaStats):
    utm_term: str = ""


@dataclass(kw_only=True)
class LanguageStats(MetaStats):
    language: str = ""


@dataclass(kw_only=True)
class CountryStats(MetaStats):
    country: str = ""
    country_code: str = ""


@dataclass(kw_only=True)
class RegionStats(MetaStats):
    country_code: str = ""
    region: str = ""


@dataclass(kw_only=True)
class CityStats(MetaStats):
    country_code: str = ""
    region: str = ""
    city: str = ""


@dataclass(kw_only=True)
class OSStats(MetaStats):
    os: str = ""


@dataclass(kw_only=True)
class OSVersionStats(MetaStats):
    os: str = ""
    os_version: str = ""


@dataclass(kw_only=True)
class BrowserStats(MetaStats):
    browser: str = ""


@dataclass(kw_only=True)
class BrowserVersionStats(MetaStats):
    browser: str = ""
    browser_version: str = ""


@dataclass(kw_only=True)
class ScreenClassStats(MetaStats):
    screen_class: str = ""


@dataclass(kw_only=True)
class TagStats(MetaStats):
    key: str = ""
    value: str = ""
    views: int = 0
    relative_views: float = 0.0


@dataclass(kw_only=True)
class TrafficStats(MetaStats):
    """Visitors, views, sessions and bounces of one hostname or one channel."""

    hostname: str = ""
    channel: str = ""
    views: int = 0
    sessions: int = 0
    bounces: int = 0
    relative_views: float = 0.0
    bounce_rate: float = 0.0


@dataclass(kw_only=True)
class ReferrerStats(Result):
    referrer: str = ""
    referrer_name: str = ""
    referrer_icon: str = ""
    visitors: int = 0
    sessions: int = 0
    relative_visitors: float = 0.0
    bounces: int = 0
    bounce_rate: float = 0.0


@dataclass(kw_only=True)
class PlatformStats(Result):
    platform_desktop: int = 0
    platform_mobile: int = 0
    platform_unknown: int = 0
    relative_platform_desktop: float = 0.0
    relative_platform_mobile: float = 0.0
    relative_platform_unknown: float = 0.0


@dataclass(kw_only=True)
class Keyword(Result):
    keys: list[str] = field(default_factory=list)
    clicks: int = 0
    impressions: int = 0
    ctr: float = 0.0
    position: float = 0.0


# Funnels


@dataclass(kw_only=True)
class FunnelStep(Result):
    id: str = ""
    def_time: datetime | None = None
    mod_time: datetime | None = None
    funnel_id: str = ""
    name: str = ""
    step: int = 0  # counted from 0
    filter: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Funnel(Result):
    id: str = ""
    def_time: datetime | None = None
    mod_time: datetime | None = None
    domain_id: str = ""
    name: str = ""
    steps: list[FunnelStep] = field(default_factory=list)


@dataclass(kw_only=True)
class FunnelStepStats(Result):
    step: int = 0
    visitors: int = 0
    relative_visitors: float = 0.0
    previous_visitors: int = 0
    relative_previous_visitors: float = 0.0
    dropped: int = 0
    drop_off: float = 0.0


@dataclass(kw_only=True)
class FunnelStats(Result):
    definition: Funnel | None = None
    data: list[FunnelStepStats] = field(default_factory=list)


# The overview and sessions


@dataclass(kw_only=True)
class Overview(Result):
    visitors: int = 0
    views: int = 0
    visitors_growth: float = 0.0
    views_growth: float = 0.0
    member: int = 0
    visitors_time_series: list[VisitorStats] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The API documents this field under two names.
        if "visitor_growth" in self.extra and not self.visitors_growth:
            value = self.extra.pop("visitor_growth")
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.visitors_growth = float(value)


@dataclass(kw_only=True)
class _Visit(Result):
    """What session list entries, page views and events of a session share."""

    visitor_id: str = ""
    session_id: str = ""
    time: datetime | None = None
    duration_seconds: int = 0
    hostname: str = ""
    language: str = ""
    country_code: str = ""
    region: str = ""
    city: str = ""
    referrer: str = ""
    referrer_name: str = ""
    referrer_icon: str = ""
    channel: str = ""
    os: str = ""
    os_version: str = ""
    browser: str = ""
    browser_version: str = ""
    desktop: bool = False
    mobile: bool = False
    screen_class: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    utm_term: str = ""


@dataclass(kw_only=True)
class VisitorSession(_Visit):
    """One session of the session list."""

    start: datetime | None = None
    entry_path: str = ""
    exit_path: str = ""
    entry_title: str = ""
    exit_title: str = ""
    page_views: int = 0
    is_bounce: bool = False
    extended: int = 0


@dataclass(kw_only=True)
class SessionPageView(_Visit):
    path: str = ""
    title: str = ""
    tag_keys: list[str] = field(default_factory=list)
    tag_values: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class SessionEvent(_Visit):
    name: str = ""
    path: str = ""
    title: str = ""
    meta_keys: list[str] = field(default_factory=list)
    meta_values: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class SessionStep(Result):
    """One step of a session: a page view or an event."""

    page_view: SessionPageView | None = None
    event: SessionEvent | None = None
