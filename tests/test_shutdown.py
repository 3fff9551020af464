"""End to end: every way a server or job runner ends its processes delivers what they hold.

Each server serves the apps of ``tests/server_apps.py``, which hold their records for a minute:
what reaches the fake API was delivered where each process ended (lifespan, ``atexit``,
``multiprocessing``'s finalizers, Celery's worker-process signal). Every case counts delivered, duplicated and
missing page views, and bounds the time the server took to stop.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import pytest

from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY
from .test_servers import ROOT, serve

REQUESTS = 60
GUNICORN = ["-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2"]
WSGI_APP = "tests.server_apps:wsgi_app"
ASGI_APP = "tests.server_apps:asgi_app"
UWSGI = [
    "-c", "import sys; from pyuwsgi import run; sys.exit(run())", "--master", "--processes", "2",
    "--enable-threads", "--http-socket", "127.0.0.1:{port}",
    "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
    "--module", WSGI_APP,
]  # fmt: skip
GRANIAN = ["-m", "granian", "--host", "127.0.0.1", "--port", "{port}", "--workers", "2"]

# name: (arguments to Python, environment)
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    # Warm-up requests tracked in the master before it forks the workers.
    "gunicorn-sync-preload": ([*GUNICORN, "--preload", WSGI_APP], {"WARM_UP": "3"}),
    "gunicorn-gthread": ([*GUNICORN, "--worker-class", "gthread", "--threads", "4", WSGI_APP], {}),
    "gunicorn-gevent": ([*GUNICORN, "--worker-class", "gevent", WSGI_APP], {}),
    # Workers end and are replaced while the traffic runs.
    "gunicorn-max-requests": ([*GUNICORN, "--max-requests", "15", WSGI_APP], {}),
    "uvicorn-workers": (
        ["-m", "uvicorn", "--workers", "2", "--port", "{port}", "--no-proxy-headers", ASGI_APP],
        {},
    ),
    # An ASGI app that refuses lifespan: the middleware answers it.
    "uvicorn-app-without-lifespan": (
        ["-m", "uvicorn", "--port", "{port}", "--no-proxy-headers", "tests.server_apps:plain_asgi"],
        {},
    ),
    "hypercorn": (["-m", "hypercorn", "--bind", "127.0.0.1:{port}", ASGI_APP], {}),
    "daphne": (["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", ASGI_APP], {}),
    "granian-asgi": ([*GRANIAN, "--interface", "asgi", ASGI_APP], {}),
    "uwsgi-prefork": (UWSGI, {"WARM_UP": "3"}),
    "uwsgi-lazy-apps": ([*UWSGI, "--lazy-apps", "--shared-import", "ssl"], {}),
    # Django's own ASGI app refuses lifespan: granian's workers deliver where they end anyway.
    "granian-django-stock-asgi": (
        [*GRANIAN, "--interface", "asgi", "--factory", "django.core.asgi:get_asgi_application"],
        {"DJANGO_SETTINGS_MODULE": "example_apps.django_app.settings", "PIRSCH_FLUSH_INTERVAL": "60"},
    ),
    # granian's WSGI workers end with os._exit: no lifespan, no atexit.
    "granian-wsgi": ([*GRANIAN, "--interface", "wsgi", WSGI_APP], {}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_every_page_view_arrives_once_when_the_server_stops(
    name: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    command, env = CASES[name]
    with serve(name, api, tmp_path, command, **env) as (client, exit_took):
        # The socket listens before these servers' workers have loaded the app, and a worker
        # told to stop while it loads never stops (the server waits for it): wait for both.
        if "--lazy-apps" in command:
            wait_for_line(tmp_path / f"{name}.log", "WSGI app 0 (mountpoint='') ready", 2)
        elif "granian" in command:
            wait_for_line(tmp_path / f"{name}.log", "Started worker-", 2)
        for n in range(REQUESTS):
            # A new connection each time: uWSGI's --http-socket does not keep connections alive.
            response = client.get("/", params={"n": n}, headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
    arrived = Counter(hit["url"].split("/", 3)[3] for hit in api.hits)
    expected = {f"?n={n}" for n in range(REQUESTS)}
    # What the master tracked before the fork is the master's to send, never a worker's too.
    expected |= {f"?warm-up={n}" for n in range(int(env.get("WARM_UP", "0")))}
    missing = expected - set(arrived)
    duplicated = {url: count for url, count in arrived.items() if count > 1}
    assert (sorted(missing), duplicated, sorted(set(arrived) - expected)) == ([], {}, [])
    assert exit_took[0] < 10


def wait_for_line(log: Path, text: str, count: int, timeout: float = 60) -> None:
    """Wait until ``text`` appears ``count`` times in a server's log."""
    deadline = time.monotonic() + timeout
    while log.read_text().count(text) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not {count} times in {log.name}:\n{log.read_text()}")
        time.sleep(0.05)


def test_django_stock_asgi_application_warns_once_and_delivers_in_the_idle_window(
    api: FakePirschAPI, tmp_path: Path
) -> None:
    command = [
        "-m", "uvicorn", "--factory", "django.core.asgi:get_asgi_application", "--port", "{port}",
        "--no-proxy-headers",
    ]  # fmt: skip
    environ = {"DJANGO_SETTINGS_MODULE": "example_apps.django_app.settings"}
    with serve("django-stock-asgi", api, tmp_path, command, **environ) as (client, _):
        for n in range(20):
            assert client.get("/", params={"n": n}).status_code == 200
        time.sleep(1.0)  # idle: the records leave within flush_interval (0.1 s)
    assert sorted(hit["url"].split("/", 3)[3] for hit in api.hits) == sorted(
        f"?n={n}" for n in range(20)
    )
    output = (tmp_path / "django-stock-asgi.log").read_text()
    assert output.count("Django runs under ASGI without lifespan") == 1
    assert "pirsch_middleware.django.asgi import get_asgi_application" in output


def test_an_api_that_never_answers_at_shutdown_has_what_is_left_counted_and_logged_once(
    api: FakePirschAPI, tmp_path: Path
) -> None:
    """The lifespan shutdown ends as close() does: tried until shortly before shutdown_timeout,
    then the batch in flight and the queue are dropped (``shutdown``), in one log line."""
    api.delay = 30.0  # takes each batch, answers long after the server has gone
    command = [
        "-m", "uvicorn", "example_apps.starlette_app:app", "--port", "{port}",
        "--no-proxy-headers",
    ]  # fmt: skip
    environ = {"PIRSCH_FLUSH_INTERVAL": "60", "PIRSCH_SHUTDOWN_TIMEOUT": "2"}
    with serve("api-never-answers", api, tmp_path, command, **environ) as (client, exit_took):
        for n in range(20):
            assert client.get("/", params={"n": n}).status_code == 200
    assert api.received == []
    output = (tmp_path / "api-never-answers.log").read_text()
    assert output.count("pirsch_middleware: dropped") == 1, output
    assert "pirsch_middleware: dropped 20 records (shutdown: 20)" in output
    assert exit_took[0] < 2 + 8  # shutdown_timeout, and uvicorn's own stop


def test_a_process_pool_recycling_each_worker_delivers_every_record(api: FakePirschAPI) -> None:
    from .test_process import delivered, run

    result = run(
        api,
        """
        import multiprocessing
        def work(n):
            track(f"/task/{n}")  # no flush: the worker ends with os._exit after its one task
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(2, maxtasksperchild=1)
        pool.map(work, range(12), chunksize=1)
        pool.close()
        pool.join()  # each worker ends after its task, as the pool replaces it
        """,
    )
    assert result.returncode == 0, result.stderr
    assert delivered(api) == Counter(f"/task/{n}" for n in range(12))


def test_celery_prefork_workers_recycled_after_each_task_deliver_every_record(
    api: FakePirschAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """billiard's pool workers end with os._exit inside their loop; Celery signals it first."""
    monkeypatch.setenv("CELERY_DIR", str(tmp_path))
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PIRSCH_")},
        "PIRSCH_ACCESS_KEY": ACCESS_KEY,
        "PIRSCH_BASE_URL": api.base_url,
        "PYTHONPATH": str(ROOT),
    }
    from .celery_app import visit

    # Queued before the worker starts: kombu's filesystem transport can read a message file its
    # writer has created but not yet filled (JSONDecodeError in the worker, under load).
    results = [visit.delay(n) for n in range(10)]
    log = (tmp_path / "worker.log").open("w+")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker", "--pool",
            "prefork", "--concurrency", "2", "--max-tasks-per-child", "1", "--without-mingle",
            "--without-gossip", "--without-heartbeat",
        ],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        assert [result.get(timeout=60) for result in results] == [True] * 10
    finally:
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)  # a warm shutdown
        left: list[int] = []
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            left = processes_in_group(worker.pid)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        took = time.monotonic() - started
        log.seek(0)
        output = log.read()
        log.close()
    assert "Traceback" not in output, output
    assert delivered_urls(api) == Counter(f"/task/{n}" for n in range(10))
    # Our exit hook runs in the pool workers, which all ended in time. Under load billiard's
    # pool finalizer in the main process sometimes waits for good on the queue's lock, taken
    # by a recycled worker that has gone (py-spy: Pool._help_stuff_finish, MainProcess, no
    # worker left, none of our threads): Celery's hang, not ours, so only that one is allowed.
    assert took < 20 or left == [worker.pid], f"still running after 20 s: {left}"


def processes_in_group(group: int) -> list[int]:
    """The processes of a process group (from /proc: Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if int(fields[2]) == group:  # after the name: state, ppid, pgrp
                found.append(int(entry.name))
    return sorted(found)


def delivered_urls(api: FakePirschAPI) -> Counter[str]:
    return Counter(hit["url"].removeprefix("https://example.com") for hit in api.hits)


def test_uwsgi_without_threads_warns_and_sends_from_the_requests(
    api: FakePirschAPI, tmp_path: Path
) -> None:
    """uWSGI before 2.0.27 runs Python without threads unless --enable-threads: the sender
    thread would never run while the worker waits, so requests send small batches instead."""
    command = [
        "-c", "import sys; from pyuwsgi import run; sys.exit(run())", "--master", "--processes",
        "1", "--http-socket", "127.0.0.1:{port}", "--die-on-term", "--module",
        "example_apps.flask_app:app",
    ]  # fmt: skip
    with serve("uwsgi-without-threads", api, tmp_path, command) as (client, exit_took):
        for n in range(40):
            # uWSGI's --http-socket keeps no connection alive.
            response = client.get("/", params={"n": n}, headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
            time.sleep(0.05)
        while_running = len(api.hits)
    assert while_running >= 20  # not only when the process ended
    arrived = Counter(hit["url"].split("/", 3)[3] for hit in api.hits)
    assert arrived == Counter(f"?n={n}" for n in range(40))
    output = (tmp_path / "uwsgi-without-threads.log").read_text()
    assert "Python threads support is disabled" in output  # the set-up this test is about
    assert output.count("uWSGI runs Python without threads") == 1
    assert exit_took[0] < 10


def test_uwsgi_lazy_apps_says_when_its_exit_hook_comes_after_openssl(
    api: FakePirschAPI, tmp_path: Path
) -> None:
    """Before 2.0.30 a --lazy-apps worker's exit hook runs after OpenSSL has shut down (no HTTP
    client can be made there): each worker says so once, when it starts tracking."""
    command = [*UWSGI[:-2], "--lazy-apps", "--module", "example_apps.flask_app:app"]
    with serve("uwsgi-lazy-openssl", api, tmp_path, command) as (client, _):
        wait_for_line(tmp_path / "uwsgi-lazy-openssl.log", "WSGI app 0 (mountpoint='') ready", 2)
        for n in range(20):
            response = client.get("/", params={"n": n}, headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
        api.wait_for(20)  # sent while the workers run (flush_interval 0.1 s): none left at exit
    output = (tmp_path / "uwsgi-lazy-openssl.log").read_text()
    workers = len(set(re.findall(r"\[pid: (\d+)\|app", output)))  # those that served (and track)
    old = tuple(map(int, version("pyuwsgi").split(".")[:3])) < (2, 0, 30)
    assert output.count("runs its exit hook after OpenSSL has shut down") == (workers if old else 0)
    assert len(api.hits) == 20
