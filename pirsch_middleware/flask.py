"""Flask extension: ``Pirsch(app)`` or ``Pirsch()`` + ``init_app(app)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context
from markupsafe import Markup
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from .context import _current, report_error
from .errors import ConfigurationError
from .settings import Settings, SettingsOptions
from .snippet import check_routes
from .snippet_tag import snippet_tag
from .stats import logger
from .tracker import Tracker
from .views import exempt, outermost
from .wsgi import PirschMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from typing_extensions import Unpack

__all__ = ["Pirsch"]

PREFIX = "PIRSCH_"


class Pirsch:
    """Tracks a Flask app's page views with the WSGI middleware around ``app.wsgi_app``.

    Options come from, highest first: per-view decorators (``@pirsch.exempt``,
    ``@track_event``), keyword arguments to ``init_app``, keyword arguments to ``Pirsch()``,
    ``PIRSCH_*`` keys in ``app.config`` (``PIRSCH_ACCESS_KEY``, ``PIRSCH_EXCLUDE_PATHS``, ...),
    then the ``PIRSCH_*`` environment variables and defaults. The state of each app lives in
    ``app.extensions["pirsch"]``, so one extension object can serve several apps.
    """

    #: Decorate a view whose requests are no page views.
    exempt = staticmethod(exempt)

    def __init__(self, app: Flask | None = None, **options: Unpack[SettingsOptions]) -> None:
        Settings.check_names(options, "Pirsch()")
        self._options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options: Unpack[SettingsOptions]) -> None:
        """Install the middleware on ``app``; bad configuration raises ``ConfigurationError``."""
        if "pirsch" in app.extensions:
            raise RuntimeError("Pirsch is already installed on this app")
        Settings.check_names(options, "init_app()")
        if "PIRSCH" in app.config:  # Django's form: say so rather than ignore it
            raise ConfigurationError(
                "app.config['PIRSCH']",
                "PIRSCH_<NAME> keys in Flask, such as app.config['PIRSCH_ACCESS_KEY'], "
                "not a PIRSCH dict",
                app.config["PIRSCH"],
                secret=True,
            )
        config = {k: v for k, v in app.config.items() if k.startswith(PREFIX)}
        Settings.check_names(config, "app.config", PREFIX)
        config = {k[len(PREFIX) :].lower(): v for k, v in config.items()}
        tracker = Tracker(Settings(**{**config, **self._options, **options}))
        middleware = PirschMiddleware(_noting_body(app.wsgi_app), tracker=tracker)
        if middleware.snippet is not None:
            try:
                check_routes(middleware.snippet, _matcher(app), "a route of the app")
            except ConfigurationError:
                tracker.close(0)
                raise
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["pirsch"] = middleware
        app.before_request(_first_request(middleware))
        settings = tracker.settings

        def pirsch_snippet(**options: Any) -> Markup:
            """The snippet's ``<script>`` tag (see :func:`snippet_tag`); ``""`` while the proxy
            is off, also once a route added later turned it off."""
            if middleware.snippet is None:
                return Markup("")
            return Markup(snippet_tag(settings, **options))  # noqa: S704 (values escaped there)

        app.jinja_env.globals["pirsch_snippet"] = pirsch_snippet

    @property
    def tracker(self) -> Tracker:
        """The tracker of the current app (needs an app context)."""
        if not has_app_context():
            raise RuntimeError("Pirsch.tracker needs an app context: use app.extensions['pirsch']")
        middleware: PirschMiddleware = current_app.extensions["pirsch"]
        return middleware.tracker


def _matcher(app: Flask) -> Callable[[str], object | None]:
    """What answers a path in the app's URL map (for :func:`check_routes`): the routes
    registered so far."""
    adapter = app.url_map.bind("localhost")

    def match(path: str) -> object | None:
        try:
            endpoint: object = adapter.match(path)[0]
            return endpoint
        except MethodNotAllowed:  # a route of the app, for other methods
            return path
        except RequestRedirect as redirect:
            return redirect.new_url
        except NotFound:
            return None

    return match


def _noting_body(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Flask's ``wsgi_app`` for the middleware: it tells the middleware whether the body is made
    already (no app code runs while the server reads it, Werkzeug's ``is_streamed`` false), so
    that such a body goes to the server as it is, not in the wrapper that makes the request
    current for each chunk (about 3 µs a request).

    Werkzeug's ``Response.__call__`` returns ``ClosingIterator(body, response.close)``, whose
    last close callback (in its private ``_callbacks``) is bound to the response. Read from the
    result, this costs about
    0.5 µs a request less than an ``after_request`` hook (Flask's dispatch of one; see
    ``benchmarks/results.md``). Any other result (a custom response class, another Werkzeug)
    is wrapped: the streamed body's behaviour, always correct.
    """

    def noting_body(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        result = wsgi_app(environ, start_response)
        try:
            callbacks = getattr(result, "_callbacks", None)
            if callbacks:
                response = getattr(callbacks[-1], "__self__", None)
                if isinstance(response, Response) and not response.is_streamed:
                    context = _current.get()
                    if context is not None:
                        context.lazy_body = False
        except Exception:
            report_error("the Flask extension")
        return result

    return noting_body


def _first_request(middleware: PirschMiddleware) -> Callable[[], None]:
    """A ``before_request`` hook for what can be done only once every route is known, at the
    first request (Flask refuses new routes after it), after which the hook removes itself:
    Flask spends about a microsecond per request on each hook it calls.

    - ``@pirsch.exempt`` or ``@track_event`` above ``@app.route`` decorate a function Flask never
      calls (the route registered the plain one), so every endpoint is pointed at its decorated
      view. Flask looks the view up after its ``before_request`` hooks: that request counts too.
    - Routes added after ``init_app``: when one answers a path of the snippet proxy, the proxy
      is turned off, so the app's route wins, and that is logged as an error.
    """

    def first_request() -> None:
        views = current_app.view_functions
        for endpoint, view in list(views.items()):
            decorated = outermost(view)
            if decorated is not view:
                views[endpoint] = decorated
        if middleware.snippet is not None:
            try:
                check_routes(middleware.snippet, _matcher(current_app), "a route of the app")
            except ConfigurationError as error:
                middleware.snippet = None
                logger.error("pirsch_middleware: the snippet proxy is off: %s", error)
        hooks = current_app.before_request_funcs
        # A new list: a request iterating the old one (in another thread) is not disturbed.
        hooks[None] = [h for h in hooks.get(None, ()) if h is not first_request]

    return first_request
