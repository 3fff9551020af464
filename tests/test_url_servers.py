"""End to end: the URL a real server hands over reaches Pirsch as the client sent it, the same
under uvicorn (ASGI: Starlette, Django) and gunicorn (WSGI: Flask, Django)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pirsch_middleware.testing import FakePirschAPI

from .conftest import BROWSER_HEADERS
from .test_servers import serve

# Escapes a decoding server would turn into "/" or U+FFFD, and characters a browser leaves alone.
QUERY = "q=%ED%2F&r=caf%C3%A9&s=a|b^&utm_source=news%20letter"


def get_raw(port: int, target: str) -> bytes:
    """A GET with exactly this request target (an HTTP client library would normalise it)."""
    # A browser's navigation: its headers, as the page-view rules expect them.
    headers = {**BROWSER_HEADERS, "accept-encoding": "identity", "connection": "close"}
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {target} HTTP/1.1\r\nHost: Example.COM:{port}\r\n{lines}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "name", ["starlette-uvicorn", "flask-gunicorn", "django-gunicorn", "django-uvicorn"]
)
def test_path_and_query_reach_pirsch_as_sent_under_every_server(
    name: str, api: FakePirschAPI, tmp_path: Path
) -> None:
    with serve(name, api, tmp_path) as (client, _):
        port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
        # "/pric%69ng" is the app's /pricing to every server; the browser's URL keeps the escape.
        assert get_raw(port, f"/pric%69ng?{QUERY}").startswith(b"HTTP/1.1 200")
    assert [hit["url"] for hit in api.hits] == [f"http://example.com:{port}/pric%69ng?{QUERY}"]
