"""WSGI middleware: Flask, Django's WSGI handler, Pyramid, Bottle, Falcon, any WSGI app."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .context import RequestContext, _current, report_error
from .pageview import CLIENT_HINTS, merge_accept_ch
from .request import RequestData, environ_path, environ_request
from .settings import Settings, SettingsOptions
from .snippet import MAX_BODY, Answer, SnippetProxy
from .tracker import Tracker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from typing_extensions import Unpack

__all__ = ["PirschMiddleware"]


class PirschMiddleware:
    """Tracks the requests a WSGI app serves as Pirsch page views.

    ``app.wsgi_app = PirschMiddleware(app.wsgi_app, access_key="pa_...")``. Takes a ready
    ``tracker``, a :class:`Settings`, or the settings' options as keywords. What the core needs is
    copied out of ``environ`` when the request arrives. A list, or a ``wsgi.file_wrapper``, is
    returned as it is. Any other iterable (a streamed body) is handed on in a thin wrapper in
    which the request is current again while the app makes each chunk and closes it, so view
    helpers work in the body until the server calls ``close()``. When the page view waits for
    the first chunk (a title to read, or a generator app's lazy ``start_response``), that chunk
    is taken before returning and the rest chained behind it.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        tracker: Tracker | None = None,
        settings: Settings | None = None,
        **options: Unpack[SettingsOptions],
    ) -> None:
        self.app = app
        self.tracker = tracker if tracker is not None else Tracker(settings, **options)
        #: The first-party snippet proxy (``None`` with ``snippet="off"``).
        self.snippet = SnippetProxy.of(self.tracker)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.snippet is not None:
            answer = _answer_snippet(self.snippet, environ)
            if answer is not None:
                status = f"{answer.status} {HTTPStatus(answer.status).phrase}"
                start_response(status, [*answer.headers, ("Content-Length", answer.content_length)])
                return [answer.body]
        try:
            path = environ_path(environ)
            context = RequestContext(
                self.tracker,
                environ.get("REQUEST_METHOD", "GET"),
                path,
                _from_environ,
                (environ, path),
            )
            if context.skip_reason is None:
                # The environ as it arrived, in one C call: the headers are read only when the
                # response is a page (a JSON answer or a redirect never pays for them).
                context._source = (dict(environ), path)
        except Exception:
            report_error("the WSGI middleware")
            return self.app(environ, start_response)
        if context.skip_reason is not None:
            # No page view whatever the response; events still find the request.
            token = _current.set(context)
            try:
                result = self.app(environ, start_response)
            finally:
                _current.reset(token)
                context.finish()
            return _hand_on(result, environ, context)
        wants_body = False

        def start_tracked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal wants_body
            try:
                code, content_type, encoded, disposition, has_accept_ch = _response_info(
                    status, headers
                )
                wants_body = context.respond(code, content_type, encoded, disposition)
                if context.adds_accept_ch:
                    # The usual response (no Accept-CH, seen above) is not walked again.
                    headers = (
                        _with_accept_ch(headers)
                        if has_accept_ch
                        else [*headers, ("Accept-CH", CLIENT_HINTS)]
                    )
            except Exception:
                report_error("the WSGI middleware")
            return start_response(status, headers, exc_info)

        token = _current.set(context)
        try:
            result = self.app(environ, start_tracked)
            if wants_body and not context.decided and isinstance(result, list | tuple):
                context.body(result[0] if result else b"")
            return _hand_on(result, environ, context)
        except BaseException:
            context.finish()
            raise
        finally:
            _current.reset(token)


def _from_environ(source: tuple[WSGIEnvironment, str]) -> RequestData:
    """The request's data, from the environ as it was when the request arrived (the app may
    change it), when first needed: at response start for a possible page view, or for an
    event."""
    return environ_request(source[0], path=source[1])


def _answer_snippet(snippet: SnippetProxy, environ: WSGIEnvironment) -> Answer | None:
    """The answer to a request of the snippet, or ``None`` for the app's requests."""
    try:
        endpoint = snippet.endpoint(environ_path(environ))
        if endpoint is None:
            return None
        request = environ_request(environ)
        body = b""
        if snippet.wants_body(endpoint, request.method):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > 0:
                body = environ["wsgi.input"].read(min(length, MAX_BODY + 1))
            elif environ.get("wsgi.input_terminated"):  # a chunked body (gunicorn, granian)
                body = environ["wsgi.input"].read(MAX_BODY + 1)
        return snippet.answer(endpoint, request, body)
    except Exception:
        report_error("the snippet proxy")
        return None


def _hand_on(
    result: Iterable[bytes], environ: WSGIEnvironment, context: RequestContext
) -> Iterable[bytes]:
    """The iterable for the server. A list, a file the server sends itself, or a body the
    adapter knows to be made already (``context.lazy_body``) runs no app code later and goes as
    it is. Any other iterable may (a streamed body): the request is made current again whenever
    the server asks it for a chunk, and when it closes it."""
    if context.decided:
        if not context.lazy_body or isinstance(result, list | tuple) or _is_file(result, environ):
            return result
        return _Current((), iter(result), result, context)
    if isinstance(result, list | tuple) or _is_file(result, environ):
        context.finish()
        return result
    # The title (or, from a generator app, the response itself) comes with the first chunk:
    # take it now, with the request still current, and hand the rest on.
    return _first_chunk(result, context)


def _is_file(result: Iterable[bytes], environ: WSGIEnvironment) -> bool:
    file_wrapper = environ.get("wsgi.file_wrapper")
    return isinstance(file_wrapper, type) and isinstance(result, file_wrapper)


def _first_chunk(result: Iterable[bytes], context: RequestContext) -> Iterable[bytes]:
    iterator = iter(result)
    try:
        first: tuple[bytes, ...] = (next(iterator),)
    except StopIteration:
        first = ()
    except BaseException:
        # The server never sees this iterable, so it cannot close it: we must.
        close: Callable[[], None] | None = getattr(result, "close", None)
        if close is not None:
            close()
        raise
    context.body(first[0] if first else b"")
    if context.lazy_body:
        return _Current(first, iterator, result, context)
    return _Rest(first, iterator, result)


class _Rest:
    """The app's chunks after the first was read, from a body made already: iterated at C
    speed, and closed with the app's own ``close`` (PEP 3333 has the server call it). ``close``
    is a method of the class: as an instance attribute, granian's WSGI workers sometimes took
    30 s to exit (tests/test_shutdown.py)."""

    __slots__ = ("_chunks", "_result")

    def __init__(
        self, first: tuple[bytes, ...], iterator: Iterator[bytes], result: Iterable[bytes]
    ) -> None:
        self._chunks = itertools.chain(first, iterator)
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        close: Callable[[], None] | None = getattr(self._result, "close", None)
        if close is not None:
            close()


class _Current:
    """The app's chunks (after the first, when it was read) from a streamed body. The request is
    current while the app's code makes each chunk and closes the iterable, so a streamed body
    may emit events; ``close`` (which PEP 3333 has the server call) closes the app's iterable."""

    __slots__ = ("_chunks", "_context", "_result")

    def __init__(
        self,
        first: tuple[bytes, ...],
        iterator: Iterator[bytes],
        result: Iterable[bytes],
        context: RequestContext,
    ) -> None:
        self._chunks = itertools.chain(first, iterator)
        self._result = result
        self._context = context

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        token = _current.set(self._context)
        try:
            return next(self._chunks)
        finally:
            _current.reset(token)

    def close(self) -> None:
        close: Callable[[], None] | None = getattr(self._result, "close", None)
        if close is not None:
            token = _current.set(self._context)
            try:
                close()
            finally:
                _current.reset(token)


def _with_accept_ch(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A copy of the response headers with the client hints added to ``Accept-CH``."""
    existing = ", ".join(v for n, v in headers if n.lower() == "accept-ch") or None
    kept = [(n, v) for n, v in headers if n.lower() != "accept-ch"]
    return [*kept, ("Accept-CH", merge_accept_ch(existing))]


def _response_info(
    status: str, headers: list[tuple[str, str]]
) -> tuple[int, str | None, bool, str | None, bool]:
    """Status code, ``Content-Type``, whether encoded, ``Content-Disposition``, and whether the
    app set ``Accept-CH``: one pass over the headers."""
    content_type = disposition = None
    encoded = has_accept_ch = False
    for name, value in headers:
        key = name.lower()
        if key == "content-type":
            content_type = value
        elif key == "content-encoding":
            encoded = value.strip().lower() != "identity"
        elif key == "content-disposition":
            disposition = value
        elif key == "accept-ch":
            has_accept_ch = True
    try:
        code = int(status[:3])
    except ValueError:
        code = 0
    return code, content_type, encoded, disposition, has_accept_ch
