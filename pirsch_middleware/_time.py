"""Timestamps in the forms the Pirsch API reads and writes."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def format_time(timestamp: float) -> str:
    """Unix seconds as RFC 3339 in UTC with milliseconds, as the batch endpoints take it."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the API writes it (``Z``, up to nanoseconds) as an aware datetime."""
    value = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
