"""What the benchmarks share: the fake API in its own process, timing, browser headers, tables,
the sender thread's CPU clock."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def analytics_sink() -> Iterator[tuple[str, list[int]]]:
    """A local stand-in for another analytics service's ingestion API, in its own process: it
    answers every POST with 200 and counts the events of the JSON batches it received. Yields
    its base URL and a list that holds that count once the block has ended."""
    code = (
        "import gzip, json, sys, threading\n"
        "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
        "count = 0\n"
        "class H(BaseHTTPRequestHandler):\n"
        "    def do_POST(self):\n"
        "        global count\n"
        "        body = self.rfile.read(int(self.headers.get('content-length', 0)))\n"
        "        if self.headers.get('content-encoding') == 'gzip': body = gzip.decompress(body)\n"
        "        count += len(json.loads(body).get('batch', [1]))\n"
        "        self.send_response(200); self.send_header('content-length', '13')\n"
        "        self.end_headers(); self.wfile.write(b'{\"status\": 1}')\n"
        "    def log_message(self, *args): pass\n"
        "server = ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=server.serve_forever, daemon=True).start()\n"
        "print(f'http://127.0.0.1:{server.server_address[1]}', flush=True)\n"
        "sys.stdin.read()\n"
        "print(count, flush=True)\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    received: list[int] = []
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip(), received
    finally:
        out, _ = child.communicate("", timeout=30)
        received.append(int(out.strip() or 0))


class SenderClock:
    """CPU time of a tracker's sender thread, the times it blocked, and the hits it delivered,
    between two reads."""

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        self.cpu, self.sent, self.blocked = self._read()

    def _read(self) -> tuple[float, int, int]:
        thread = self.tracker._sender._thread
        cpu, blocked = 0.0, 0
        if thread is not None and thread.ident is not None:
            cpu = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
            blocked = _voluntary_switches(thread.native_id)
        return cpu, self.tracker.stats().sent, blocked

    def per_hit(self) -> float | None:
        """µs of sender CPU per hit delivered since this clock was made; None if none was."""
        cpu, sent, _ = self._read()
        return (cpu - self.cpu) / (sent - self.sent) * 1e6 if sent > self.sent else None

    def blocked_per(self, hits: int) -> float | None:
        """How often the sender thread blocked (waited for the GIL, a socket, its queue) per
        ``hits`` delivered since this clock was made: each time costs it a context switch.
        None where the system does not say (Linux's ``/proc`` does) or nothing was delivered."""
        _, sent, blocked = self._read()
        if sent <= self.sent or not blocked:
            return None
        return (blocked - self.blocked) / (sent - self.sent) * hits


def _voluntary_switches(native_id: int | None) -> int:
    """A thread's voluntary context switches so far (Linux), 0 where unknown."""
    try:
        with open(f"/proc/self/task/{native_id}/status") as status:
            for line in status:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
