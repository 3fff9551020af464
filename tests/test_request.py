from __future__ import annotations

from typing import Any

from pirsch_middleware import RequestData, Settings
from pirsch_middleware.extract import Extractor
from pirsch_middleware.request import HEADERS_READ, asgi_request, environ_request, join_headers

from .conftest import BROWSER_HEADERS


def scope(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/docs/",
        "root_path": "",
        "query_string": b"a=1&b=2",
        "headers": [(b"host", b"example.com"), (b"user-agent", b"UA")],
        "client": ("203.0.113.7", 50000),
        "server": ("10.0.0.1", 8000),
    }
    base.update(changes)
    return base


def test_asgi_request_takes_what_the_core_reads() -> None:
    request = asgi_request(scope())
    assert (request.method, request.scheme, request.host) == ("GET", "https", "example.com")
    assert (request.path, request.query, request.peer) == ("/docs/", "a=1&b=2", "203.0.113.7")
    assert request.headers == {"host": "example.com", "user-agent": "UA"}


def test_asgi_request_has_every_header_decoded_when_read() -> None:
    headers = [
        (b"host", b"example.com"),
        (b"cookie", b"session=secret"),
        (b"fly-client-ip", b"192.0.2.44"),
    ]
    request = asgi_request(scope(headers=headers))
    assert dict(request.headers) == {
        "host": "example.com",
        "cookie": "session=secret",
        "fly-client-ip": "192.0.2.44",
    }
    assert request.headers["fly-client-ip"] == "192.0.2.44"
    assert "user-agent" not in request.headers
    assert request.headers.get("user-agent", "none") == "none"


def test_environ_request_has_every_header() -> None:
    env = environ(HTTP_COOKIE="a=b", HTTP_X_CUSTOM_THING="1", CONTENT_TYPE="text/plain")
    headers = environ_request(env).headers
    assert headers["cookie"] == "a=b"
    assert headers["x-custom-thing"] == "1"
    assert headers["user-agent"] == environ()["HTTP_USER_AGENT"]
    assert "content-type" not in headers  # a CGI variable, as in PEP 3333: not HTTP_*


def test_asgi_request_without_client_has_no_peer() -> None:
    assert asgi_request(scope(client=None)).peer is None
    assert asgi_request({"type": "http", "path": "/"}).peer is None


def test_asgi_request_joins_repeated_headers_and_lowercases_names() -> None:
    headers = [(b"X-Forwarded-For", b"1.1.1.1"), (b"x-forwarded-for", b"2.2.2.2")]
    assert asgi_request(scope(headers=headers)).headers == {"x-forwarded-for": "1.1.1.1, 2.2.2.2"}


def test_asgi_request_includes_root_path_once() -> None:
    assert asgi_request(scope(root_path="/app", path="/app/page")).path == "/app/page"
    assert asgi_request(scope(root_path="/app", path="/page")).path == "/app/page"
    assert asgi_request(scope(root_path="/app/", path="/page")).path == "/app/page"


def test_asgi_request_without_host_header_uses_server() -> None:
    assert asgi_request(scope(headers=[])).host == "10.0.0.1:8000"
    assert asgi_request(scope(headers=[], server=("example.com", 443))).host == "example.com"
    assert asgi_request(scope(headers=[], server=("/tmp/sock", None))).host == "/tmp/sock"
    assert asgi_request(scope(headers=[], server=None)).host == ""


def test_asgi_request_decodes_non_ascii_header_bytes_without_failing() -> None:
    request = asgi_request(scope(headers=[(b"user-agent", b"\xff\xfe")]))
    assert request.headers["user-agent"] == "\xff\xfe"


def environ(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "http",
        "SCRIPT_NAME": "/shop",
        "PATH_INFO": "/caf\xc3\xa9",  # "café" as PEP 3333 hands it over
        "QUERY_STRING": "q=1",
        "REMOTE_ADDR": "203.0.113.7",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "example.com",
        "HTTP_USER_AGENT": "UA",
        "HTTP_X_FORWARDED_FOR": "198.51.100.1",
        "HTTP_COOKIE": "session=secret",
    }
    base.update(changes)
    return base


def test_environ_request_takes_what_the_core_reads() -> None:
    request = environ_request(environ())
    assert (request.method, request.scheme, request.host) == ("GET", "http", "example.com")
    assert (request.path, request.query, request.peer) == ("/shop/café", "q=1", "203.0.113.7")
    assert request.headers == {
        "host": "example.com",
        "user-agent": "UA",
        "x-forwarded-for": "198.51.100.1",
        "cookie": "session=secret",
    }


def test_environ_request_reads_the_environ_it_is_given() -> None:
    # A view, not a copy: the WSGI adapter copies the environ as it arrives (test_wsgi.py).
    env = environ()
    request = environ_request(env)
    env["HTTP_USER_AGENT"] = "changed"
    assert request.headers["user-agent"] == "changed"
    assert request.path == "/shop/café"


def test_environ_request_without_host_header_uses_server_name() -> None:
    env = environ()
    del env["HTTP_HOST"]
    assert environ_request(env).host == "internal:8080"
    env["SERVER_PORT"] = "80"
    assert environ_request(env).host == "internal"


def test_environ_request_with_undecodable_path_replaces() -> None:
    request = environ_request(environ(SCRIPT_NAME="", PATH_INFO="/\xff"))
    assert request.path == "/\ufffd"


def test_environ_request_takes_decoded_path_and_scheme_from_the_framework() -> None:
    request = environ_request(environ(), path="/x", scheme="https")
    assert (request.path, request.scheme) == ("/x", "https")


def test_join_headers_joins_repeats() -> None:
    assert join_headers([("A", "1"), ("a", "2"), ("B", "3")]) == {"a": "1, 2", "b": "3"}


class _Recording(dict[str, str]):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def test_the_core_reads_no_header_outside_headers_read() -> None:
    extractor = Extractor(Settings(environ={}))
    headers = _Recording(
        {**BROWSER_HEADERS, "x-forwarded-proto": "https", "x-forwarded-host": "a.example"}
    )
    request = RequestData("GET", "https", "example.com", "/", "ref=x", "10.0.0.1", headers)
    assert extractor.request_skip(request) is None
    assert not isinstance(extractor.hit(request, 0.0), str)
    assert not isinstance(extractor.event(request, 0.0, "e"), str)
    assert not isinstance(extractor.session(request, 0.0), str)
    ip_headers = set(Settings(environ={}).forwarding_headers)
    assert headers.read, "the recording mapping saw no reads"
    assert headers.read <= set(HEADERS_READ) | ip_headers
