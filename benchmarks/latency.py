"""Latency under load through a real server: p50/p99 of a uvicorn-served page under a fixed
request rate from a second process on 127.0.0.1, without the middleware, with it and a healthy
Pirsch API, and with it and a stalled one.

Run: python benchmarks/latency.py [requests per second] [seconds] [repetitions]

A p99 from a few thousand samples moves by milliseconds from run to run on a shared machine, so
the three cases run in turn, several times over (a fresh server each time), and the table shows
the median of the repetitions with the range of p99 beside it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from _support import ACCESS_KEY, BROWSER, fake_api, require, table

HERE = os.path.dirname(os.path.abspath(__file__))


def load(url: str, rate: float, seconds: float, workers: int = 16) -> dict[str, float]:
    """Open-loop load: request i is due at start + i / rate; latency from send to answer."""
    import httpx

    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))
    start = time.perf_counter() + 0.2

    def worker() -> None:
        nonlocal errors
        headers = {k: v for k, v in BROWSER if k != "host"}
        with httpx.Client(headers=headers, timeout=10) as client:
            for i in counter:
                due = start + i / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sent = time.perf_counter()
                try:
                    ok = client.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - sent
                with lock:
                    latencies.append(took)
                    errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "count": len(latencies),
        "errors": errors,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_and_load(env: dict[str, str], rate: float, seconds: float) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our app
        [
            sys.executable, "-m", "uvicorn", "latency_app:app", "--app-dir", HERE,
            "--port", str(port), "--no-access-log", "--log-level", "warning",
        ],
        env={**os.environ, **env},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        # The load comes from a second process, as it would from clients.
        done = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--load", url, str(rate), str(seconds)],
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, float] = json.loads(done.stdout)
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 300
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    repetitions = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    env_base = {"PIRSCH_ACCESS_KEY": ACCESS_KEY}
    rows = []
    with fake_api() as healthy, fake_api(delay=3600) as stalled:
        cases = [
            ("no middleware", {"BENCH_PIRSCH": "0"}),
            (
                "pirsch_middleware, API healthy",
                {"BENCH_PIRSCH": "1", "PIRSCH_BASE_URL": healthy.url},
            ),
            (
                "pirsch_middleware, API stalled",
                {"BENCH_PIRSCH": "1", "PIRSCH_BASE_URL": stalled.url},
            ),
        ]
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in cases}
        for _ in range(repetitions):
            for name, env in cases:
                runs[name].append(serve_and_load({**env_base, **env}, rate, seconds))
        # Each page served with a healthy API is a page view, delivered at the server's shutdown
        # (a request the client gave up on may still have been served, and tracked).
        healthy_runs = runs["pirsch_middleware, API healthy"]
        served = sum(r["count"] - r["errors"] for r in healthy_runs)
        sent = sum(r["count"] for r in healthy_runs)
        received = healthy.received()
        require(
            0 < served <= received <= sent,
            f"{sent} requests, {served} answered, {received} page views received",
        )
    base = statistics.median(r["p99"] for r in runs["no middleware"])
    for name, results in runs.items():
        p99s = [r["p99"] for r in results]
        p99 = statistics.median(p99s)
        rows.append(
            [
                name,
                f"{int(sum(r['count'] for r in results))}",
                f"{int(sum(r['errors'] for r in results))}",
                f"{statistics.median(r['p50'] for r in results):.2f}",
                f"{p99:.2f}",
                f"{min(p99s):.2f} to {max(p99s):.2f}",
                f"{p99 / base:.2f}x",
            ]
        )
    header = ["case", "requests", "errors", "p50 ms", "p99 ms", "p99 range ms", "p99 vs none"]
    print(table(header, rows))
    print(
        f"\n({rate:g} requests/s for {seconds:g} s from a second process, 16 connections; "
        f"{repetitions} repetitions in turn, medians)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        print(json.dumps(load(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))))
    else:
        main()
