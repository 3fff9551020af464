"""The README's "Example apps" promise about curl, kept by running the commands it gives.

The README tells a reader who has started an example app which ``curl`` command shows a hit and
that plain ``curl`` does not. Both are run here, as written, with the real curl against a WSGI
server on 127.0.0.1 whose app is wrapped in the middleware.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from pirsch_middleware.testing import Capture
from pirsch_middleware.wsgi import PirschMiddleware

from .conftest import require_binary

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
#: Where the README's commands send their requests: the example apps' address.
README_URL = "http://127.0.0.1:8000/"
PAGE = b"<html><head><title>Home</title></head><body>Hello</body></html>"


def page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served_url() -> Iterator[str]:
    """The base URL of the middleware-wrapped page, served by wsgiref on 127.0.0.1."""
    server: WSGIServer = make_server(
        "127.0.0.1", 0, PirschMiddleware(page, environ={}), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def readme_curl_command() -> list[str]:
    """The one ``curl`` command in the README that it says shows a hit."""
    (line,) = [
        line for line in README.splitlines() if line.startswith("curl ") and README_URL in line
    ]
    return shlex.split(line)


def run_curl(args: list[str], url: str) -> None:
    args = [require_binary("curl"), "--silent", "--fail", "--output", "/dev/null", *args[1:]]
    subprocess.run([url if a == README_URL else a for a in args], check=True, timeout=30)


def test_readme_curl_command_shows_a_hit(served_url: str, pirsch_capture: Capture) -> None:
    run_curl(readme_curl_command(), served_url)

    hit = pirsch_capture.assert_hit("/", title="Home")
    assert hit.ip == "127.0.0.1"


@pytest.mark.parametrize(
    "extra",
    [[], ["-A", "Mozilla/5.0 Firefox/133.0"]],
    ids=["plain curl", "curl with only a browser's user agent"],
)
def test_curl_without_a_browsers_headers_is_no_page_view(
    extra: list[str], served_url: str, pirsch_capture: Capture
) -> None:
    run_curl(["curl", *extra, README_URL], served_url)

    pirsch_capture.assert_no_hits()
    assert [reason for reason, _ in pirsch_capture.skips] == ["not_browser"]
