"""A real headless Chromium (Debian's, driven by its chromedriver over the W3C WebDriver protocol)
loads an htmx-style page served by uvicorn on 127.0.0.1 through the ASGI middleware: the page
fetches two fragments, then follows a link."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from pirsch_middleware import Tracker
from pirsch_middleware.asgi import PirschMiddleware
from pirsch_middleware.testing import FakePirschAPI

from .conftest import require_binary, settings
from .test_servers import free_port

START = """<!doctype html><html><head><title>Start</title></head><body>
<a id="next" href="/next">Next</a><ul id="items"></ul>
<script>
(async () => {
  for (const n of [1, 2]) {  // as htmx would: fetch() with its header, then swap the fragment in
    const response = await fetch("/fragment/" + n, {headers: {"HX-Request": "true"}});
    document.getElementById("items").insertAdjacentHTML("beforeend", await response.text());
  }
  document.getElementById("next").click();
})();
</script></body></html>"""
# Not the default "HeadlessChrome" user agent, which is on the crawler list.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEADLINE = 60.0


def app(fragments: list[str]) -> Starlette:
    async def start(request: Request) -> HTMLResponse:
        return HTMLResponse(START)

    async def fragment(request: Request) -> HTMLResponse:
        fragments.append(request.path_params["n"])
        return HTMLResponse(f"<li>Item {request.path_params['n']}</li>")

    async def next_page(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><head><title>Next</title></head><body>Done</body></html>")

    return Starlette(
        routes=[Route("/", start), Route("/fragment/{n}", fragment), Route("/next", next_page)]
    )


@contextmanager
def uvicorn_serving(asgi_app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            asgi_app, host="127.0.0.1", port=port, lifespan="off", ws="none", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium_session() -> Iterator[tuple[httpx.Client, str]]:
    """A WebDriver session of Debian's Chromium: the client and the session's path."""
    chromium, chromedriver = require_binary("chromium"), require_binary("chromedriver")
    port = free_port()
    driver = subprocess.Popen(
        [chromedriver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with (
            tempfile.TemporaryDirectory() as profile,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
        ):
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.get("/status")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "chromedriver did not start"
                    time.sleep(0.05)
            arguments = [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--user-agent={USER_AGENT}", "--lang=en-US",
            ]  # fmt: skip
            options = {"binary": chromium, "args": arguments}
            capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
            answer = client.post("/session", json={"capabilities": {"alwaysMatch": capabilities}})
            session = f"/session/{answer.json()['value']['sessionId']}"
            try:
                yield client, session
            finally:
                client.delete(session)
    finally:
        driver.terminate()
        driver.wait(10)


def test_chromium_counts_the_page_and_the_link_not_the_fragments(api: FakePirschAPI) -> None:
    fragments: list[str] = []
    tracker = Tracker(settings(api))
    try:
        with uvicorn_serving(PirschMiddleware(app(fragments), tracker=tracker)) as base:
            with chromium_session() as (client, session):
                client.post(f"{session}/url", json={"url": f"{base}/"})
                deadline = time.monotonic() + DEADLINE
                while client.get(f"{session}/title").json()["value"] != "Next":
                    assert time.monotonic() < deadline, "Chromium never followed the link"
                    time.sleep(0.1)
        assert tracker.flush(10)
        assert fragments == ["1", "2"]
        assert tracker.stats().skipped.get("partial") == 2
        hits = api.hits
        assert [(h["url"].split("/", 3)[3], h.get("title")) for h in hits] == [
            ("", "Start"),
            ("next", "Next"),
        ]
        # Accept-CH on the first page asked for these: the second page view carries them.
        assert "sec_ch_ua_platform_version" not in hits[0]
        assert "sec_ch_viewport_width" not in hits[0]
        assert "sec_ch_ua_platform_version" in hits[1]
        assert int(hits[1]["sec_ch_viewport_width"]) > 0
    finally:
        tracker.close(2)
