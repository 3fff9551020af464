"""The snippet's script file: fetched once and kept, refreshed in the background, the last good
copy served while Pirsch is unreachable, shared through the cache file, and a bounded wait when
there is none."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pirsch_middleware import Tracker
from pirsch_middleware.script_cache import ScriptCache
from pirsch_middleware.snippet import SCRIPT, Answer, SnippetProxy
from pirsch_middleware.testing import FakePirschAPI

from .conftest import request, settings

DEADLINE = 10.0


@pytest.fixture
def make_proxy() -> Iterator[Callable[..., SnippetProxy]]:
    made: list[tuple[Tracker, SnippetProxy]] = []

    def make(api: FakePirschAPI, **options: Any) -> SnippetProxy:
        tracker = Tracker(settings(api, snippet="only", **options))
        proxy = SnippetProxy.of(tracker)
        assert proxy is not None
        made.append((tracker, proxy))
        return proxy

    yield make
    for tracker, proxy in made:
        proxy.close()
        tracker.close(2)


def script(proxy: SnippetProxy, if_none_match: str | None = None) -> Answer:
    if if_none_match is None:
        return proxy.answer(SCRIPT, request("/p/pa.js"))
    return proxy.answer(SCRIPT, request("/p/pa.js", if_none_match=if_none_match))


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_script_is_fetched_once_and_served_from_memory(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy]
) -> None:
    proxy = make_proxy(api)
    answers = [script(proxy) for _ in range(5)]
    assert {answer.body for answer in answers} == {api.script}
    assert api.script_requests == 1


def test_script_is_refreshed_in_the_background(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy]
) -> None:
    proxy = make_proxy(api, snippet_refresh=0.1)
    first = script(proxy)
    api.script = b"/* version 2 */"
    wait_until(lambda: script(proxy).body == b"/* version 2 */")
    second = script(proxy)
    assert second.status == 200
    assert dict(second.headers)["ETag"] != dict(first.headers)["ETag"]
    # The old ETag no longer revalidates.
    assert script(proxy, if_none_match=dict(first.headers)["ETag"]).status == 200


def test_last_good_copy_is_served_while_pirsch_is_unreachable(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy]
) -> None:
    proxy = make_proxy(api, snippet_refresh=0.1)
    good = script(proxy).body
    with api.down():
        time.sleep(0.5)  # several refreshes fail meanwhile
        during = script(proxy)
    api.script_status = 503
    time.sleep(0.3)
    assert (during.status, during.body) == (200, good)
    assert script(proxy).body == good  # an error answer does not replace it either


def test_cache_file_serves_another_worker_while_pirsch_is_unreachable(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy], tmp_path: Path
) -> None:
    cache = tmp_path / "pa.js"
    assert script(make_proxy(api, snippet_cache_file=str(cache))).body == api.script
    assert cache.read_bytes() == api.script
    assert cache.stat().st_mode & 0o777 == 0o644  # workers running as another user read it
    with api.down():
        started = time.monotonic()
        other = script(make_proxy(api, snippet_cache_file=str(cache)))
        took = time.monotonic() - started
    assert (other.status, other.body) == (200, api.script)
    assert took < 0.5  # read from the file, not waiting for the fetch


def test_no_copy_is_answered_503_after_a_bounded_wait(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy]
) -> None:
    api.script_status = 500
    proxy = make_proxy(api)
    started = time.monotonic()
    answer = script(proxy)
    assert answer.status == 503
    assert dict(answer.headers)["Retry-After"] == "30"
    assert time.monotonic() - started < 5  # at most FIRST_FETCH_WAIT, with a wide margin
    # Once the first try failed, later requests do not wait for the next one.
    started = time.monotonic()
    assert script(proxy).status == 503
    assert time.monotonic() - started < 0.5


def test_head_answers_the_headers_without_the_script(
    api: FakePirschAPI, make_proxy: Callable[..., SnippetProxy]
) -> None:
    answer = make_proxy(api).answer(SCRIPT, request("/p/pa.js", method="HEAD"))
    assert answer.status == 200
    assert answer.body == b""
    assert "ETag" in dict(answer.headers)


def test_cache_thread_ends_when_closed(api: FakePirschAPI) -> None:
    cache = ScriptCache(api.base_url + "/pa.js", refresh=0.05, timeout=1.0, path=None)
    assert cache.get(wait=5) is not None
    thread = cache._thread
    assert thread is not None
    assert thread.is_alive()
    cache.close()
    thread.join(5)
    assert not thread.is_alive()
