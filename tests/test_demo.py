"""The README's first command: ``python -m pirsch_middleware demo``, in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pirsch_middleware import _demo
from pirsch_middleware.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def run_demo(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))}
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
    assert len(received) == 4
    assert sorted(kind for kind, _ in received) == ["event", "hit", "hit", "hit"]
    assert any(url.endswith("/pricing?utm_source=newsletter") for _, url in received)
    assert "ip=198.51.100.23" in out  # X-Forwarded-For from 127.0.0.1, a trusted proxy
    assert "sent 4, dropped 0" in out


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
