"""Forks and interpreter exit, each in a subprocess of its own so the test process stays clean."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter

from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY

PRELUDE = """
import os, sys
from pirsch_middleware import RequestData, Tracker
tracker = Tracker(access_key={key!r}, base_url={url!r}, flush_interval=60, batch_size=1000, environ={{}})
def track(path):
    headers = {{"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "accept": "text/html",
               "accept-language": "en", "accept-encoding": "gzip"}}
    assert tracker.track_page_view(RequestData("GET", "https", "example.com", path, "", "198.51.100.1", headers))
"""


def run(api: FakePirschAPI, body: str) -> subprocess.CompletedProcess[str]:
    code = PRELUDE.format(key=ACCESS_KEY, url=api.base_url) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def delivered(api: FakePirschAPI) -> Counter[str]:
    return Counter(h["url"].removeprefix("https://example.com") for h in api.hits)


def test_hits_queued_right_before_a_normal_exit_arrive(api: FakePirschAPI) -> None:
    result = run(
        api,
        """
        for i in range(20):
            track(f"/exit/{i}")
        # no flush, no close: the exit hook must deliver them
    """,
    )
    assert result.returncode == 0, result.stderr
    assert delivered(api) == Counter({f"/exit/{i}": 1 for i in range(20)})


def test_forked_child_delivers_its_own_hits_only(api: FakePirschAPI) -> None:
    result = run(
        api,
        """
        for i in range(5):
            track(f"/parent/{i}")          # queued in the parent, worker thread running
        pid = os.fork()
        if pid == 0:
            for i in range(3):
                track(f"/child/{i}")
            os._exit(0 if tracker.close(timeout=10) else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        track("/parent/after-fork")
        assert tracker.close(timeout=10)
    """,
    )
    assert result.returncode == 0, result.stderr
    expected = [f"/parent/{i}" for i in range(5)] + [
        "/child/0",
        "/child/1",
        "/child/2",
        "/parent/after-fork",
    ]
    assert delivered(api) == Counter(expected)


def test_multiprocessing_fork_workers_each_send_their_own(api: FakePirschAPI) -> None:
    result = run(
        api,
        """
        import multiprocessing
        track("/before")
        def work(n):
            for i in range(4):
                track(f"/worker{n}/{i}")
            return tracker.flush(timeout=10)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            assert all(pool.map(work, range(3)))
        assert tracker.close(timeout=10)
    """,
    )
    assert result.returncode == 0, result.stderr
    expected = ["/before"] + [f"/worker{n}/{i}" for n in range(3) for i in range(4)]
    assert delivered(api) == Counter(expected)


def test_child_forked_without_fork_hooks_starts_its_own_sender(api: FakePirschAPI) -> None:
    """As uWSGI forks its workers: Python's at-fork handlers never run in the child, so the
    parent's sender thread still looks alive there."""
    result = run(
        api,
        """
        import ctypes, time
        track("/parent/0")
        assert tracker.flush(timeout=10)      # the parent's sender thread is running
        track("/parent/1")                    # ... and holds one record
        time.sleep(0.5)  # the thread now waits in C: the fork catches it holding no lock
        libc = ctypes.PyDLL(None)             # holds the GIL: a fork as a C server makes it
        pid = libc.fork()
        if pid == 0:
            track("/child/0")
            track("/child/1")
            ok = tracker.close(timeout=10)
            os._exit(0 if ok and tracker.stats().sent == 2 else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert tracker.close(timeout=10)
    """,
    )
    assert result.returncode == 0, result.stderr
    assert delivered(api) == Counter(["/parent/0", "/parent/1", "/child/0", "/child/1"])
