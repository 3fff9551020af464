"""End to end behind a real nginx: a stock reverse-proxy configuration in front of uvicorn and
gunicorn serving the example apps, against the fake Pirsch API.

nginx and the app both listen on 127.0.0.1; the visitor connects from 127.0.0.2, so the address
nginx appends to ``X-Forwarded-For`` is told apart from nginx's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pirsch_middleware.testing import FakePirschAPI

from .conftest import BROWSER_HEADERS, require_binary
from .test_servers import free_port, serve

VISITOR = "127.0.0.2"
FORGED = {
    "CF-Connecting-IP": "6.6.6.1",
    "True-Client-IP": "6.6.6.2",
    "X-Real-IP": "6.6.6.3",
    "X-Forwarded-For": "6.6.6.4",  # the leftmost entry, which the visitor controls
    "Forwarded": "for=6.6.6.5",
    # Stock nginx passes these on as the visitor sent them.
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "https",
}

CONFIG = """
{user}
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            {extra}
        }}
    }}
}}
"""


@contextmanager
def nginx(upstream: int, tmp_path: Path, extra: str = "") -> Iterator[httpx.Client]:
    """nginx proxying to ``upstream`` (``extra``: more directives for its ``location``); yields a
    client connecting from :data:`VISITOR`."""
    binary = require_binary("nginx")
    tmp = tmp_path / "nginx"
    tmp.mkdir(exist_ok=True)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    config = CONFIG.format(user=user, tmp=tmp, port=port, upstream=upstream, extra=extra)
    (tmp / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    transport = httpx.HTTPTransport(local_address=VISITOR)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, transport=transport, headers=BROWSER_HEADERS) as client:
            deadline = time.monotonic() + 15
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        error = process.stderr.read().decode() if process.stderr else ""
                        pytest.fail(f"nginx did not start: {error}")
                    time.sleep(0.05)
            yield client
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stderr:
            process.stderr.close()


@pytest.mark.parametrize("server", ["starlette-uvicorn", "flask-gunicorn"])
def test_behind_nginx_the_visitor_address_arrives_and_forged_headers_change_nothing(
    server: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    # nginx (127.0.0.1) is the proxy we trust; the visitor (127.0.0.2) is not.
    with serve(server, api, tmp_path, PIRSCH_TRUSTED_PROXIES="127.0.0.1/32") as (app, _):
        upstream = int(str(app.base_url).rsplit(":", 1)[1].rstrip("/"))
        with nginx(upstream, tmp_path) as client:
            assert client.get("/?plain").status_code == 200
            assert client.get("/?forged", headers=FORGED).status_code == 200
    hits = {hit["url"].rsplit("?", 1)[1]: hit["ip"] for hit in api.hits}
    assert hits == {"plain": VISITOR, "forged": VISITOR}
    # Neither the forged X-Forwarded-Host nor -Proto: the Host nginx passes ($host), over http.
    assert [hit["url"].rsplit("/", 1)[0] for hit in api.hits] == ["http://127.0.0.1"] * 2


@pytest.mark.parametrize("server", ["starlette-uvicorn", "flask-gunicorn"])
def test_behind_nginx_that_sets_x_forwarded_host_the_url_is_the_browsers(
    server: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    with serve(
        server, api, tmp_path, PIRSCH_TRUSTED_PROXIES="127.0.0.1/32", PIRSCH_PROXY_SETS_HOST="true"
    ) as (app, _):
        upstream = int(str(app.base_url).rsplit(":", 1)[1].rstrip("/"))
        # $http_host: the Host the browser sent, port included ($host drops it).
        with nginx(upstream, tmp_path, "proxy_set_header X-Forwarded-Host $http_host;") as client:
            assert client.get("/?forged", headers=FORGED).status_code == 200
            browser = str(client.base_url).rstrip("/")
    assert [hit["url"] for hit in api.hits] == [f"{browser}/?forged"]
    assert [hit["ip"] for hit in api.hits] == [VISITOR]


@pytest.mark.parametrize("server", ["starlette-uvicorn", "flask-gunicorn"])
def test_behind_an_untrusted_nginx_the_server_log_says_so(
    server: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    with serve(server, api, tmp_path, PIRSCH_TRUSTED_PROXIES="192.0.2.0/24") as (app, _):
        upstream = int(str(app.base_url).rsplit(":", 1)[1].rstrip("/"))
        with nginx(upstream, tmp_path) as client:
            for n in range(12):
                assert client.get(f"/?n={n}").status_code == 200
    assert [hit["ip"] for hit in api.hits] == ["127.0.0.1"] * 12
    log = (tmp_path / f"{server}.log").read_text()
    assert "not in trusted_proxies: every visitor gets 127.0.0.1" in log
    # Once per process (gunicorn runs 3 workers here), not once per request.
    assert 1 <= log.count("every visitor gets") <= (3 if "gunicorn" in server else 1)
