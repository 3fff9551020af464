from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pirsch_middleware._time import format_time, parse_time


def reference(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_format_time_matches_datetime(timestamp: float) -> None:
    assert format_time(timestamp) == reference(timestamp)


def test_format_time_examples() -> None:
    assert format_time(1_700_000_000.123) == "2023-11-14T22:13:20.123Z"
    assert format_time(1_700_000_000.9999996) == "2023-11-14T22:13:21.000Z"


def test_parse_time_reads_nanoseconds_and_z() -> None:
    moment = parse_time("2020-12-12T00:11:39.903607271Z")
    assert moment == datetime(2020, 12, 12, 0, 11, 39, 903607, tzinfo=timezone.utc)
    assert parse_time("2021-05-12T00:00:00Z").tzinfo is not None


def test_format_time_across_seconds_and_back() -> None:
    # The last second's text is remembered: a jump forward or back must not reuse it.
    assert format_time(1_700_000_000.5) == "2023-11-14T22:13:20.500Z"
    assert format_time(1_700_000_001.25) == "2023-11-14T22:13:21.250Z"
    assert format_time(1_700_000_000.75) == "2023-11-14T22:13:20.750Z"
    assert format_time(0.0) == "1970-01-01T00:00:00.000Z"


def test_the_first_time_a_process_formats_is_right_even_at_the_epoch() -> None:
    # A fresh process: the remembered second must not pass for second 0.
    code = "from pirsch_middleware._time import format_time; print(format_time(0.0))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1970-01-01T00:00:00.000Z"


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time five hours behind UTC (POSIX TZ rule: no zone files needed)."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_format_time_is_utc_whatever_the_local_time() -> None:
    assert time.localtime(1_700_003_600).tm_hour != time.gmtime(1_700_003_600).tm_hour
    assert format_time(1_700_003_600.25) == "2023-11-14T23:13:20.250Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-05-12T10:11:12z", datetime(2021, 5, 12, 10, 11, 12, tzinfo=timezone.utc)),
        ("2021-05-12T10:11:12", datetime(2021, 5, 12, 10, 11, 12, tzinfo=timezone.utc)),
        ("2021-05-12T12:11:12+02:00", datetime(2021, 5, 12, 10, 11, 12, tzinfo=timezone.utc)),
    ],
)
def test_parse_time_reads_lower_case_z_no_zone_as_utc_and_offsets(
    text: str, expected: datetime
) -> None:
    moment = parse_time(text)
    assert moment == expected
    assert moment.utcoffset() is not None
