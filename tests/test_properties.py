"""Whatever a client sends, tracking never raises into the app."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pirsch_middleware import Hit, RequestData, Tracker
from pirsch_middleware.ip import IPResolver, parse_ip
from pirsch_middleware.records import batch_json

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
HEADERS = st.dictionaries(HEADER_NAMES, TEXT | IPISH, max_size=10)
REQUESTS = st.builds(
    RequestData,
    method=st.sampled_from(["GET", "POST", "get", ""]),
    scheme=st.sampled_from(["http", "https", ""]),
    host=TEXT,
    path=TEXT,
    query=TEXT,
    peer=st.none() | IPISH | TEXT,
    headers=HEADERS,
)

# Log-only (no credentials), with room for every example, so it never reports drops into
# another test's captured log.
TRACKER = Tracker(make_settings(max_queue_size=1_000_000))
RESOLVER = IPResolver(make_settings().proxy_networks(), make_settings().preset())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQUESTS, st.integers(0, 999), st.none() | TEXT, st.none() | TEXT)
def test_tracking_never_raises(
    req: RequestData, status: int, content_type: str | None, title: str | None
) -> None:
    TRACKER.request_skip(req)
    TRACKER.track_page_view(req, status, content_type, title=title)
    TRACKER.track_event(req, "E")
    TRACKER.track_session(req)


@settings(max_examples=300, deadline=None)
@given(REQUESTS)
def test_built_hits_are_complete_and_bounded(req: RequestData) -> None:
    built = TRACKER._extractor.hit(req, 0.0)
    if isinstance(built, Hit):
        assert built.url.startswith(("http://", "https://"))
        assert len(built.url) <= 4096
        assert parse_ip(built.ip) == built.ip
        built.payload()


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


@settings(max_examples=300, deadline=None)
@given(REQUESTS, st.none() | TEXT, st.floats(0, 4e9), st.booleans())
def test_batch_json_is_the_payloads(
    req: RequestData, title: str | None, when: float, mutate: bool
) -> None:
    built = [
        TRACKER._extractor.hit(req, when, title),
        TRACKER._extractor.event(req, when, "E", meta={"k": "v"}, duration=2, title=title),
        TRACKER._extractor.session(req, when),
    ]
    records = [record for record in built if not isinstance(record, str)]
    if mutate:  # as a before_send hook may: the cached visitor text must not be reused
        for record in records:
            record.user_agent = "changed"
            record.sec_ch_ua = None
    # The reference is the standard library's encoder, with bad text replaced as the API reads it.
    reference = json.dumps([r.payload() for r in records], ensure_ascii=False)
    assert json.loads(batch_json(records)) == json.loads(reference.encode("utf-8", "replace"))
