"""What the tracker sends: page hits, events and session keep-alives, and their limits."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from ._time import format_time

__all__ = [
    "MAX_META_KEY",
    "MAX_META_PAIRS",
    "MAX_META_VALUE",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_TITLE",
    "Event",
    "Hit",
    "Record",
    "Session",
    "batch_json",
    "check_meta",
    "check_tags",
]

# Limits of the Pirsch API (pirsch-facts.md): over them a record is rejected or cut.
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_META_PAIRS = 20
MAX_META_KEY = 100
MAX_META_VALUE = 2000
MAX_TITLE = 512


@dataclass(slots=True, kw_only=True)
class _Visitor:
    """The fields that identify a visitor; ``time`` is when the request arrived (Unix seconds)."""

    kind: ClassVar[str]
    endpoint: ClassVar[str]
    _payload: ClassVar[Callable[[Any], dict[str, Any]]]  # see _payload_function

    ip: str
    user_agent: str
    time: float
    sec_ch_ua: str | None = None
    sec_ch_ua_mobile: str | None = None
    sec_ch_ua_platform: str | None = None
    sec_ch_ua_platform_version: str | None = None
    sec_ch_width: str | None = None
    sec_ch_viewport_width: str | None = None
    disable_bot_filter: bool = False

    def payload(self) -> dict[str, Any]:
        """The JSON body of this record in a batch: every field that is not ``None`` or
        ``False``, with ``time`` in RFC 3339 (UTC)."""
        return type(self)._payload(self)


@dataclass(slots=True, kw_only=True)
class Session(_Visitor):
    """A session keep-alive: must carry the same visitor data as the page view it extends."""

    kind = "session"
    endpoint = "/api/v1/session"


@dataclass(slots=True, kw_only=True)
class Hit(_Visitor):
    """A page view. ``tags`` is a string map (at most 20, keys and values up to 50 characters)."""

    kind = "hit"
    endpoint = "/api/v1/hit"

    url: str
    accept_language: str | None = None
    referrer: str | None = None
    title: str | None = None
    screen_width: int | None = None
    screen_height: int | None = None
    tags: dict[str, str] | None = None
    # The API document's fields, sent as received; the server now trusts only `ip`.
    dnt: str | None = None
    cf_connecting_ip: str | None = None
    x_forwarded_for: str | None = None
    forwarded: str | None = None
    x_real_ip: str | None = None


@dataclass(slots=True, kw_only=True)
class Event(Hit):
    """A custom event: a hit's fields plus a name, a duration in seconds and metadata."""

    kind = "event"
    endpoint = "/api/v1/event"

    event_name: str
    event_duration: int | None = None
    event_meta: dict[str, str] | None = None
    non_interactive: bool = False


Record = Hit | Event | Session
#: A record ready to send, as the sender queues it for a batch: its ``kind`` and its
#: :meth:`~_Visitor.payload`.
Ready = tuple[str, dict[str, Any]]
#: Each kind's batch endpoint.
BATCH_PATHS = {cls.kind: cls.endpoint + "/batch" for cls in (Hit, Event, Session)}


def _payload_function(cls: type[_Visitor]) -> Callable[[Any], dict[str, Any]]:
    """``payload()`` for ``cls`` as straight-line code, one test per field, the way
    :mod:`dataclasses` writes ``__init__``: it runs for every record the sender sends, and a
    loop over the fields costs more than twice as much (``benchmarks/encode.py``)."""
    lines = ["def payload(self):", "    body = {}"]
    for field in dataclasses.fields(cls):
        name = field.name
        if name == "time":
            lines.append("    body['time'] = format_time(self.time)")
            continue
        lines += [
            f"    value = self.{name}",
            "    if value is not None and value is not False:",
            f"        body[{name!r}] = value",
        ]
    lines.append("    return body")
    namespace: dict[str, Any] = {"format_time": format_time}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own text, made of field names
    function: Callable[[Any], dict[str, Any]] = namespace["payload"]
    function.__qualname__ = f"{cls.__name__}._payload"
    return function


for _cls in (Session, Hit, Event):
    _cls._payload = _payload_function(_cls)


# Records written between two offers of the GIL to the app's threads: about 0.1 ms of CPU. Each
# offer (time.sleep(0)) costs the writing thread some 25 µs of CPU on a busy machine, so it is
# made no more often than that.
_YIELD_EVERY = 128


def batch_json(records: Iterable[Record]) -> bytes:
    """The body of a batch request: the records' :meth:`~_Visitor.payload` as a JSON array
    (this runs for every record sent). Text that is not valid Unicode is replaced."""
    payloads = []
    for count, record in enumerate(records, 1):
        payloads.append(record.payload())
        if not count % _YIELD_EVERY:
            # Let the app's threads have the GIL: a batch is milliseconds of CPU, and without
            # this a request arriving meanwhile waits for the interpreter's switch interval.
            time.sleep(0)
    return dump_json(payloads)


def dump_json(body: object) -> bytes:
    """``body`` as compact UTF-8 JSON, by orjson (compiled: the sender's share of a hit is mostly
    JSON). orjson refuses text that is not valid Unicode (lone surrogates: WSGI servers decode
    header bytes as latin-1, and PEP 3333 apps may hand on surrogate escapes), so such a body
    is written again by the standard library with the bad characters replaced by ``?``.
    Raises ``TypeError`` for values JSON cannot hold, as :func:`json.dumps` does."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def check_tags(tags: Mapping[str, object]) -> dict[str, str]:
    """Tags as the API takes them; raises ``ValueError`` naming what is over a limit."""
    return _check_map("tags", tags, "tags", MAX_TAGS, MAX_TAG_LENGTH, MAX_TAG_LENGTH)


def check_meta(meta: Mapping[str, object]) -> dict[str, str]:
    """Event metadata as the API takes it (values as strings); ``ValueError`` past a limit."""
    return _check_map("meta", meta, "pairs", MAX_META_PAIRS, MAX_META_KEY, MAX_META_VALUE)


def _check_map(
    what: str, mapping: Mapping[str, object], unit: str, pairs: int, key_max: int, value_max: int
) -> dict[str, str]:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{what}: expected a mapping of strings, got {mapping!r}")
    if len(mapping) > pairs:
        raise ValueError(f"{what}: at most {pairs} {unit}, got {len(mapping)}")
    result = {}
    for key, value in mapping.items():
        text = _scalar(what, key, value)
        if not isinstance(key, str) or not key or len(key) > key_max:
            raise ValueError(f"{what}: keys are 1 to {key_max} characters, got {key!r}")
        if len(text) > value_max:
            raise ValueError(
                f"{what}: values are at most {value_max} characters, got {len(text)} for {key!r}"
            )
        result[key] = text
    return result


def _scalar(what: str, key: object, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"{what}: values are strings, numbers or booleans, got {value!r} for {key!r}")
