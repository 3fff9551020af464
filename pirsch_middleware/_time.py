"""Timestamps in the forms the Pirsch API reads and writes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def format_time(timestamp: float) -> str:
    """Unix seconds as RFC 3339 in UTC with milliseconds, as the batch endpoints take it."""
    second = int(timestamp // 1)
    # Rounded to microseconds first, as datetime.fromtimestamp does, then cut to milliseconds.
    microsecond = round((timestamp - second) * 1_000_000)
    if microsecond >= 1_000_000:
        second, microsecond = second + 1, 0
    return f"{_second(second)}.{microsecond // 1000:03d}Z"


@lru_cache(maxsize=256)
def _second(second: int) -> str:
    # Records arrive in bursts within the same seconds: format each second once.
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the API writes it (``Z``, up to nanoseconds) as an aware datetime."""
    value = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
