from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from pirsch_middleware import RequestData, Settings, Tracker
from pirsch_middleware.testing import FakePirschAPI

ACCESS_KEY = "pa_" + "k" * 45
CLIENT_ID = "c" * 32
CLIENT_SECRET = "s" * 64

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = {
    "user-agent": CHROME,
    "accept": "text/html,application/xhtml+xml",
    "accept-language": "de-DE,de;q=0.9,en;q=0.8",
    "accept-encoding": "gzip, deflate, br, zstd",
    "referer": "https://news.example.org/",
    "sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
}


def request(
    path: str = "/",
    *,
    method: str = "GET",
    query: str = "",
    peer: str | None = "203.0.113.7",
    host: str = "example.com",
    scheme: str = "https",
    headers: dict[str, str] | None = None,
    **extra_headers: str,
) -> RequestData:
    """A browser's request as an adapter would hand it over."""
    merged = dict(BROWSER_HEADERS if headers is None else headers)
    merged.update({k.replace("_", "-"): v for k, v in extra_headers.items()})
    return RequestData(method, scheme, host, path, query, peer, merged)


@pytest.fixture
def api() -> Iterator[FakePirschAPI]:
    with FakePirschAPI(access_keys=(ACCESS_KEY,), clients={CLIENT_ID: CLIENT_SECRET}) as fake:
        yield fake


def settings(api: FakePirschAPI | None = None, **options: Any) -> Settings:
    """Settings that never read this machine's environment."""
    base: dict[str, Any] = {"environ": {}, "retry_backoff": 0.01, "retry_backoff_max": 0.05}
    if api is not None:
        base.update(access_key=ACCESS_KEY, base_url=api.base_url)
    base.update(options)
    return Settings(**base)


@pytest.fixture
def make_tracker() -> Iterator[Any]:
    """Builds trackers and closes them after the test."""
    made: list[Tracker] = []

    def make(api: FakePirschAPI | None = None, **options: Any) -> Tracker:
        tracker = Tracker(settings(api, **options))
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.close(timeout=2)


@pytest.fixture(autouse=True)
def _fresh_log_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the first report of each kind (reports are rate-limited per process)."""
    from pirsch_middleware import context
    from pirsch_middleware.stats import RateLimitedLog

    monkeypatch.setattr(context, "_log", RateLimitedLog(30.0))


def require_binary(name: str) -> str:
    """The path of a program an end-to-end test drives (nginx, chromium, ...).

    Missing on a developer's machine, the test is skipped; missing in CI (``CI`` set, where
    ``.ci/run`` installs it), the test fails: a real part must never be skipped silently there.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it from Debian's packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
