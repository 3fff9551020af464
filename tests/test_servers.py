"""End to end: the example apps under real servers on 127.0.0.1, against the fake Pirsch API.

Each server runs in its own process group, gets real HTTP traffic, and is stopped with SIGTERM;
then every tracked request must have reached the fake API exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, BROWSER_HEADERS

ROOT = Path(__file__).resolve().parent.parent

SERVERS = {
    "starlette-uvicorn": [
        "-m", "uvicorn", "example_apps.starlette_app:app", "--no-proxy-headers", "--port", "{port}",
    ],
    "fastapi-uvicorn": [
        "-m", "uvicorn", "example_apps.fastapi_app:app", "--no-proxy-headers", "--port", "{port}",
    ],
    "flask-gunicorn": [
        "-m", "gunicorn", "--workers", "3", "--preload", "--bind", "127.0.0.1:{port}",
        "example_apps.flask_app:app",
    ],
    "django-gunicorn": [
        "-m", "gunicorn", "--workers", "2", "--preload", "--bind", "127.0.0.1:{port}",
        "example_apps.django_app.wsgi",
    ],
    "django-uvicorn": [
        "-m", "uvicorn", "example_apps.django_app.asgi:application", "--no-proxy-headers",
        "--port", "{port}",
    ],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(
    name: str,
    api: FakePirschAPI,
    tmp_path: Path,
    command: list[str] | None = None,
    **env: str,
) -> Iterator[tuple[httpx.Client, list[float]]]:
    """Run a server (``SERVERS[name]``, or ``command``: arguments to Python, ``{port}`` filled
    in); yield a client for it and a list the exit duration is put in. Its output is kept in
    ``tmp_path / f"{name}.log"``."""
    port = free_port()
    args = [sys.executable, *(a.format(port=port) for a in command or SERVERS[name])]
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))},
        "PIRSCH_ACCESS_KEY": ACCESS_KEY,
        "PIRSCH_BASE_URL": api.base_url,
        "PYTHONPATH": str(ROOT),
        **env,
    }
    log = (tmp_path / f"{name}.log").open("w+")
    process = subprocess.Popen(
        args, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    exit_took: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"{name} did not start:\n{log.read()}")
                time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=BROWSER_HEADERS) as client:
            yield client, exit_took
    finally:
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        exit_took.append(time.monotonic() - started)
        log.seek(0)
        output = log.read()
        log.close()
        assert "Traceback" not in output, output


@pytest.mark.parametrize("name", list(SERVERS))
def test_every_page_view_arrives_exactly_once_after_sigterm(
    name: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    with serve(name, api, tmp_path) as (client, _):
        for n in range(40):
            assert client.get(f"/?n={n}").status_code == 200
        for n in range(5):
            assert client.post("/signup", params={"n": n}).status_code == 200
        assert client.get("/pricing").status_code == 200
        assert client.get("/static/site.css").status_code == 200
        assert client.get("/api/status").json() == {"ok": True}
        assert client.get("/old").status_code in (301, 302)
        assert client.get("/", headers={"Sec-Purpose": "prefetch"}).status_code == 200
        assert client.get("/", headers={"User-Agent": "Googlebot/2.1"}).status_code == 200
    urls = sorted(hit["url"].split("/", 3)[3] for hit in api.hits)
    assert urls == sorted([f"?n={n}" for n in range(40)] + ["pricing"])
    assert sorted(e["url"].split("/", 3)[3] for e in api.events) == [
        f"signup?n={n}" for n in range(5)
    ]
    assert {e["event_name"] for e in api.events} == {"Signup"}
    assert {hit["ip"] for hit in api.hits} == {"127.0.0.1"}
    assert {hit["title"] for hit in api.hits} == {"Home & welcome", "Pricing"}


@pytest.mark.parametrize("name", ["starlette-uvicorn", "flask-gunicorn", "django-gunicorn"])
def test_forwarded_ip_counts_only_from_a_trusted_proxy(
    name: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    forged = {"X-Forwarded-For": "198.51.100.9"}
    with serve(name, api, tmp_path) as (client, _):  # 127.0.0.1 is a trusted proxy by default
        client.get("/", headers=forged)
    with serve(name, api, tmp_path, PIRSCH_TRUSTED_PROXIES="192.0.2.0/24") as (client, _):
        client.get("/", headers=forged)
    assert [hit["ip"] for hit in api.hits] == ["198.51.100.9", "127.0.0.1"]


@pytest.mark.parametrize("name", ["fastapi-uvicorn", "flask-gunicorn"])
def test_a_slow_or_dead_api_does_not_slow_responses(
    name: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    # Every ingestion request takes 2 s to answer: the records go in two batches (the first
    # leaves 0.1 s after the first request, the rest queue behind it), 4 s in all, within the
    # 5 s shutdown_timeout.
    api.delay = 2.0
    slowest = 0.0
    with serve(name, api, tmp_path) as (client, _):
        for n in range(30):
            started = time.monotonic()
            client.get(f"/?n={n}")
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.02)  # spread over several batches
    # The slowest response took a fraction of one API round trip; all 30 arrived.
    assert slowest < 1.5
    assert len(api.hits) == 30

    api.delay = 0.0
    with api.down(), serve(name, api, tmp_path) as (client, exit_took):
        started = time.monotonic()
        for n in range(30):
            client.get(f"/?n={n}")
        assert time.monotonic() - started < 3.0
    # Shutdown gives up after shutdown_timeout (5 s) instead of hanging on the dead API.
    assert exit_took[0] < 15


def _uvicorn(api: FakePirschAPI, port: int, *extra: str, **env: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "uvicorn", "example_apps.starlette_app:app", "--port", str(port)]
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))},
        "PIRSCH_ACCESS_KEY": ACCESS_KEY,
        "PIRSCH_BASE_URL": api.base_url,
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.Popen(
        [*args, *extra],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_bad_setting_under_uvicorn_stops_the_start_up_with_the_message(
    api: FakePirschAPI,
) -> None:
    process = _uvicorn(api, free_port(), PIRSCH_BATCH_SIZE="-1")
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0
    assert "PIRSCH_BATCH_SIZE: expected a whole number from 1 to 10000, got -1" in output
    assert "Application startup failed" in output


def test_bad_setting_without_lifespan_serves_untracked_with_one_error_line(
    api: FakePirschAPI,
) -> None:
    port = free_port()
    process = _uvicorn(api, port, "--lifespan", "off", PIRSCH_BATCH_SIZE="-1")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=BROWSER_HEADERS) as client:
            assert [client.get("/").status_code for _ in range(3)] == [200, 200, 200]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert output.count("PIRSCH_BATCH_SIZE: expected") == 1
    assert "Traceback" not in output
    assert api.received == []
