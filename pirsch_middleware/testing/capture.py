"""Capture what an app would send to Pirsch, in memory: no thread, no network.

While a :class:`Capture` is active, every tracker in the process hands its records (after the
skip rules and ``before_send``, so exactly what would be sent) to the capture instead of its
sender. The ``pirsch_capture`` pytest fixture opens one per test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from pirsch_middleware._sink import pop_sink, push_sink
from pirsch_middleware.records import Event, Hit, Record, Session

__all__ = ["Capture", "capture"]


class Capture:
    """The records trackers would have sent, in order, with helpers to assert on them.

    ``hits``, ``events`` and ``sessions`` hold the records; each record's ``payload()`` is the
    JSON the API would get. The ``assert_*`` helpers compare the given fields with each record's
    payload (``path`` matches the URL's path) and fail with a list of what was captured.
    """

    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, record: Record) -> None:
        self.records.append(record)

    def clear(self) -> None:
        """Forget what was captured so far."""
        self.records.clear()

    @property
    def hits(self) -> list[Hit]:
        return [r for r in self.records if isinstance(r, Hit) and not isinstance(r, Event)]

    @property
    def events(self) -> list[Event]:
        return [r for r in self.records if isinstance(r, Event)]

    @property
    def sessions(self) -> list[Session]:
        return [r for r in self.records if isinstance(r, Session)]

    def assert_hit(self, path: str | None = None, **fields: Any) -> Hit:
        """The one page hit matching ``path`` and ``fields`` (``title="Home"``, ...)."""
        return _one("page hit", self.hits, path, fields)

    def assert_event(
        self, name: str, *, meta: Mapping[str, object] | None = None, **fields: Any
    ) -> Event:
        """The one event called ``name`` (with this ``meta``, if given) matching ``fields``."""
        fields["event_name"] = name
        if meta is not None:
            fields["event_meta"] = {k: str(v) for k, v in meta.items()}
        return _one("event", self.events, fields.pop("path", None), fields)

    def assert_no_hits(self) -> None:
        """Nothing was tracked as a page view."""
        assert not self.hits, f"expected no page hits, captured: {_describe(self.hits)}"

    def assert_nothing_sent(self) -> None:
        """No page hit, event or session at all."""
        assert not self.records, f"expected nothing sent, captured: {_describe(self.records)}"


_R = TypeVar("_R", bound=Record)


def _one(what: str, records: list[_R], path: str | None, fields: dict[str, Any]) -> _R:
    matches = [r for r in records if _matches(r, path, fields)]
    wanted = ", ".join(f"{k}={v!r}" for k, v in {"path": path, **fields}.items() if v is not None)
    assert matches, f"no {what} with {wanted}; captured: {_describe(records)}"
    assert len(matches) == 1, f"{len(matches)} {what}s with {wanted}: {_describe(matches)}"
    return matches[0]


def _matches(record: Record, path: str | None, fields: dict[str, Any]) -> bool:
    payload = record.payload()
    if path is not None and _path(str(payload.get("url", ""))) != path:
        return False
    return all(payload.get(key) == value for key, value in fields.items())


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path.split("?", 1)[0]


def _describe(records: list[Any]) -> str:
    if not records:
        return "nothing"
    parts = []
    for record in records:
        payload = record.payload()
        name = payload.get("event_name")
        parts.append(f"{record.kind} {payload.get('url', '')}" + (f" {name!r}" if name else ""))
    return "; ".join(parts)


@contextmanager
def capture() -> Iterator[Capture]:
    """Capture what every tracker of this process would send inside the ``with`` block."""
    sink = Capture()
    push_sink(sink.add)
    try:
        yield sink
    finally:
        pop_sink(sink.add)
