"""What the benchmarks share: the fake API in its own process, timing, browser headers, tables."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

BROWSER = [
    ("host", "example.com"),
    (
        "user-agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "de-DE,de;q=0.9,en;q=0.8"),
    ("accept-encoding", "gzip, deflate, br"),
    ("referer", "https://news.example.org/"),
    ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Windows"'),
    ("cookie", "session=abc123; theme=dark"),
]
ACCESS_KEY = "pa_" + "b" * 45


class FakeAPIProcess:
    """The fake Pirsch API running in a child process: its ``url``, and how many records it has
    accepted so far (:meth:`received`), so a benchmark can check its records really arrived."""

    def __init__(self, child: subprocess.Popen[str]) -> None:
        assert child.stdin is not None
        assert child.stdout is not None
        self._child, self._stdin, self._stdout = child, child.stdin, child.stdout
        self.url = self._stdout.readline().strip()

    def received(self) -> int:
        self._stdin.write("\n")
        self._stdin.flush()
        return int(self._stdout.readline())


@contextmanager
def fake_api(delay: float = 0.0) -> Iterator[FakeAPIProcess]:
    """The fake Pirsch API in its own process (its JSON parsing must not share our GIL).
    ``delay`` makes every answer that slow: a stalled API."""
    code = (
        "import sys\n"
        "from pirsch_middleware.testing import FakePirschAPI\n"
        f"api = FakePirschAPI(); api.delay = {delay!r}; api.start()\n"
        "print(api.base_url, flush=True)\n"
        "for _ in sys.stdin:\n"
        "    print(len(api.received), flush=True)\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        yield FakeAPIProcess(child)
    finally:
        child.kill() if delay else child.communicate("", timeout=30)


def require(ok: bool, message: str) -> None:
    """End the benchmark with exit status 1 when a run did not do what it measured (records
    not delivered, not counted): its numbers would mean nothing."""
    if not ok:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
