"""The README's first command: ``python -m pirsch_middleware demo``, in a fresh process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pirsch_middleware import _demo
from pirsch_middleware.__main__ import main
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY

ROOT = Path(__file__).resolve().parent.parent


def run_demo(*args: str, cwd: Path = ROOT, **pirsch: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))}
    env.update(pirsch)
    return subprocess.run(
        [sys.executable, "-m", "pirsch_middleware", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("app", ["starlette", "fastapi", "flask", "django"])
def test_demo_serves_the_example_app_and_shows_what_arrives(app: str) -> None:
    done = run_demo("--app", app)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"the {app} example app, sending to a local stand-in of the Pirsch API" in out
    assert "/static/site.css" in out
    assert "not a page view (excluded_path)" in out
    assert "not a page view (bot)" in out
    assert "not a page view (partial)" in out  # an htmx fragment
    assert "not a page view (not_navigation)" in out  # a fetch()
    received = [line.split()[3:5] for line in out.splitlines() if "Pirsch API received" in line]
    assert len(received) == 6
    kinds = ["event", "event", "hit", "hit", "hit", "session"]
    assert sorted(kind for kind, _ in received) == kinds
    assert any(url.endswith("/pricing?utm_source=newsletter") for _, url in received)
    assert "ip=198.51.100.23" in out  # X-Forwarded-For from 127.0.0.1, a trusted proxy
    # The page's first-party snippet: its script, an outbound link's click, a keep-alive.
    assert "/p/pa.js" in out
    assert "Outbound Link Click" in out
    assert out.count("answered by the snippet proxy") == 3
    assert "sent 6, dropped 0" in out


def test_demo_is_the_default_command_for_starlette() -> None:
    assert "the starlette example app" in run_demo().stdout


def test_demo_without_the_example_apps_says_where_to_run_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An installed wheel has no example_apps (this checkout's editable install always has).
    for name in ("PIRSCH_ACCESS_KEY", "PIRSCH_CLIENT_ID", "PIRSCH_BASE_URL"):
        monkeypatch.setenv(name, "")
    monkeypatch.setitem(_demo.APPS, "starlette", "example_apps.not_in_this_install")
    assert main(["demo"]) == 2
    assert "run it from the repository root" in capsys.readouterr().out


def test_demo_with_a_wrong_key_in_the_shell_names_the_api_and_fails(api: FakePirschAPI) -> None:
    api.access_keys = {ACCESS_KEY}
    done = run_demo(PIRSCH_ACCESS_KEY="pa_" + "w" * 45, PIRSCH_BASE_URL=api.base_url)
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert f"sending to the Pirsch API at {api.base_url} with the credentials in your" in first
    assert "sent 0, dropped 6" in done.stdout
    assert "Not everything reached the Pirsch API: 0 accepted" in done.stdout
    assert "dashboard" not in done.stdout
    assert api.received == []


def test_demo_with_two_dashboards_in_the_shell_counts_each(api: FakePirschAPI) -> None:
    rollup_key = "pa_" + "r" * 45
    api.access_keys = {ACCESS_KEY, rollup_key}
    done = run_demo(
        PIRSCH_ACCESS_KEY=ACCESS_KEY,
        PIRSCH_DESTINATIONS=f"rollup={rollup_key}",
        PIRSCH_BASE_URL=api.base_url,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    total = re.search(r"^sent (\d+), dropped 0,", done.stdout, re.MULTILINE)
    assert total is not None, done.stdout
    each = int(total[1]) // 2  # every record the demo makes, once to each dashboard
    assert each >= 4
    assert int(total[1]) == 2 * each
    assert f"  main: sent {each}, dropped 0\n  rollup: sent {each}, dropped 0\n" in done.stdout
    assert Counter(r.token for r in api.received) == {ACCESS_KEY: each, rollup_key: each}
    assert rollup_key not in done.stdout + done.stderr


def test_demo_with_the_api_down_fails() -> None:
    with FakePirschAPI() as api:
        base_url = api.base_url
    done = run_demo(PIRSCH_ACCESS_KEY=ACCESS_KEY, PIRSCH_BASE_URL=base_url, PIRSCH_MAX_RETRIES="0")
    assert done.returncode == 1
    assert "Not everything reached the Pirsch API: 0 accepted" in done.stdout


@contextmanager
def fake_api_command() -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """``python -m pirsch_middleware fake-api`` on a free port: the process, its base URL and
    the five lines it prints first; stopped (SIGTERM, its normal end) after the block, when what
    it printed last is added to those lines."""
    from .test_servers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIRSCH_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pirsch_middleware", "fake-api", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        lines += [process.stdout.readline() for _ in range(5)]
        yield process, f"http://127.0.0.1:{port}", lines
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
        lines.append(out)


def test_fake_api_command_prints_each_record_as_it_arrives() -> None:
    from pirsch_middleware import PirschClient

    with fake_api_command() as (process, base, lines):
        assert process.stdout is not None
        assert f"PIRSCH_BASE_URL={base} PIRSCH_ACCESS_KEY=pa_" in lines[2]
        hit = {"url": "https://example.com/a", "ip": "203.0.113.7", "user_agent": "UA"}
        with PirschClient(access_key=ACCESS_KEY, base_url=base) as client:
            client.hit({**hit, "title": "Page A"})
            client.event({**hit, "event_name": "Signup"})
        received = [process.stdout.readline().split() for _ in range(2)]
        assert received[0] == [
            "Pirsch",
            "API",
            "received",
            "hit",
            hit["url"],
            "Page",
            "A",
            "ip=203.0.113.7",
        ]
        assert received[1][3:6] == ["event", hit["url"], "Signup"]
    assert process.returncode == 0
    assert "2 records received." in lines[-1]


def test_demo_into_a_closed_pipe_ends_without_a_traceback() -> None:
    read, write = os.pipe()
    os.close(read)  # as "| head" does once it has its lines
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pirsch_middleware", "demo"],
        cwd=ROOT,
        env=env,
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(write)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
