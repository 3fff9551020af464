"""WSGI middleware: Flask, Django's WSGI handler, Pyramid, Bottle, Falcon, any WSGI app."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .context import RequestContext, _current, report_error
from .request import RequestData, environ_keys, environ_path, environ_request
from .settings import Settings, SettingsOptions
from .tracker import Tracker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from typing_extensions import Unpack

__all__ = ["PirschMiddleware"]


class PirschMiddleware:
    """Tracks the requests a WSGI app serves as Pirsch page views.

    ``app.wsgi_app = PirschMiddleware(app.wsgi_app, access_key="pa_...")``. Takes a ready
    ``tracker``, a :class:`Settings`, or the settings' options as keywords. What the core needs is
    copied out of ``environ`` when the request arrives. The app's iterable is returned as it is
    (so ``wsgi.file_wrapper`` and ``close()`` keep working), except for an HTML page whose title
    is read: that one is wrapped to see its first chunk, and the wrapper passes ``close()`` on.
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
        chosen = self.tracker.settings
        # A should_track rule may read any header; otherwise only those the core reads are copied.
        keys = None if chosen.should_track else environ_keys(chosen.ip_headers)

        # Built when the request arrives for a possible page view (the environ is read at once);
        # for other requests only if a view sends an event.
        def from_environ(source: tuple[WSGIEnvironment, str]) -> RequestData:
            return environ_request(source[0], keys, path=source[1])

        self._from_environ = from_environ

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            path = environ_path(environ)
            context = RequestContext(
                self.tracker,
                environ.get("REQUEST_METHOD", "GET"),
                path,
                self._from_environ,
                (environ, path),
            )
            if context.skip_reason is None:
                context.request  # noqa: B018 - copy what the core needs out of environ now
        except Exception:
            report_error("the WSGI middleware")
            return self.app(environ, start_response)
        if context.skip_reason is not None:
            # No page view whatever the response; events still find the request.
            token = _current.set(context)
            try:
                return self.app(environ, start_response)
            finally:
                _current.reset(token)
                context.finish()
        wants_body = False

        def start_tracked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal wants_body
            try:
                wants_body = context.respond(*_response_info(status, headers))
            except Exception:
                report_error("the WSGI middleware")
            return start_response(status, headers, exc_info)

        token = _current.set(context)
        try:
            result = self.app(environ, start_tracked)
        except BaseException:
            context.finish()
            raise
        finally:
            _current.reset(token)
        if not wants_body:
            # Decided already, or start_response not called yet (a generator app).
            if context.decided:
                return result
            return _FirstChunk(result, context)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(result, list | tuple):
            context.body(result[0] if result else b"")
            return result
        if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
            context.finish()
            return result
        return _FirstChunk(result, context)


class _FirstChunk:
    """Passes an app's iterable through, showing its first chunk to the request's context."""

    __slots__ = ("_context", "_iterator", "_result")

    def __init__(self, result: Iterable[bytes], context: RequestContext) -> None:
        self._result = result
        self._context = context
        self._iterator: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        context, iterator = self._context, iter(self._result)
        for chunk in iterator:
            context.body(chunk)
            yield chunk
            break
        else:
            context.finish()
            return
        yield from iterator

    def close(self) -> None:
        self._context.finish()
        close: Callable[[], None] | None = getattr(self._result, "close", None)
        if close is not None:
            close()


def _response_info(status: str, headers: list[tuple[str, str]]) -> tuple[int, str | None, bool]:
    content_type: str | None = None
    encoded = False
    for name, value in headers:
        key = name.lower()
        if key == "content-type":
            content_type = value
        elif key == "content-encoding":
            encoded = value.strip().lower() != "identity"
    try:
        code = int(status[:3])
    except ValueError:
        code = 0
    return code, content_type, encoded
