"""Whatever a client sends, tracking never raises into the app, and what it sends is valid.

The strategies give well-formed requests (a browser's headers, a valid host and peer, an HTML
answer) most of the time and garbage the rest, so most examples reach the assertions; each test
checks that share, so a strategy change cannot quietly turn them into tests of a type guard.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pirsch_middleware import Event, Hit, RequestData, Stats, Tracker
from pirsch_middleware._time import parse_time
from pirsch_middleware.client import encode
from pirsch_middleware.extract import SKIP_REASONS
from pirsch_middleware.ip import IPResolver, parse_ip
from pirsch_middleware.records import batch_json, dump_json
from pirsch_middleware.request import PATH_SAFE, environ_raw_path
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, BROWSER_HEADERS
from .conftest import settings as make_settings

HEADER_NAMES = st.sampled_from(
    [
        "user-agent",
        "x-forwarded-for",
        "forwarded",
        "x-real-ip",
        "cf-connecting-ip",
        "true-client-ip",
        "x-forwarded-proto",
        "x-forwarded-host",
        "referer",
        "dnt",
        "accept-language",
        "sec-ch-ua",
        "purpose",
        "sec-purpose",
        "x-moz",
    ]
)
# Header values as servers decode them: latin-1, so any byte, plus lone surrogates from WSGI.
TEXT = st.text(alphabet=st.characters(codec="latin-1"), max_size=300) | st.text(max_size=50)
IPISH = st.ip_addresses().map(str) | st.from_regex(
    r"\[?[0-9a-fA-F:.]{0,40}\]?(:[0-9]{0,6})?", fullmatch=True
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` four times in five, ``bad`` otherwise (``one_of`` merges repeated branches)."""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 4 else good)


GARBAGE_HEADERS = st.dictionaries(HEADER_NAMES, TEXT | IPISH, max_size=10)
# A browser's headers with up to two of them replaced by garbage.
BROWSER = st.builds(
    lambda extra: {**BROWSER_HEADERS, **extra},
    st.dictionaries(HEADER_NAMES, TEXT | IPISH, max_size=2),
)
HEADERS = mostly(BROWSER, GARBAGE_HEADERS)
VALID_HOST = st.from_regex(
    r"(?:[a-z0-9-]{1,20}\.){0,3}[a-z]{1,10}(?::[0-9]{1,5})?", fullmatch=True
) | st.ip_addresses(v=4).map(str)
HOST = mostly(VALID_HOST, TEXT)
PEER = mostly(st.ip_addresses().map(str), st.none() | IPISH | TEXT)
REQUESTS = st.builds(
    RequestData,
    method=mostly(st.just("GET"), st.sampled_from(["POST", "get", ""])),
    scheme=st.sampled_from(["http", "https", ""]),
    host=HOST,
    path=TEXT,
    query=TEXT,
    peer=PEER,
    headers=HEADERS,
)
STATUS = mostly(st.sampled_from([200, 201, 299]), st.integers(0, 999))
CONTENT_TYPE = mostly(st.sampled_from(["text/html", "text/html; charset=utf-8"]), st.none() | TEXT)

RESOLVER = IPResolver(make_settings().proxy_networks(), make_settings().preset())
# Builds records only: its sender never starts.
EXTRACTOR = Tracker(make_settings())._extractor


@pytest.fixture(scope="module")
def delivered() -> Iterator[tuple[FakePirschAPI, Tracker]]:
    """A tracker that delivers to a fake API; records are built in its sender thread."""
    with FakePirschAPI(access_keys=(ACCESS_KEY,)) as api:
        tracker = Tracker(make_settings(api, max_queue_size=1_000))
        yield api, tracker
        tracker.close(5)


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def _assert_valid(kind: str, body: dict[str, Any]) -> None:
    """What the API document requires of a record in a batch (pirsch-api-v1.md, "hit")."""
    assert parse_ip(body["ip"]) == body["ip"]
    parse_time(body["time"])
    if kind != "session":
        assert body["url"].startswith(("http://", "https://"))
        assert len(body["url"]) <= 4096


def test_tracking_never_raises_and_every_record_is_sent_or_skipped_for_a_reason(
    delivered: tuple[FakePirschAPI, Tracker],
) -> None:
    api, tracker = delivered
    seen: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(REQUESTS, STATUS, CONTENT_TYPE, st.none() | TEXT)
    def check(req: RequestData, status: int, content_type: str | None, title: str | None) -> None:
        before: Stats = tracker.stats()
        received = len(api.received)
        calls = 3
        if tracker.request_skip(req) is not None:
            calls += 1  # counted as skipped too
        page_view = tracker.track_page_view(req, status, content_type, title=title)
        tracker.track_event(req, "E")
        tracker.track_session(req)
        assert tracker.flush(10), "the sender did not deliver within 10 s"
        after = tracker.stats()
        new = api.received[received:]
        skipped = _delta(after.skipped, before.skipped)
        # Nothing lost to a bug (error), rejected by the API, or left behind.
        assert _delta(after.dropped, before.dropped) == {}
        assert after.pending == 0
        assert set(skipped) <= set(SKIP_REASONS)
        assert len(new) + sum(skipped.values()) == calls
        for record in new:
            _assert_valid(record.kind, record.body)
            assert record.body["user_agent"].strip()
        seen["examples"] += 1
        seen["page views"] += any(r.kind == "hit" for r in new)
        assert page_view or not any(r.kind == "hit" for r in new)

    check()
    # A good share must reach the sender with a page view, or this tests the skip rules only.
    assert seen["page views"] >= 0.25 * seen["examples"], seen


def test_built_hits_are_complete_and_bounded() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None)
    @given(REQUESTS)
    def check(req: RequestData) -> None:
        built = EXTRACTOR.hit(req, 0.0)
        seen["examples"] += 1
        if isinstance(built, Hit):
            seen["hits"] += 1
            _assert_valid("hit", built.payload())
            assert encode(built.payload())
        else:
            assert built in ("no_ip", "bad_host")

    check()
    assert seen["hits"] >= 0.5 * seen["examples"], seen


@settings(max_examples=300, deadline=None)
@given(st.none() | IPISH | TEXT, HEADERS)
def test_resolved_address_is_valid_or_none(peer: str | None, headers: dict[str, str]) -> None:
    address = RESOLVER.resolve(peer, headers)
    assert address is None or parse_ip(address) == address


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(), HEADERS)
def test_untrusted_peer_is_never_overridden(peer: object, headers: dict[str, str]) -> None:
    address = str(peer)
    if not RESOLVER.trusts(address):
        assert RESOLVER.resolve(address, headers) == parse_ip(address)


# Builds records only, with disable_bot_filter on (a field the default leaves out).
UNFILTERED = Tracker(make_settings(disable_bot_filter=True))._extractor
TAGS = st.none() | st.dictionaries(TEXT, TEXT, max_size=3)
PIXELS = st.none() | st.integers(0, 10_000)
# Values over the caps (1,024 characters a header, 2,048 a referrer): cut alike on both paths.
LONG_HEADERS = dict.fromkeys(
    ("x-real-ip", "x-forwarded-for", "forwarded", "cf-connecting-ip", "referer"), "a" * 3000
)
EVENT_EXTRA = st.fixed_dictionaries(
    {
        "event_name": TEXT,
        "event_duration": st.none() | st.integers(0, 10**9),
        "event_meta": st.none() | st.dictionaries(TEXT, TEXT, max_size=3),
        "non_interactive": st.booleans(),
    }
)


def test_body_from_a_draft_is_the_records_payload_byte_for_byte() -> None:
    """The sender's fast path (no before_send hook: the JSON body straight from the draft) and
    the record path write the same bytes: the same fields, values and order."""
    seen: Counter[str] = Counter()

    @settings(max_examples=400, deadline=None)
    @given(
        st.sampled_from([EXTRACTOR, UNFILTERED]),
        REQUESTS,
        st.floats(0, 4e9),
        st.none() | TEXT | st.sampled_from(["", " ", " \t\n"]),  # blank: "" after cleaning
        TAGS,
        PIXELS,
        PIXELS,
        st.booleans().flatmap(lambda event: EVENT_EXTRA if event else st.none()),  # half each
        st.booleans(),
    )
    def check(
        extractor: Any,
        request: RequestData,
        when: float,
        title: str | None,
        tags: dict[str, str] | None,
        width: int | None,
        height: int | None,
        extra: dict[str, Any] | None,
        long: bool,
    ) -> None:
        req = replace(request, headers={**request.headers, **LONG_HEADERS}) if long else request
        cls = Hit if extra is None else Event
        draft = extractor.draft(cls, req, when, title, tags, width, height, extra or {})
        seen["examples"] += 1
        if isinstance(draft, str):
            return
        record, body = extractor.complete(draft), extractor.body(draft)
        if isinstance(record, str):
            assert body == record  # the same reason
            return
        assert type(record) is cls
        assert dump_json([body]) == dump_json([record.payload()])
        assert list(body) == list(record.payload())  # the order, even where JSON is rewritten
        seen[cls.kind] += 1

    check()
    # Both kinds must be built often, or this compares reasons to skip.
    assert min(seen["hit"], seen["event"]) >= 0.15 * seen["examples"], seen


def test_batch_json_is_the_payloads() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None)
    @given(REQUESTS, st.none() | TEXT, st.floats(0, 4e9), st.booleans())
    def check(req: RequestData, title: str | None, when: float, mutate: bool) -> None:
        built = [
            EXTRACTOR.hit(req, when, title),
            EXTRACTOR.event(req, when, "E", meta={"k": "v"}, duration=2, title=title),
            EXTRACTOR.session(req, when),
        ]
        records = [record for record in built if not isinstance(record, str)]
        if mutate:  # as a before_send hook may: the cached visitor text must not be reused
            for record in records:
                record.user_agent = "changed"
                record.sec_ch_ua = None
        body = json.loads(batch_json(records))
        # The reference is the standard library's encoder, with bad text replaced as the API reads it.
        reference = json.dumps([r.payload() for r in records], ensure_ascii=False)
        assert body == json.loads(reference.encode("utf-8", "replace"))
        seen["examples"] += 1
        seen["all three"] += len(body) == 3

    check()
    assert seen["all three"] >= 0.5 * seen["examples"], seen


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="latin-1"), max_size=40), st.sampled_from(["", "/app"]))
@example("a b/%41~_.-", "")  # the space needs escaping, the rest does not
@example('x"<>`{}?#', "/app")
@example("gr\xc3\xbc\xc3\x9fe", "")  # UTF-8 as a server decodes it (latin-1)
def test_a_wsgi_path_is_escaped_as_the_quoting_would_whether_or_not_it_needed_any(
    path: str, script: str
) -> None:
    # environ_raw_path skips the quoting for a path that needs none: it must give what the
    # quoting gives, for every path a server may hand over.
    environ = {"SCRIPT_NAME": script, "PATH_INFO": "/" + path}
    expected = quote_from_bytes((script + "/" + path).encode("latin-1"), safe=PATH_SAFE)
    assert environ_raw_path(environ) == expected.encode("ascii")
