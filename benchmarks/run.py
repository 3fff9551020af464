"""Every benchmark in one run; the tables are printed and written to benchmarks/results.md.

Run: python benchmarks/run.py            (several minutes on 2 cores)
     python benchmarks/run.py --quick    (tiny counts: checks that everything still runs)

Each benchmark runs in its own process, so one's threads and caches cannot slow another.
The hot path's table of issue 15's targets (ratios within its run) is repeated at the top.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = "### Targets of issue 15"
FULL = {
    "Hot path: µs per request": ("hotpath.py", ["10000", "100", "delivering"]),
    "Core alone: µs per request": ("core.py", ["20000", "5"]),
    "The floor of deciding on the request path": ("floor.py", ["20"]),
    "Delivery throughput": ("delivery.py", ["50000", "2000"]),
    "Batch encoding": ("encode.py", ["50000", "5"]),
    "Memory under outage": ("memory.py", ["1000000"]),
    "Latency under load through uvicorn": ("latency.py", ["300", "8", "5"]),
    "Bot detection": ("bots.py", ["500"]),
}
QUICK = {
    "Hot path: µs per request": ("hotpath.py", ["50", "1", "delivering"]),
    "Core alone: µs per request": ("core.py", ["50", "1"]),
    "The floor of deciding on the request path": ("floor.py", ["1"]),
    "Delivery throughput": ("delivery.py", ["500", "20"]),
    "Batch encoding": ("encode.py", ["500", "1"]),
    "Memory under outage": ("memory.py", ["1000"]),
    "Latency under load through uvicorn": ("latency.py", ["20", "0.5", "1"]),
    "Bot detection": ("bots.py", ["5"]),
}


def main() -> int:
    quick = "--quick" in sys.argv
    out = (
        Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else HERE / "results.md"
    )
    plan = QUICK if quick else FULL
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    parts = [
        "# Benchmark results",
        "",
        f"{started}; Python {platform.python_version()}; {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs{'; QUICK (tiny counts)' if quick else ''}.",
        "",
    ]
    failed = 0
    head = len(parts)
    for title, (script, args) in plan.items():
        print(f"== {title}", flush=True)
        done = subprocess.run(  # noqa: S603 - our interpreter, our scripts
            [sys.executable, str(HERE / script), *args], capture_output=True, text=True
        )
        text = done.stdout.strip() if done.returncode == 0 else f"FAILED:\n{done.stderr[-2000:]}"
        failed += done.returncode != 0
        print(text + "\n", flush=True)
        parts += [f"## {title}", "", f"`python benchmarks/{script} {' '.join(args)}`", "", text, ""]
        if TARGETS in text:
            found = text[text.index(TARGETS) + len(TARGETS) :].strip()
            parts[head:head] = ["## Targets (issue 15; from the hot path)", "", found, ""]
            head += 4
    out.write_text("\n".join(parts))
    print(f"written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
