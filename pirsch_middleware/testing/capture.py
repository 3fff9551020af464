"""Capture what an app would send to Pirsch, in memory: no thread, no network.

While a :class:`Capture` is active, every tracker in the process hands its records (after the
skip rules and ``before_send``, so exactly what would be sent) to the capture instead of its
sender. The ``pirsch_capture`` pytest fixture opens one per test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from pirsch_middleware._sink import pop_sink, push_sink, skip_listeners
from pirsch_middleware.pageview import rule_text
from pirsch_middleware.records import Event, Hit, Record, Session

__all__ = ["Capture", "capture"]


class Capture:
    """The records trackers would have sent, in order, with helpers to assert on them.

    ``hits``, ``events`` and ``sessions`` hold the records; each record's ``payload()`` is the
    JSON the API would get. The ``assert_*`` helpers compare the given fields with each record's
    payload (``path`` matches the URL's path) and fail with what was captured: the fields that
    differ, or, when nothing was, why each request was skipped (``skips``: reason and request).
    """

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.skips: list[tuple[str, str]] = []

    def add(self, record: Record) -> None:
        self.records.append(record)

    def skipped(self, reason: str, what: str) -> None:
        self.skips.append((reason, what))

    def clear(self) -> None:
        """Forget what was captured so far."""
        self.records.clear()
        self.skips.clear()

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
        return _one("page hit", self.hits, path, fields, self.skips)

    def assert_event(
        self, name: str, *, meta: Mapping[str, object] | None = None, **fields: Any
    ) -> Event:
        """The one event called ``name`` (with this ``meta``, if given) matching ``fields``."""
        fields["event_name"] = name
        if meta is not None:
            fields["event_meta"] = {k: str(v) for k, v in meta.items()}
        return _one("event", self.events, fields.pop("path", None), fields, self.skips)

    def assert_no_hits(self) -> None:
        """Nothing was tracked as a page view."""
        assert not self.hits, f"expected no page hits, captured: {_describe(self.hits)}"

    def assert_nothing_sent(self) -> None:
        """No page hit, event or session at all."""
        assert not self.records, f"expected nothing sent, captured: {_describe(self.records)}"


_R = TypeVar("_R", bound=Record)


def _one(
    what: str,
    records: list[_R],
    path: str | None,
    fields: dict[str, Any],
    skips: list[tuple[str, str]],
) -> _R:
    matches = [r for r in records if _matches(r, path, fields)]
    wanted = ", ".join(f"{k}={v!r}" for k, v in {"path": path, **fields}.items() if v is not None)
    assert matches, f"no {what} with {wanted}; captured: {_explain(records, path, fields, skips)}"
    assert len(matches) == 1, f"{len(matches)} {what}s with {wanted}: {_describe(matches)}"
    return matches[0]


def _explain(
    records: list[Any], path: str | None, fields: dict[str, Any], skips: list[tuple[str, str]]
) -> str:
    """What was captured, with the fields that differ from those asked for; or, when nothing
    was, why each request was skipped."""
    if not records:
        why = "; ".join(f"{what} ({reason}: {rule_text(reason)})" for reason, what in skips)
        return "nothing" + (f"; skipped: {why}" if why else "")
    parts = []
    for record in records:
        payload = record.payload()
        wanted = {**fields, **({"path": path} if path is not None else {})}
        actual = {**payload, "path": _path(str(payload.get("url", "")))}
        differ = [f"{k}={actual.get(k)!r}" for k, v in wanted.items() if actual.get(k) != v]
        parts.append(_describe([record]) + (f" ({', '.join(differ)})" if differ else ""))
    return "; ".join(parts)


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
    skip_listeners.append(sink.skipped)
    try:
        yield sink
    finally:
        skip_listeners.remove(sink.skipped)
        pop_sink(sink.add)
