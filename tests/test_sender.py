from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from pirsch_middleware import Tracker
from pirsch_middleware.sender import Sender
from pirsch_middleware.testing import FakePirschAPI, Reply

from .conftest import request

MakeTracker = Callable[..., Tracker]


def track(tracker: Tracker, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        assert tracker.track_page_view(request(f"/p/{i}"), time=1_700_000_000 + i)


def paths(api: FakePirschAPI) -> list[str]:
    return [h["url"].removeprefix("https://example.com") for h in api.hits]


def test_hits_arrive_in_order_in_batches(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api, batch_size=10)
    track(tracker, 35)
    assert tracker.flush(timeout=5)
    assert paths(api) == [f"/p/{i}" for i in range(35)]
    batch_posts = [p for _, p, _ in api.requests if p == "/api/v1/hit/batch"]
    assert len(batch_posts) == 4
    stats = tracker.stats()
    assert (stats.queued, stats.pending, stats.sent) == (35, 0, 35)


def test_partial_batch_goes_out_after_the_flush_interval(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, flush_interval=0.05)
    started = time.monotonic()
    track(tracker, 3)  # far fewer than a batch: only the interval sends them, without a flush
    while len(api.received) < 3 and time.monotonic() - started < 5:
        time.sleep(0.01)
    waited = time.monotonic() - started
    assert paths(api) == ["/p/0", "/p/1", "/p/2"]
    assert [p for _, p, _ in api.requests] == ["/api/v1/hit/batch"]  # together, in one request
    assert waited < 2.5, waited  # an interval of 0.05 s, with room for a loaded machine


def test_nothing_lost_or_duplicated_across_failures(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    """5xx bursts, a 429 with Retry-After, an expired token and refused connections."""
    from .conftest import CLIENT_ID, CLIENT_SECRET

    tracker = make_tracker(
        None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=api.base_url,
        batch_size=5,
        flush_interval=0.02,
        max_retries=500,  # the fast test backoff (<= 50 ms) must outlast 2.5 s down
    )
    api.fail_next(Reply(503), Reply(502), Reply(500, {"validation": {}, "error": ["db down"]}))
    track(tracker, 10, 0)
    assert tracker.flush(timeout=10)
    api.fail_next(Reply(429, {"validation": {}, "error": ["slow"]}, {"Retry-After": "0.3"}))
    started = time.monotonic()
    track(tracker, 10, 10)
    assert tracker.flush(timeout=10)
    assert time.monotonic() - started >= 0.3
    api.expire_tokens()
    track(tracker, 10, 20)
    assert tracker.flush(timeout=10)
    with api.down():
        track(tracker, 10, 30)
        time.sleep(2.5)
        track(tracker, 10, 40)
    assert tracker.flush(timeout=10)
    assert paths(api) == [f"/p/{i}" for i in range(50)]
    stats = tracker.stats()
    assert stats.sent == 50
    assert stats.dropped == {}
    assert stats.retried >= 5
    assert api.tokens_issued == 2


def test_failed_batch_is_retried_before_later_ones(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, batch_size=2, max_retries=20)
    api.fail_next(*[Reply(503)] * 4)
    track(tracker, 8)
    assert tracker.flush(timeout=10)
    assert paths(api) == [f"/p/{i}" for i in range(8)]
    times = [h["time"] for h in api.hits]
    assert times == sorted(times)


def test_rejected_record_is_isolated_and_the_rest_delivered(
    api: FakePirschAPI, make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    api.reject = lambda kind, item: "bad page" if item["url"].endswith(("/p/3", "/p/6")) else None
    tracker = make_tracker(api, batch_size=8)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        track(tracker, 8)
        assert not tracker.flush(timeout=5)  # two were dropped
        tracker.close(timeout=5)
    assert paths(api) == ["/p/0", "/p/1", "/p/2", "/p/4", "/p/5", "/p/7"]
    assert tracker.stats().dropped == {"rejected": 2}
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected a hit" in m and "bad page" in m for m in messages)
    assert any("dropped 2 records (rejected: 2)" in m for m in messages)


def test_retries_are_limited(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api, max_retries=2)
    api.fail_next(*[Reply(503)] * 3)
    track(tracker, 1)
    assert not tracker.flush(timeout=5)  # given up
    track(tracker, 1, 1)
    assert tracker.flush(timeout=5)
    assert paths(api) == ["/p/1"]
    assert tracker.stats().dropped == {"retries_exhausted": 1}
    assert tracker.stats().retried == 2


def test_bad_credentials_drop_and_log_once(
    api: FakePirschAPI, make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, access_key="pa_" + "x" * 45, batch_size=1)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        track(tracker, 5)
        assert not tracker.flush(timeout=5)
    assert tracker.stats().dropped == {"unauthorized": 5}
    refused = [r for r in caplog.records if "refused the credentials" in r.getMessage()]
    assert len(refused) == 1


def test_queue_is_bounded_during_an_outage(
    api: FakePirschAPI, make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, max_queue_size=100, batch_size=10, max_retries=1000)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"), api.down():
        accepted = sum(tracker.track_page_view(request(f"/p/{i}")) for i in range(5_000))
        stats = tracker.stats()
        assert stats.pending <= 100
        assert accepted <= 110
        assert stats.dropped["queue_full"] == 5_000 - accepted
    assert tracker.flush(timeout=10)
    assert tracker.stats().sent == accepted
    tracker.close(timeout=2)
    drops = [r for r in caplog.records if "queue_full" in r.getMessage()]
    assert len(drops) == 1


def test_memory_stays_flat_during_a_long_outage(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    import tracemalloc

    tracker = make_tracker(api, max_queue_size=1_000, max_retries=1000)
    track(tracker, 1)
    assert tracker.flush(timeout=5)  # the HTTP stack is imported and connected before measuring
    with api.down():
        for i in range(2_000):
            tracker.track_page_view(request(f"/p/{i}"))
        tracemalloc.start()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20_000):
            tracker.track_page_view(request(f"/q/{i}"))
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    assert tracker.stats().dropped["queue_full"] >= 20_000
    # 20,000 hits would hold about 20 MB; dropped, they leave nothing but a batch's room (the
    # batch being retried, as JSON bodies and their request: some 0.5 MB).
    assert grown < 1_000_000


def test_slow_api_does_not_slow_the_caller(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    api.delay = 1.0
    tracker = make_tracker(api, batch_size=1)
    track(tracker, 20)
    # Every call returned while the API was still answering the first batch: no caller waited.
    assert api.received == []
    assert tracker.stats().pending >= 19
    assert not tracker.flush(timeout=0.1)


def test_close_stops_at_its_deadline_and_counts_the_rest(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, max_retries=1000, retry_backoff=0.05)
    with api.down():
        track(tracker, 10)
        started = time.monotonic()
        assert tracker.close(timeout=0.5)
        assert time.monotonic() - started < 2
    assert tracker.stats().dropped == {"shutdown": 10}
    assert not tracker.track_page_view(request())
    assert tracker.stats().dropped == {"shutdown": 10, "closed": 1}
    assert tracker.flush(timeout=5)  # returns at once: nothing can be waiting any more


def test_mixed_kinds_keep_their_order(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api)
    tracker.track_page_view(request("/a"))
    tracker.track_event(request("/a"), "Click")
    tracker.track_session(request("/a"))
    tracker.track_page_view(request("/b"))
    assert tracker.flush(timeout=5)
    assert [r.kind for r in api.received] == ["hit", "event", "session", "hit"]
    assert [p for _, p, _ in api.requests] == [
        "/api/v1/hit/batch",
        "/api/v1/event/batch",
        "/api/v1/session/batch",
        "/api/v1/hit/batch",
    ]


def test_sync_mode_sends_inline(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(api, sync=True)
    assert tracker.track_page_view(request("/now"))
    assert paths(api) == ["/now"]
    assert tracker._sender._thread is None  # type: ignore[union-attr]  # no thread: sync mode
    assert tracker.stats().sent == 1
    tracker.close()
    assert not tracker.track_page_view(request("/after-close"))
    assert tracker.stats().dropped == {"closed": 1}
    assert paths(api) == ["/now"]


def test_without_credentials_records_are_logged(
    make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "pirsch_middleware"):
        tracker = make_tracker(None)
        tracker.track_page_view(request("/logged"))
        assert tracker.flush(timeout=5)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no Pirsch credentials" in m for m in messages) == 1
    assert any(
        m.startswith("pirsch_middleware: would send hit {") and "/logged" in m for m in messages
    )


def test_before_send_may_change_or_drop(api: FakePirschAPI, make_tracker: MakeTracker) -> None:
    def scrub(record: Any) -> Any:
        if record.url.endswith("/secret"):
            return None
        record.url = record.url.split("?")[0]
        return record

    tracker = make_tracker(api, before_send=scrub)
    tracker.track_page_view(request("/x", query="token=abc"))
    tracker.track_page_view(request("/secret"))
    assert tracker.flush(timeout=5)
    assert paths(api) == ["/x"]
    assert tracker.stats().skipped == {"before_send": 1}


def test_before_send_error_never_reaches_the_caller(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    def broken(record: Any) -> Any:
        raise RuntimeError("bug")

    tracker = make_tracker(api, before_send=broken)
    assert tracker.track_page_view(request()) is True  # queued; before_send runs in the sender
    assert not tracker.flush(timeout=5)
    assert tracker.stats().dropped == {"before_send_error": 1}
    assert api.hits == []


def test_before_send_returning_no_record_drops_that_record_alone(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    def odd(record: Any) -> Any:
        return {"url": record.url} if record.url.endswith("/odd") else record

    tracker = make_tracker(api, before_send=odd)
    for path in ("/a", "/odd", "/b"):
        tracker.track_page_view(request(path))
    assert not tracker.flush(timeout=5)
    assert paths(api) == ["/a", "/b"]
    assert tracker.stats().dropped == {"before_send_error": 1}


def test_records_are_built_and_before_send_runs_in_the_sender_thread(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    threads: list[str] = []

    def note(record: Any) -> Any:
        threads.append(threading.current_thread().name)
        return record

    tracker = make_tracker(api, before_send=note)
    tracker.track_page_view(request("/a"))
    tracker.track_page_view(request("/b", host="bad host"))  # known only when built
    assert tracker.flush(timeout=5)
    assert threads == ["pirsch-sender"]
    assert paths(api) == ["/a"]
    assert tracker.stats().skipped == {"bad_host": 1}


def test_secrets_never_reach_the_log(
    api: FakePirschAPI, make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    from .conftest import CLIENT_ID

    wrong_secret = "z" * 64
    with caplog.at_level(logging.DEBUG):
        tracker = make_tracker(
            None,
            client_id=CLIENT_ID,
            client_secret=wrong_secret,
            base_url=api.base_url,
            max_retries=1,
        )
        track(tracker, 3)
        assert not tracker.flush(timeout=5)
        keyed = make_tracker(api, access_key="pa_" + "q" * 45)
        api.fail_next(Reply(400, {"validation": {}, "error": ["nope"]}))
        track(keyed, 1)
        assert not keyed.flush(timeout=5)
        tracker.close(timeout=2)
        keyed.close(timeout=2)
    text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "refused the credentials" in text  # the failure was logged ...
    assert wrong_secret not in text  # ... without the secret
    assert "q" * 45 not in text
    assert wrong_secret not in repr(tracker)
    assert "q" * 45 not in repr(keyed)


@pytest.mark.parametrize("hook", [False, True], ids=["body", "record for before_send"])
def test_a_record_that_cannot_be_built_is_dropped_alone(
    api: FakePirschAPI, make_tracker: MakeTracker, monkeypatch: pytest.MonkeyPatch, hook: bool
) -> None:
    tracker = make_tracker(api, before_send=(lambda record: record) if hook else None)
    build = tracker._extractor.build
    built: list[bool] = []

    def fragile(draft: Any, as_body: bool) -> Any:
        built.append(as_body)
        if draft[6] == "/broken":  # the path
            raise RuntimeError("bug")
        return build(draft, as_body)

    monkeypatch.setattr(tracker._extractor, "build", fragile)
    for path in ("/a", "/broken", "/b"):
        tracker.track_page_view(request(path))
    assert not tracker.flush(timeout=5)
    assert paths(api) == ["/a", "/b"]
    assert tracker.stats().dropped == {"error": 1}
    # Without a hook the sender builds the JSON body from the draft; with one, the record.
    assert built == [not hook] * 3


def arrived_after(api: FakePirschAPI, count: int, started: float, timeout: float = 10) -> float:
    """Seconds from ``started`` until ``count`` records had arrived (``inf`` if they never did)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(api.received) >= count:
            return time.monotonic() - started
        time.sleep(0.005)
    return float("inf")


def test_idle_record_waits_flush_interval_for_company_and_no_longer(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, flush_interval=0.8)
    track(tracker, 1)  # starts the sender thread
    assert tracker.flush(timeout=5)
    started = time.monotonic()
    track(tracker, 3, 1)
    waited = arrived_after(api, 4, started)
    assert 0.6 <= waited < 3.0
    assert paths(api) == [f"/p/{i}" for i in range(4)]
    assert len([p for _, p, _ in api.requests if p == "/api/v1/hit/batch"]) == 2


def test_by_default_an_idle_record_leaves_within_a_fraction_of_a_second(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api)
    track(tracker, 1)
    assert tracker.flush(timeout=5)
    started = time.monotonic()
    track(tracker, 1, 1)
    # The default flush_interval (0.1 s) bounds what a process that dies unwarned loses.
    assert arrived_after(api, 2, started) < 0.6
    assert paths(api) == ["/p/0", "/p/1"]


def trickle(tracker: Tracker, n: int, every: float, start: int = 0) -> threading.Thread:
    """A thread that tracks ``n`` page views, one every ``every`` seconds: a busy app's."""

    def run() -> None:
        for i in range(start, start + n):
            track(tracker, 1, i)
            time.sleep(every)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def batch_posts(api: FakePirschAPI) -> int:
    return len([p for _, p, _ in api.requests if p == "/api/v1/hit/batch"])


def test_records_that_keep_coming_fill_one_batch_past_the_flush_interval(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, flush_interval=0.3)
    track(tracker, 1)  # starts the sender thread
    assert tracker.flush(timeout=5)
    # 40 records over 0.8 s: nearly three flush intervals, each with records arriving; then quiet.
    trickle(tracker, 40, 0.02, 1).join()
    assert arrived_after(api, 41, time.monotonic()) < 5
    assert paths(api) == [f"/p/{i}" for i in range(41)]
    # One batch once they stopped coming (two if this machine stalled the trickle a whole
    # interval), where each interval used to send its own.
    assert batch_posts(api) - 1 <= 2, batch_posts(api)


def test_records_that_keep_coming_leave_once_the_oldest_waited_a_second(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, flush_interval=0.4)
    track(tracker, 1)
    assert tracker.flush(timeout=5)
    started = time.monotonic()
    producer = trickle(tracker, 300, 0.01, 1)  # 3 s or more of records, 100 a second at most
    waited = arrived_after(api, 2, started)
    producer.join()
    # Not after the first flush_interval (records kept coming), nor much after a second.
    assert 0.7 <= waited < 2.5, waited
    assert arrived_after(api, 301, started) < 10
    assert paths(api) == [f"/p/{i}" for i in range(301)]


def test_failed_batch_stays_ahead_of_every_waiting_record(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, batch_size=2, flush_interval=60, max_retries=20)
    api.fail_next(*[Reply(503)] * 3)  # not a multiple of the batches waiting: no rotation back
    track(tracker, 8)
    assert tracker.flush(timeout=10)
    assert paths(api) == [f"/p/{i}" for i in range(8)]
    sent = [p for _, p, _ in api.requests if p == "/api/v1/hit/batch"]
    assert len(sent) == 4 + 3


def test_flush_is_false_when_anything_it_waited_for_was_dropped(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, max_retries=0)
    api.fail_next(Reply(503))
    track(tracker, 2)
    assert not tracker.flush(timeout=5)
    track(tracker, 2, 2)
    assert tracker.flush(timeout=5)  # the earlier loss is not this flush's
    assert paths(api) == ["/p/2", "/p/3"]
    assert tracker.stats().dropped == {"retries_exhausted": 2}


def test_outage_that_ends_during_close_loses_nothing_and_keeps_order(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    # Far into backoff when close() starts (max_retries would give up long before the end).
    tracker = make_tracker(
        api, batch_size=5, max_retries=2, retry_backoff=10.0, retry_backoff_max=10.0
    )
    api.stop()
    track(tracker, 30)
    time.sleep(0.3)  # the first batch has failed and waits out its backoff
    threading.Timer(1.5, api.start).start()
    started = time.monotonic()
    assert tracker.close(timeout=5)
    took = time.monotonic() - started
    assert paths(api) == [f"/p/{i}" for i in range(30)]
    assert tracker.stats().dropped == {}
    assert tracker.stats().sent == 30
    assert 1.4 < took < 4.0


def test_api_that_never_answers_at_close_counts_and_logs_in_flight_and_queued(
    api: FakePirschAPI, make_tracker: MakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    api.delay = 30.0
    tracker = make_tracker(api, batch_size=4, flush_interval=60, timeout=20.0)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        track(tracker, 4)  # one batch in flight ...
        time.sleep(0.3)
        track(tracker, 6, 4)  # ... and six queued behind it
        started = time.monotonic()
        assert not tracker.close(timeout=1.0)  # cut short: the request is still open
        took = time.monotonic() - started
    assert took < 2.0
    assert tracker.stats().dropped == {"shutdown": 10}
    assert tracker.stats().pending == 0
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert drops == ["pirsch_middleware: dropped 10 records (shutdown: 10)"]


def test_retry_after_a_timeout_counts_the_batch_as_maybe_duplicated(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(api, batch_size=3, timeout=0.3)
    api.fail_next(Reply(503), Reply(503, delay=2.0))  # an answer, then none in time
    track(tracker, 3)
    assert tracker.flush(timeout=10)
    stats = tracker.stats()
    assert stats.retried == 2
    assert stats.maybe_duplicated == 3  # only the retry after the timeout
    assert paths(api) == ["/p/0", "/p/1", "/p/2"]


def test_request_started_during_close_ends_by_the_deadline(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    api.delay = 30.0
    tracker = make_tracker(api, flush_interval=60, timeout=20.0)
    track(tracker, 10)  # they wait for company: no request has started
    started = time.monotonic()
    assert tracker.close(timeout=1.0)  # the request's own timeout is cut to what is left
    assert time.monotonic() - started < 1.8
    assert tracker.stats().dropped == {"shutdown": 10}


def test_a_batch_close_gave_up_on_is_not_counted_again_by_its_worker(
    api: FakePirschAPI, make_tracker: MakeTracker
) -> None:
    """close() gives up on a worker that is slow past the deadline (here: in a retry pause) and
    counts its batch; the worker, going on past the deadline, must not count it again. Under
    load the two met: 6 dropped for 3 records. The pause is where the machine was slow."""
    api.fail_next(Reply(503))
    tracker = make_tracker(api, batch_size=3, flush_interval=60)
    sender = tracker._sender
    assert isinstance(sender, Sender)  # one dashboard
    delivery = sender._delivery
    paused = threading.Event()

    def pause(seconds: float) -> None:
        delivery.close_by(time.monotonic() - 1.0)  # the deadline passed meanwhile ...
        sender._abandon()  # ... and close() gave up on this worker and counted its batch
        paused.set()

    delivery._pause = pause  # type: ignore[method-assign]
    track(tracker, 3)
    assert paused.wait(5)
    deadline = time.monotonic() + 5
    while delivery.in_flight or tracker.stats().pending:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # the worker returned from deliver(): nothing more is counted after this
    assert tracker.stats().dropped == {"shutdown": 3}
    assert tracker.stats().sent == 0
