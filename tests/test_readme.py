"""The README's second set-up step's promise: every ```python block in README.md runs.

Each block is found by a snippet only it contains and run by one test here, with the few names it
takes for granted (an ``app``, a Django project) supplied by that test; the fake Pirsch API stands
in for the real one. A block no test claims fails ``test_every_block_is_run_or_named_in_skips``,
so a new block needs a runner or a named reason in ``SKIPS``. The demo, the first set-up step, is
run by ``tests/test_demo.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pirsch_middleware import Filter, Settings, tracked_request
from pirsch_middleware.environment import env_parser, env_var
from pirsch_middleware.testing import Capture, FakePirschAPI

from .conftest import ACCESS_KEY, BROWSER_HEADERS, CLIENT_ID, CLIENT_SECRET, request

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [
    textwrap.dedent(match.group(2))
    for match in re.finditer(r"(?ms)^( *)```python\n(.*?)^\1```", README)
]

#: The snippet that identifies each block, with the test that runs it.
RUN = {
    'app.add_middleware(PirschMiddleware, exclude_paths=["/admin/"])': "test_asgi_block",
    "app.wsgi_app = PirschMiddleware(app.wsgi_app)": "test_wsgi_block",
    "pirsch = Pirsch(app)": "test_flask_block",
    "# settings.py": "test_django_settings_block",
    "# asgi.py": "test_django_asgi_block",
    "def download(request, name):": "test_events_block",
    "async def report(may: Filter)": "test_async_statistics_block",
    'tracker = Tracker(access_key="pa_...")': "test_core_block",
    "def test_signup_sends_an_event(client, pirsch_capture):": "test_testing_your_app_block",
    "api.fail_next(Reply(503)": "test_fake_api_block",
    "def handler(event, context):": "test_serverless_block",
    "verdict = tracker.explain(": "test_explain_block",
    "TAG = snippet_tag(settings)": "test_snippet_tag_block",
}
#: Blocks run elsewhere, with the reason.
SKIPS = {
    "client.domains()[0]": "run by tests/test_statistics.py::test_readme_statistics_example_runs",
}


def block(snippet: str) -> str:
    (found,) = [b for b in BLOCKS if snippet in b]
    return found


def run(code: str, **names: Any) -> dict[str, Any]:
    namespace = {"__name__": "readme", **names}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


@pytest.fixture
def pirsch_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePirschAPI]:
    """The credentials and API address a reader would export, pointing at the fake API (which
    takes the README's "pa_..." as well)."""
    for name in [k for k in os.environ if k.startswith("PIRSCH_")]:
        monkeypatch.delenv(name)
    keys = (ACCESS_KEY, "pa_...")
    with FakePirschAPI(access_keys=keys, clients={CLIENT_ID: CLIENT_SECRET}) as api:
        monkeypatch.setenv("PIRSCH_ACCESS_KEY", ACCESS_KEY)
        monkeypatch.setenv("PIRSCH_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PIRSCH_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("PIRSCH_BASE_URL", api.base_url)
        yield api


def test_every_block_is_run_or_named_in_skips() -> None:
    for code in BLOCKS:
        claims = [s for s in (*RUN, *SKIPS) if s in code]
        assert len(claims) == 1, f"no single runner for this README block:\n{code}"
    assert all(name in globals() for name in RUN.values())


def test_every_setting_heading_names_its_environment_variable() -> None:
    sections = re.split(r"(?m)^### ", README.split("## Settings\n", 1)[1].split("\n## ", 1)[0])
    text = {s.split("\n", 1)[0].strip(): s for s in sections[1:]}
    for f in dataclasses.fields(Settings):
        assert f.name in text, f"README has no ### {f.name}"
        if env_parser(str(f.type)) is not None:
            assert env_var(f.name) in text[f.name], f"### {f.name} does not name its variable"


def test_asgi_block(pirsch_capture: Capture) -> None:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from pirsch_middleware.asgi import PirschMiddleware

    app = FastAPI()
    names = run(block(next(iter(RUN))), app=app)
    assert isinstance(names["app"], PirschMiddleware)
    with TestClient(app, client=("203.0.113.7", 5000)) as client:
        client.get("/admin/", headers=BROWSER_HEADERS)
    assert pirsch_capture.hits == []


def test_wsgi_block() -> None:
    from flask import Flask

    from pirsch_middleware.wsgi import PirschMiddleware

    def application(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<title>Hi</title>"]

    names = run(
        block("app.wsgi_app = PirschMiddleware"), app=Flask("readme"), application=application
    )
    assert isinstance(names["application"], PirschMiddleware)
    assert isinstance(names["app"].wsgi_app, PirschMiddleware)


def test_flask_block(pirsch_capture: Capture) -> None:
    from flask import Flask

    app = Flask("readme")
    run(block("pirsch = Pirsch(app)"), app=app)
    app.test_client().get("/health", headers=BROWSER_HEADERS)
    assert app.extensions["pirsch"].tracker.stats().skipped == {"view": 1}
    pirsch_capture.assert_nothing_sent()


def test_django_settings_block() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.test import override_settings

    from pirsch_middleware.django.checks import check_settings

    from . import django_settings

    base = {k: getattr(django_settings, k) for k in ("INSTALLED_APPS", "MIDDLEWARE")}
    # "[..., x, ...]" stands for the project's own entries around the new one.
    code = re.sub(r"(?m)^(\w+) = \[\.\.\., ", r"\1 = [*\1, ", block("# settings.py"))
    names = run(code.replace(", ...]", "]"), **base)
    assert "pirsch_middleware.django.PirschMiddleware" in names["MIDDLEWARE"]
    with override_settings(MIDDLEWARE=names["MIDDLEWARE"], PIRSCH=names["PIRSCH"]):
        assert not [p for p in check_settings() if p.id.startswith("pirsch_middleware.E")]


def test_django_asgi_block(tmp_path: Path) -> None:
    # In a fresh process with no DJANGO_SETTINGS_MODULE: the block must set it itself.
    code = block("# asgi.py").replace("mysite.settings", "example_apps.django_app.settings")
    code += "\nassert callable(application)\nprint('ok')\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIRSCH_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.stdout == "ok\n", done.stderr


def test_events_block(pirsch_capture: Capture, make_tracker: Any) -> None:
    names = run(block("def download(request, name):"))
    with tracked_request(make_tracker(), request("/files/a.pdf")):
        names["download"](None, "a.pdf")
    pirsch_capture.assert_event("Download", meta={"file": "a.pdf"}, event_duration=3)
    assert len(pirsch_capture.sessions) == 1
    pirsch_capture.assert_no_hits()  # skip_page_view()


def test_async_statistics_block(pirsch_env: FakePirschAPI) -> None:
    names = run(block("async def report(may: Filter)"))
    may = Filter(domain_id="A5kgYzK14m", from_date=date(2026, 5, 1), to_date=date(2026, 5, 31))
    asyncio.run(names["report"](may))
    assert [path.rsplit("/", 1)[-1] for path, _ in pirsch_env.stats_requests] == ["visitor", "page"]


def test_core_block(pirsch_env: FakePirschAPI) -> None:
    run(block('tracker = Tracker(access_key="pa_...")'))
    assert [r.kind for r in pirsch_env.received] == ["hit", "event", "session"]
    assert pirsch_env.hits[0]["ip"] == "198.51.100.7"
    assert pirsch_env.hits[0]["title"] == "Pricing"


def test_testing_your_app_block(pytester: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code = block("def test_signup_sends_an_event(client, pirsch_capture):")
    django, flask, fastapi = re.split(r"(?m)^# (?:Flask|FastAPI).*\n", code)
    # The block's import at its top serves all three parts: each file gets it.
    imports = "from pirsch_middleware.testing import NAVIGATION_HEADERS\n\n"
    flask, fastapi = imports + flask, imports + fastapi
    # What each part takes for granted: the reader's app (a small one of each kind here).
    pytester.makepyfile(test_django=django)
    pytester.makepyfile(
        test_flask="from flask import Flask\n"
        "from pirsch_middleware.flask import Pirsch\n\n"
        "app = Flask(__name__)\n"
        "Pirsch(app)\n"
        "app.add_url_rule('/', 'home', lambda: '<title>Home</title>')\n\n" + flask
    )
    pytester.makepyfile(
        test_fastapi="from fastapi import FastAPI\n"
        "from fastapi.responses import HTMLResponse\n"
        "from pirsch_middleware.asgi import PirschMiddleware\n\n"
        "app = FastAPI()\n"
        "app.add_middleware(PirschMiddleware)\n"
        "app.get('/pricing', response_class=HTMLResponse)(lambda: '<title>Pricing</title>')\n\n"
        + fastapi
    )
    for name in [k for k in os.environ if k.startswith(("PIRSCH_", "DJANGO_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-W", "error", "--ds", "example_apps.django_app.settings"
    )
    result.assert_outcomes(passed=3)


def test_fake_api_block() -> None:
    code = block("api.fail_next(Reply(503)")
    # "..." is the reader's own code: here, one page view of https://example.com/.
    code = code.replace(
        "    ...\n",
        "    from tests.conftest import request\n"
        "    tracker.track_page_view(request('/', scheme='https', host='example.com'))\n",
    )
    names = run(code)
    names["tracker"].close(2)  # its connection pool, to the API that has stopped
    assert [status for _, _, status in names["api"].requests] == [503, 429, 200]


def test_serverless_block(pirsch_env: FakePirschAPI) -> None:
    names = run(block("def handler(event, context):"))
    event = {
        "headers": {"host": "example.com", **BROWSER_HEADERS},  # a browser's, as API Gateway passes
        "rawPath": "/pricing",
        "requestContext": {"http": {"sourceIp": "198.51.100.4"}},
    }
    names["handler"](event, None)
    names["tracker"].close(2)
    assert [(h["url"], h["ip"]) for h in pirsch_env.hits] == [
        ("https://example.com/pricing", "198.51.100.4")
    ]


def test_explain_block(capsys: pytest.CaptureFixture[str]) -> None:
    run(block("verdict = tracker.explain("))
    assert capsys.readouterr().out == (
        "not tracked (not_browser): every browser sends Accept-Language and Accept-Encoding and no "
        "impossible Fetch Metadata: the Pirsch server's header rules, which it cannot run on a JSON "
        "hit (setting: exclude_bots)\n"
    )


def test_snippet_tag_block(pirsch_env: FakePirschAPI) -> None:
    from starlette.testclient import TestClient

    names = run(block("TAG = snippet_tag(settings)"))
    with TestClient(names["app"], client=("203.0.113.7", 5000)) as client:
        page = client.get("/", headers=BROWSER_HEADERS).text
        script = client.get("/p/pa.js")
    assert '<script defer src="/p/pa.js" id="pianjs"' in page
    assert "data-disable-page-views" in page  # the middleware's mode: one Settings for both
    assert (script.status_code, script.content) == (200, pirsch_env.script)
    assert [hit["url"] for hit in pirsch_env.hits] == ["http://testserver/"]
