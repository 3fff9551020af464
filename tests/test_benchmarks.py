"""The benchmarks run with tiny counts, so they do not rot. Nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("script", "args", "unit"),
    [
        ("core.py", ["50", "1"], "us"),
        ("adapters.py", ["50", "1"], "us"),
        ("bots.py", ["5"], "us"),
        ("memory.py", ["100"], "MB"),
    ],
)
def test_benchmark_runs(script: str, args: list[str], unit: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert unit in result.stdout
