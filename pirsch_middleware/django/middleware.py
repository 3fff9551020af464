"""The Django middleware: one class for sync and async stacks, no thread hops."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse

from pirsch_middleware.asgi import end_lifespan
from pirsch_middleware.context import RequestContext, _current, report_error
from pirsch_middleware.errors import ConfigurationError
from pirsch_middleware.pageview import merge_accept_ch
from pirsch_middleware.request import RequestData, asgi_raw_path, environ_request
from pirsch_middleware.snippet import MAX_BODY, SCRIPT, Answer, SnippetProxy, check_routes
from pirsch_middleware.stats import logger
from pirsch_middleware.title import TITLE_WINDOW
from pirsch_middleware.tracker import Tracker

from .conf import describe, pirsch_settings, raw_setting

__all__ = ["PirschMiddleware"]

_KEEP = 4  # trackers kept for PIRSCH values seen (override_settings flips between a few)
_Entry = tuple[object, Tracker, "_Build"]
# One tracker per PIRSCH value for the process, whatever number of handlers Django builds (its
# test clients build one per client): one sender thread, one connection pool.
_trackers: dict[int, _Entry] = {}
_lock = threading.Lock()


def tracker_for(value: object) -> tuple[Tracker, _Build]:
    """The tracker for a ``PIRSCH`` value, and the builder of its requests' data."""
    entry = _trackers.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1], entry[2]
    with _lock:
        entry = _trackers.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1], entry[2]
        try:
            tracker = Tracker(pirsch_settings(value))
            snippet = SnippetProxy.of(tracker)
            if snippet is not None:
                check_routes(snippet, _resolve, "the URLconf")
        except ConfigurationError as error:
            raise ImproperlyConfigured(describe(error)) from error
        build = _Build(snippet)
        if len(_trackers) >= _KEEP:
            _, old, _ = _trackers.pop(next(iter(_trackers)))
            # Deliver what the old tracker holds without making this request wait.
            threading.Thread(target=old.close, name="pirsch-close", daemon=True).start()
        _trackers[id(value)] = (value, tracker, build)
    return tracker, build


# Set by pirsch_middleware.django.asgi.get_asgi_application, which answers lifespan.
_lifespan_answered = False
_warned = False


def _check_lifespan() -> None:
    """Under ASGI without the package's entry point, say once how to keep the last records."""
    global _warned
    if _lifespan_answered or _warned:
        return
    _warned = True
    logger.warning(
        "pirsch_middleware: Django runs under ASGI without lifespan, so under uvicorn (also "
        "gunicorn's UvicornWorker) records queued when the server stops are lost: it ends the "
        "process without exit hooks; in asgi.py use "
        "`from pirsch_middleware.django.asgi import get_asgi_application`"
    )


def close_all() -> None:
    """At lifespan shutdown: every tracker of this process delivers within the longest
    shutdown timeout and counts what is left (see ``end_lifespan``), then tracks again."""
    end_lifespan(*(entry[1] for entry in list(_trackers.values())))


class PirschMiddleware:
    """Tracks the requests a Django project serves as Pirsch page views.

    Reads ``settings.PIRSCH`` when the server starts (a bad value raises ``ImproperlyConfigured``
    then) and again whenever the setting object changes. Never touches ``request.user``.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            _check_lifespan()  # an async stack: Django's ASGI handler loaded it
        tracker_for(raw_setting())  # bad settings fail when the server starts

    @property
    def tracker(self) -> Tracker:
        """The tracker for the current ``settings.PIRSCH``."""
        return tracker_for(raw_setting())[0]

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        found = _tracker()
        if found is None:
            return self.get_response(request)
        snippet = _snippet_request(request, found[1])
        if snippet is not None:
            return _response(snippet[0].answer(*snippet[1:]))
        context = _context(request, *found)
        if context is None:
            return self.get_response(request)
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        _respond(context, response)
        _keep_current(context, response)
        return response

    async def __acall__(self, request: Any) -> Any:
        found = _tracker()
        if found is None:
            return await self.get_response(request)
        snippet = _snippet_request(request, found[1])
        if snippet is not None:
            proxy, endpoint, data, body = snippet
            if endpoint == SCRIPT and not proxy.script_ready():
                # The very first fetch may take a moment: wait for it off the event loop.
                answer = await sync_to_async(proxy.answer, thread_sensitive=False)(
                    endpoint, data, body
                )
            else:
                answer = proxy.answer(endpoint, data, body)
            return _response(answer)
        context = _context(request, *found)
        if context is None:
            return await self.get_response(request)
        token = _current.set(context)
        try:
            response = await self.get_response(request)
        finally:
            _current.reset(token)
        _respond(context, response)
        _keep_current(context, response)
        return response


def _tracker() -> tuple[Tracker, _Build] | None:
    """The tracker of the current ``settings.PIRSCH`` and its request builder, looked up once per
    request; ``None`` (logged) when the setting changed to a bad value."""
    try:
        return tracker_for(raw_setting())
    except Exception:
        report_error("the Django middleware")
        return None


def _context(request: Any, tracker: Tracker, build: _Build) -> RequestContext | None:
    try:
        return RequestContext(tracker, request.method, request.path, build, request)
    except Exception:
        report_error("the Django middleware")
        return None


class _Build:
    """Makes the RequestData of a Django request from its META, when first needed; holds the
    tracker's snippet proxy."""

    __slots__ = ("snippet",)

    def __init__(self, snippet: SnippetProxy | None) -> None:
        self.snippet = snippet

    def __call__(self, request: Any) -> RequestData:
        data = environ_request(request.META, path=request.path, scheme=request.scheme)
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            # Under ASGI, META holds Django's decoding; the URL wants what the client sent.
            raw = asgi_raw_path(scope)
            if raw is not None:
                data.raw_path = raw
            query = scope.get("query_string")
            if isinstance(query, bytes):
                data.query = query.decode("latin-1")
        return data


def _resolve(path: str) -> object | None:
    """What the URLconf answers ``path`` with (for :func:`check_routes`)."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404:
        return None
    return (match.route, match.url_name, match._func_path)


def _snippet_request(
    request: Any, build: _Build
) -> tuple[SnippetProxy, str, RequestData, bytes] | None:
    """The snippet proxy, endpoint, data and body of a request of the snippet, else ``None``."""
    try:
        proxy = build.snippet
        if proxy is None:
            return None
        endpoint = proxy.endpoint(request.path)
        if endpoint is None:
            return None
        data = build(request)
        body = _body(request) if proxy.wants_body(endpoint, data.method) else b""
        return proxy, endpoint, data, body
    except Exception:
        report_error("the snippet proxy")
        return None


def _body(request: Any) -> bytes:
    """At most ``MAX_BODY`` + 1 bytes of the body; a chunked one too, which Django's WSGI
    request takes as empty (no ``CONTENT_LENGTH``; gunicorn says ``wsgi.input_terminated``)."""
    meta = request.META
    if meta.get("wsgi.input_terminated") and not int(meta.get("CONTENT_LENGTH") or 0):
        return meta["wsgi.input"].read(MAX_BODY + 1)  # type: ignore[no-any-return]
    return request.read(MAX_BODY + 1)  # type: ignore[no-any-return]


def _response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    response["Content-Length"] = answer.content_length  # as the other adapters send it
    return response


def _respond(context: RequestContext, response: Any) -> None:
    try:
        # A request its method or path ruled out needs nothing from its response.
        if context.skip_reason is None:
            content_type, disposition, encoded, has_accept_ch = _response_info(response.headers)
            wants_body = context.respond(
                response.status_code, content_type, encoded, disposition=disposition
            )
            if context.adds_accept_ch:
                existing = response.headers["Accept-CH"] if has_accept_ch else None
                response["Accept-CH"] = merge_accept_ch(existing)
        else:
            wants_body = False
        if wants_body:
            if getattr(response, "streaming", False):
                context.finish()  # a streamed body is not read ahead
            else:
                context.body(response.content[:TITLE_WINDOW])
    except Exception:
        report_error("the Django middleware")
    context.finish()


def _response_info(headers: Any) -> tuple[str | None, str | None, bool, bool]:
    """``Content-Type``, ``Content-Disposition``, whether there is a ``Content-Encoding`` (a
    compressed body is not read), whether ``Accept-CH`` is set: one pass over the names, as
    asking Django's headers for each one that is missing raises and catches a KeyError."""
    content_type = disposition = None
    encoded = has_accept_ch = False
    for name in headers:
        key = name.lower()
        if key == "content-type":
            content_type = headers[name]
        elif key == "content-disposition":
            disposition = headers[name]
        elif key == "content-encoding":
            encoded = bool(headers[name])
        elif key == "accept-ch":
            has_accept_ch = True
    return content_type, disposition, encoded, has_accept_ch


def _keep_current(context: RequestContext, response: Any) -> None:
    """A streamed body is part of its request: the request is current again while the app's
    code makes each chunk, so the view helpers work in it (they would raise otherwise). A file
    (``FileResponse``) runs no app code and keeps its ``wsgi.file_wrapper`` path."""
    if not getattr(response, "streaming", False) or hasattr(response, "file_to_stream"):
        return
    try:
        if getattr(response, "is_async", False):
            response.streaming_content = _chunks_async(context, response.streaming_content)
        else:
            response.streaming_content = _chunks(context, response.streaming_content)
    except Exception:
        report_error("the Django middleware")


def _chunks(context: RequestContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        token = _current.set(context)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield chunk


async def _chunks_async(
    context: RequestContext, chunks: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    iterator = aiter(chunks)
    while True:
        token = _current.set(context)
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        finally:
            _current.reset(token)
        yield chunk
