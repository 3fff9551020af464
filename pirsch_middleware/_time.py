"""Timestamps in the forms the Pirsch API reads and writes."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def format_time(timestamp: float) -> str:
    """Unix seconds as RFC 3339 in UTC with milliseconds, as the batch endpoints take it."""
    second = int(timestamp // 1)
    # Rounded to microseconds first, as datetime.fromtimestamp does, then cut to milliseconds.
    microsecond = round((timestamp - second) * 1_000_000)
    if microsecond >= 1_000_000:
        second, microsecond = second + 1, 0
    # Records arrive in bursts within the same second: format each second once.
    text = _last[1] if _last[0] == second else _second(second)
    return text + _MILLISECONDS[microsecond // 1000]


_MILLISECONDS = tuple(f".{ms:03d}Z" for ms in range(1000))


_last: tuple[int | None, str] = (None, "")  # None: no second formatted yet


def _second(second: int) -> str:
    global _last
    text = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    _last = (second, text)  # one tuple, replaced whole: safe to read from any thread
    return text


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the API writes it (``Z``, up to nanoseconds) as an aware datetime."""
    value = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
