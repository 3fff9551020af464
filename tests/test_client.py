from __future__ import annotations

import json
import threading

import httpx
import pytest

from pirsch_middleware import Event, Hit, PirschClient, PirschError, Session
from pirsch_middleware.client import USER_AGENT
from pirsch_middleware.testing import FakePirschAPI, Reply

from .conftest import ACCESS_KEY, CHROME, CLIENT_ID, CLIENT_SECRET

HIT = Hit(ip="198.51.100.1", user_agent=CHROME, time=1_700_000_000.0, url="https://example.com/")


def oauth(api: FakePirschAPI) -> PirschClient:
    return PirschClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=api.base_url)


def test_access_key_is_the_bearer_token(api: FakePirschAPI) -> None:
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        client.hit(HIT)
        client.hits([HIT, HIT])
    assert [r.token for r in api.received] == [ACCESS_KEY] * 3
    assert api.tokens_issued == 0
    single, first, _ = api.received
    assert "time" not in single.body
    assert not single.batch
    assert first.batch
    assert first.body["time"] == "2023-11-14T22:13:20.000Z"


def test_every_ingestion_endpoint(api: FakePirschAPI) -> None:
    event = Event(ip="198.51.100.1", user_agent=CHROME, time=1.0, url="https://e/", event_name="E")
    session = Session(ip="198.51.100.1", user_agent=CHROME, time=1.0)
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        client.event(event)
        client.events([event])
        client.session(session)
        client.sessions([session])
        client.hit({"ip": "1.2.3.4", "user_agent": "UA", "url": "https://m/"})
    paths = [p for _, p, _ in api.requests]
    assert paths == [
        "/api/v1/event",
        "/api/v1/event/batch",
        "/api/v1/session",
        "/api/v1/session/batch",
        "/api/v1/hit",
    ]
    assert len(api.events) == 2
    assert len(api.sessions) == 2
    assert len(api.hits) == 1


def test_oauth_token_is_fetched_once_and_cached(api: FakePirschAPI) -> None:
    with oauth(api) as client:
        for _ in range(5):
            client.hit(HIT)
    assert api.tokens_issued == 1
    assert [p for _, p, _ in api.requests].count("/api/v1/token") == 1


def test_expired_token_is_renewed_once_on_401(api: FakePirschAPI) -> None:
    with oauth(api) as client:
        client.hit(HIT)
        api.expire_tokens()
        client.hit(HIT)
    assert api.tokens_issued == 2
    assert [s for _, _, s in api.requests] == [200, 200, 401, 200, 200]
    assert len(api.hits) == 2


def test_concurrent_callers_fetch_one_token_after_expiry(api: FakePirschAPI) -> None:
    with oauth(api) as client:
        client.hit(HIT)
        api.expire_tokens()
        threads = [threading.Thread(target=client.hit, args=(HIT,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(api.hits) == 9
    assert api.tokens_issued == 2


def test_wrong_client_secret_is_a_clear_error_without_the_secret(api: FakePirschAPI) -> None:
    wrong = "w" * 64
    with PirschClient(client_id=CLIENT_ID, client_secret=wrong, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.status == 401
    assert info.value.errors == ["invalid client credentials"]
    assert wrong not in str(info.value)
    assert wrong not in repr(client)


def test_wrong_access_key_gives_401_once(api: FakePirschAPI) -> None:
    with PirschClient(access_key="pa_" + "x" * 45, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.status == 401
    assert not info.value.retryable
    assert len(api.requests) == 1


def test_error_carries_status_validation_and_errors(api: FakePirschAPI) -> None:
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit({"ip": "1.2.3.4", "user_agent": "UA"})
        assert info.value.status == 400
        assert info.value.errors == [
            "Missing required request parameters. The URL, IP address, and User-Agent must be set."
        ]
        api.fail_next(Reply(422, {"validation": {"url": "invalid"}, "error": []}))
        with pytest.raises(PirschError, match="url: invalid") as info:
            client.hit(HIT)
        assert info.value.validation == {"url": "invalid"}


@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after"),
    [
        (Reply(429, {"validation": {}, "error": ["slow down"]}, {"Retry-After": "7"}), True, 7.0),
        (Reply(503, None), True, None),
        (Reply(500, {"validation": {}, "error": ["boom"]}), True, None),
        (Reply(404, {"validation": {}, "error": ["not found"]}), False, None),
    ],
)
def test_retryable_errors(
    api: FakePirschAPI, reply: Reply, retryable: bool, retry_after: float | None
) -> None:
    api.fail_next(reply)
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.status == reply.status
    assert info.value.retryable is retryable
    assert info.value.retry_after == retry_after


def test_refused_connection_is_a_retryable_error_without_status(api: FakePirschAPI) -> None:
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client, api.down():
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.status is None
    assert info.value.retryable
    assert ACCESS_KEY not in str(info.value)


def test_timeout_is_a_retryable_error(api: FakePirschAPI) -> None:
    api.fail_next(Reply(200, None, delay=0.5))
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url, timeout=0.1) as client:
        with pytest.raises(PirschError, match="Timeout") as info:
            client.hit(HIT)
    assert info.value.retryable


def test_injected_transport_sees_user_agent_json_and_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = PirschClient(
        access_key=ACCESS_KEY, base_url="https://api.test", transport=httpx.MockTransport(handler)
    )
    client.hits([HIT])
    client.close()
    (req,) = seen
    assert str(req.url) == "https://api.test/api/v1/hit/batch"
    assert req.headers["User-Agent"] == USER_AGENT
    assert req.headers["Authorization"] == f"Bearer {ACCESS_KEY}"
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.content)[0]["url"] == "https://example.com/"


def test_text_that_is_not_unicode_is_replaced_not_raised() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    with PirschClient(
        access_key=ACCESS_KEY, base_url="https://api.test", transport=transport
    ) as client:
        client.hit(Hit(ip="1.2.3.4", user_agent="bad \udcff byte", time=0, url="https://x/\u00e9"))
    body = json.loads(bodies[0])
    assert body["user_agent"] == "bad ? byte"
    assert body["url"] == "https://x/\u00e9"


def test_client_repr_shows_no_secret() -> None:
    client = PirschClient(access_key=ACCESS_KEY, base_url="https://api.test")
    assert ACCESS_KEY not in repr(client)
    client.close()


def test_retry_after_as_an_http_date(api: FakePirschAPI) -> None:
    import time
    from email.utils import formatdate

    api.fail_next(Reply(503, None, {"Retry-After": formatdate(time.time() + 30, usegmt=True)}))
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.retry_after is not None
    assert 25 <= info.value.retry_after <= 31


def test_unreadable_retry_after_is_ignored(api: FakePirschAPI) -> None:
    api.fail_next(Reply(429, None, {"Retry-After": "soon"}))
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as info:
            client.hit(HIT)
    assert info.value.retry_after is None


def test_a_given_http_client_is_used_and_left_open(api: FakePirschAPI) -> None:
    http = httpx.Client(headers={"X-Test": "1"})
    client = PirschClient(access_key=ACCESS_KEY, base_url=api.base_url, http_client=http)
    client.hit(HIT)
    client.close()
    assert not http.is_closed
    http.close()
    assert len(api.hits) == 1
