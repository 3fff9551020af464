"""The statistics filter: every query parameter, checked before a request is sent."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigurationError

__all__ = ["DIRECTIONS", "METRIC_TYPES", "SCALES", "Filter"]

SCALES = ("day", "week", "month", "year")
DIRECTIONS = ("asc", "desc")
METRIC_TYPES = ("integer", "float")
MAX_LIMIT = 100
MAX_START = 3600

Values = str | Sequence[str] | None
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
# String filters, in the order of the API document's table, then the newer ones.
_TEXT = (
    "path",
    "entry_path",
    "exit_path",
    "pattern",
    "event",
    "event_meta_key",
    "language",
    "country",
    "region",
    "city",
    "referrer",
    "referrer_name",
    "os",
    "browser",
    "platform",
    "screen_class",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "hostname",
    "channel",
    "tag",
)


@dataclass(frozen=True, kw_only=True)
class Filter:
    """Which statistics to read: the domain, the dates and any narrowing.

    ``domain_id``, ``from_date`` and ``to_date`` are required (sent as ``id``, ``from``, ``to``).
    Text filters take one value or several (several mean OR); a value may start with ``!``
    (not), ``~`` (contains) or ``^`` (does not contain). ``meta`` and ``tags`` filter by event
    metadata and page tags (sent as ``meta_<key>`` and ``tag_<key>``). Every value is checked
    when the filter is built: a wrong one raises :class:`~pirsch_middleware.ConfigurationError`
    naming the parameter, the expected form and the value.
    """

    domain_id: str
    from_date: date
    to_date: date
    tz: str | None = None
    start: int | None = None
    scale: str | None = None
    from_time: str | None = None
    to_time: str | None = None
    path: Values = None
    entry_path: Values = None
    exit_path: Values = None
    pattern: Values = None
    event: Values = None
    event_meta_key: Values = None
    language: Values = None
    country: Values = None
    region: Values = None
    city: Values = None
    referrer: Values = None
    referrer_name: Values = None
    os: Values = None
    browser: Values = None
    platform: Values = None
    screen_class: Values = None
    utm_source: Values = None
    utm_medium: Values = None
    utm_campaign: Values = None
    utm_content: Values = None
    utm_term: Values = None
    hostname: Values = None
    channel: Values = None
    tag: Values = None
    tags: Mapping[str, Values] = field(default_factory=dict)
    meta: Mapping[str, Values] = field(default_factory=dict)
    visitor_id: str | None = None
    session_id: str | None = None
    funnel_id: str | None = None
    custom_metric_key: str | None = None
    custom_metric_type: str | None = None
    limit: int | None = None
    offset: int | None = None
    sort: str | None = None
    direction: str | None = None
    search: str | None = None
    include_avg_time_on_page: bool | None = None
    include_title: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.domain_id, str) or not self.domain_id.strip():
            raise ConfigurationError(
                "domain_id", "the domain's id (see PirschClient.domains())", self.domain_id
            )
        for name in ("from_date", "to_date"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ConfigurationError(name, "a datetime.date", value)
        if self.from_date > self.to_date:
            raise ConfigurationError(
                "from_date", f"a date on or before to_date ({self.to_date})", self.from_date
            )
        if self.tz is not None:
            try:
                ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError, TypeError):
                raise ConfigurationError(
                    "tz", "a time zone such as 'Europe/Berlin'", self.tz
                ) from None
        _choice("scale", self.scale, SCALES)
        _choice("direction", self.direction, DIRECTIONS)
        _choice("custom_metric_type", self.custom_metric_type, METRIC_TYPES)
        _whole("limit", self.limit, 1, MAX_LIMIT)
        _whole("offset", self.offset, 0, None)
        _whole("start", self.start, 1, MAX_START)
        for name in ("from_time", "to_time"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and _TIME.match(value)):
                raise ConfigurationError(name, "a time of day as 'HH:MM'", value)
        for name in _TEXT:
            _values(name, getattr(self, name))
        for name in ("visitor_id", "session_id", "funnel_id", "custom_metric_key", "sort"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(name, "a non-empty string", value)
        if self.search is not None and not isinstance(self.search, str):
            raise ConfigurationError("search", "a string", self.search)
        for name in ("include_avg_time_on_page", "include_title"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ConfigurationError(name, "True, False or None", value)
        for name in ("tags", "meta"):
            mapping = getattr(self, name)
            if not isinstance(mapping, Mapping):
                raise ConfigurationError(name, "a mapping of key to value(s)", mapping)
            for key, value in mapping.items():
                if not isinstance(key, str) or not _KEY.match(key):
                    raise ConfigurationError(name, "keys of letters, digits, '_', '.', '-'", key)
                _values(f"{name}[{key!r}]", value)

    def replace(self, **changes: object) -> Filter:
        """A copy with some parameters changed, checked like the original."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def params(self) -> list[tuple[str, str]]:
        """The query parameters, in a stable order; a repeated key means OR."""
        params = [
            ("id", self.domain_id),
            ("from", self.from_date.isoformat()),
            ("to", self.to_date.isoformat()),
        ]
        for name in ("tz", "start", "scale", "from_time", "to_time"):
            _add(params, name, getattr(self, name))
        for name in _TEXT:
            _add(params, name, getattr(self, name))
        for prefix, mapping in (("tag_", self.tags), ("meta_", self.meta)):
            for key, value in mapping.items():
                _add(params, prefix + key, value)
        for name in (
            "visitor_id",
            "session_id",
            "funnel_id",
            "custom_metric_key",
            "custom_metric_type",
            "limit",
            "offset",
            "sort",
            "direction",
            "search",
            "include_avg_time_on_page",
            "include_title",
        ):
            _add(params, name, getattr(self, name))
        return params


def _add(params: list[tuple[str, str]], name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        params.append((name, "true" if value else "false"))
    elif isinstance(value, str | int):
        params.append((name, str(value)))
    else:
        params.extend((name, str(v)) for v in value)  # type: ignore[attr-defined]


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ConfigurationError(name, " or ".join(repr(c) for c in choices), value)


def _whole(name: str, value: object, low: int, high: int | None) -> None:
    if value is None:
        return
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        span = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ConfigurationError(name, f"a whole number {span}", value)


def _values(name: str, value: object) -> None:
    if value is None or (isinstance(value, str) and value):
        return
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and value
        and all(isinstance(v, str) and v for v in value)
    ):
        return
    raise ConfigurationError(name, "a non-empty string or a list of them", value)
