"""The benchmark suite runs with tiny counts, so it does not rot, and its records really reach
the fake API (each benchmark exits non-zero when they do not). Nothing here is timed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_whole_suite_runs_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    headings = (
        "Hot path",
        "The floor of deciding",
        "Delivery throughput",
        "Batch encoding",
        "Memory",
        "Latency under load",
    )
    for heading in headings:
        assert f"## {heading}" in text
    assert "| WSGI (Flask) | tracked page view |" in text
    assert "| Django async | bare app |" in text
    # each framework's noise is measured in the run: a second bare app, timed as a case
    for framework in ("ASGI (Starlette)", "WSGI (Flask)", "Django sync", "Django async"):
        assert f"| {framework} | bare app, again (noise) |" in text
    assert "| pirsch_middleware, API stalled |" in text
    assert "| skeleton, both later |" in text
    for framework in ("ASGI (Starlette)", "WSGI (Flask)", "Django sync"):
        assert f"| {framework} | least possible tracker |" in text
        assert f"| {framework} | posthog capture() per request |" in text
    assert text.index("## Targets") < text.index("## Hot path")
    # posthog's own thread delivered to the local sink: its row is a real peer, not a queue put
    received = re.search(r"(\d+) received by the local sink", text)
    assert received is not None
    assert int(received.group(1)) > 0
    assert "FAILED" not in text
    # The benchmarks end non-zero when their records did not arrive; the delivery benchmark
    # also says how many the fake API received.
    assert "received by the API: 500 of 500 batched, 20 of 20 single" in text
