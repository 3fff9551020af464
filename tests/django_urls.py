"""URLs and views of the Django project the Django tests drive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path
from django.utils.functional import SimpleLazyObject

from pirsch_middleware import event, exempt, set_title, track_event

from .harness import answer

USER_LOADS: list[str] = []


def _load_user() -> str:
    USER_LOADS.append("loaded")  # a database query in a real project
    return "user"


class LazyUserMiddleware:
    """Like AuthenticationMiddleware: request.user costs a query when touched."""

    sync_capable = async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        request.user = SimpleLazyObject(_load_user)
        return self.get_response(request)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<html><head><title>Django &amp; sync</title></head></html>")


def compressed(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(b"\x1f\x8b not really gzip", content_type="text/html")
    response["Content-Encoding"] = "gzip"
    return response


async def async_page(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    return HttpResponse("<title>Django async</title>")


def with_event(request: HttpRequest) -> HttpResponse:
    set_title("Chosen by the view")
    event("Viewed", meta={"section": "docs"})
    return HttpResponse("<p>no title tag</p>")


@track_event("Signup", meta={"plan": "pro"})
def signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse("thanks")


@track_event("Async signup")  # no CsrfViewMiddleware here, so no csrf_exempt (sync-only in 4.2)
async def async_signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse("thanks")


@exempt
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<title>ok</title>")


def api(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def old(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect("/page")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Iterator[bytes]:
        yield b"<title>Streamed</title>"
        yield b"rest"

    return StreamingHttpResponse(parts(), content_type="text/html")


def any_page(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Answers every path as tests.harness.answer says."""
    status, headers, body = answer(request.path, "HTTP_IF_NONE_MATCH" in request.META)
    response = HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    return response


#: How long the slow views take, in seconds (tests/test_arrival_time.py).
SLOW = 1.0


def slow(request: HttpRequest) -> HttpResponse:
    time.sleep(SLOW)
    return HttpResponse("<title>Slow</title>")


async def async_slow(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(SLOW)
    return HttpResponse("<title>Slow</title>")


def stream_events(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Iterator[bytes]:
        yield b"<title>Feed</title>"
        event("Chunk", meta={"n": 1})  # runs as the server reads the body
        yield b"<p>one</p>"

    return StreamingHttpResponse(parts(), content_type="text/html")


def stream_events_async(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        yield b"<title>Feed</title>"
        event("Chunk", meta={"n": 2})
        yield b"<p>two</p>"

    return StreamingHttpResponse(parts(), content_type="text/html")


def stylesheet(request: HttpRequest) -> HttpResponse:
    return HttpResponse("body {}", content_type="text/css")


urlpatterns = [
    path("c/<path:rest>", any_page),
    path("ch/<path:rest>", any_page),
    path("page", page),
    path("compressed", compressed),
    path("async", async_page),
    path("event", with_event),
    path("signup", signup),
    path("async-signup", async_signup),
    path("health", health),
    path("api", api),
    path("old", old),
    path("stream", stream),
    path("stream-events", stream_events),
    path("stream-events-async", stream_events_async),
    path("static/site.css", stylesheet),
    path("slow", slow),
    path("async-slow", async_slow),
]
