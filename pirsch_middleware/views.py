"""What a view can do with the request being tracked: send events and keep-alives, set its page
view's title and tags or skip it; and the view decorators (:func:`track_event`, :func:`exempt`),
with what the adapters read to find them above a route decorator.

The helpers find the request through :func:`~pirsch_middleware.context.current`, so they work the
same in every framework (see :mod:`~pirsch_middleware.context`).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, TypeVar, cast

from .context import RequestContext, current, report_error
from .records import check_meta, check_tags

__all__ = [
    "decorators_above",
    "event",
    "exempt",
    "is_exempt",
    "keep_alive",
    "outermost",
    "set_tags",
    "set_title",
    "skip_page_view",
    "track_event",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def event(
    name: str,
    *,
    meta: Mapping[str, object] | None = None,
    duration: float | None = None,
    non_interactive: bool = False,
    title: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> None:
    """Send an event for the current request (after its page view, if it has one).

    Arguments the API would refuse are logged and counted as skipped ``"invalid"``: an event
    never raises into a view, except :class:`OutsideRequestError` outside a tracked request.
    """
    current().add_event(
        {
            "name": name,
            "meta": meta,
            "duration": duration,
            "non_interactive": non_interactive,
            "title": title,
            "tags": tags,
        }
    )


def keep_alive() -> None:
    """Extend the visitor's session without a page view (Pirsch's session endpoint)."""
    context = current()
    try:
        context.tracker.track_session(context.request)
    except Exception:
        report_error("keep_alive")


def set_title(title: str) -> None:
    """The title of the current request's page view (instead of the one read from the body)."""
    current().title = str(title)


def set_tags(tags: Mapping[str, object]) -> None:
    """Tags of the current request's page view; tags the API would refuse are logged, not set."""
    context = current()
    try:
        context.tags = check_tags(tags)
    except ValueError as error:
        context.invalid("invalid tags", "pirsch_middleware: tags not set: %s", error)


def skip_page_view() -> None:
    """The current request is no page view (its events are still sent)."""
    current().skip()


def exempt(view: _F) -> _F:
    """Decorate a view (sync or async) whose requests are no page views.

    Below the route decorator it wraps the view. Above it (``@exempt`` over ``@app.route`` or
    ``@app.get``), where the framework has already registered the plain function, it marks that
    function: Flask's extension and the ASGI middleware (Starlette, FastAPI) look the route's
    function up per request, so the order does not matter there.
    """
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def exempt_async(*args: Any, **kwargs: Any) -> Any:
            skip_page_view()
            return await view(*args, **kwargs)

        return _mark(view, cast(_F, exempt_async), exempt=True)

    @functools.wraps(view)
    def exempt_sync(*args: Any, **kwargs: Any) -> Any:
        skip_page_view()
        return view(*args, **kwargs)

    return _mark(view, cast(_F, exempt_sync), exempt=True)


def _mark(view: Any, decorated: _F, *, exempt: bool = False) -> _F:
    """Remember on ``view`` the function decorating it (see :func:`outermost`)."""
    with suppress(AttributeError, TypeError):  # a builtin or a bound method takes none
        if exempt:
            setattr(decorated, "__pirsch_exempt__", True)  # noqa: B010
            setattr(view, "__pirsch_exempt__", True)  # noqa: B010
        setattr(view, "__pirsch_decorated__", decorated)  # noqa: B010
    return decorated


def decorators_above(view: Any) -> list[Any]:
    """The pirsch_middleware decorators applied to ``view`` after a framework registered it
    (above its route decorator), innermost first."""
    chain: list[Any] = []
    while len(chain) < 16:  # our own decorators; bounded against a cycle
        decorated = getattr(view, "__pirsch_decorated__", None)
        if decorated is None or decorated is view:
            break
        chain.append(decorated)
        view = decorated
    return chain


def outermost(view: Any) -> Any:
    """The outermost pirsch_middleware decorator of ``view`` (``view`` itself if none): what a
    route should call when the decorators sit above the route decorator."""
    chain = decorators_above(view)
    return chain[-1] if chain else view


def is_exempt(view: Any) -> bool:
    """Whether ``view`` was decorated with :func:`exempt`, above or below its route."""
    return bool(getattr(view, "__pirsch_exempt__", False))


def track_event(
    name: str,
    *,
    meta: Mapping[str, object] | Callable[[Any], Mapping[str, object] | None] | None = None,
    duration: float | bool | None = None,
    non_interactive: bool = False,
) -> Callable[[_F], _F]:
    """Decorate a view (sync or async) to send an event each time it returns.

    ``meta`` is a mapping, or a callable that receives the view's result and returns one;
    ``duration=True`` measures the view in seconds. A view that raises sends no event. The
    arguments are checked here, when the module defining the view is imported.

    Put it below the route decorator (``@app.route`` / ``@app.get`` first, then
    ``@track_event``). Above it, Flask's extension still calls the decorated view; Starlette and
    FastAPI call the plain function, and the ASGI middleware logs a warning naming the view.
    """
    if callable(name):
        raise TypeError(
            'track_event needs an event name: write @track_event("Signup") above the view, '
            "not a bare @track_event"
        )
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"track_event: name: expected a non-empty event name, got {name!r}")
    if meta is not None and not callable(meta):
        check_meta(meta)
    if duration is not None and not isinstance(duration, bool | int | float):
        raise ValueError(f"track_event: duration: expected seconds or True, got {duration!r}")
    measure = duration is True

    def emit(context: RequestContext, result: Any, started: float) -> None:
        try:
            values = meta(result) if callable(meta) else meta
        except Exception:
            report_error(f"the meta callable of track_event({name!r})")
            values = None
        seconds = time.perf_counter() - started if measure else duration or None
        context.add_event(
            {
                "name": name,
                "meta": values,
                "duration": seconds,
                "non_interactive": non_interactive,
            }
        )

    def decorate(view: _F) -> _F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def tracked_async(*args: Any, **kwargs: Any) -> Any:
                context = current()
                started = time.perf_counter()
                result = await view(*args, **kwargs)
                emit(context, result, started)
                return result

            tracked_async.__pirsch_event__ = name  # type: ignore[attr-defined]
            return _mark(view, cast(_F, tracked_async))

        @functools.wraps(view)
        def tracked_sync(*args: Any, **kwargs: Any) -> Any:
            context = current()
            started = time.perf_counter()
            result = view(*args, **kwargs)
            emit(context, result, started)
            return result

        tracked_sync.__pirsch_event__ = name  # type: ignore[attr-defined]
        return _mark(view, cast(_F, tracked_sync))

    return decorate
