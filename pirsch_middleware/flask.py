"""Flask extension: ``Pirsch(app)`` or ``Pirsch()`` + ``init_app(app)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, has_app_context

from .context import _current, exempt, outermost
from .errors import ConfigurationError
from .settings import Settings, SettingsOptions
from .tracker import Tracker
from .wsgi import PirschMiddleware

if TYPE_CHECKING:
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
        middleware = PirschMiddleware(app.wsgi_app, tracker=tracker)
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["pirsch"] = middleware
        app.before_request(_decorated_views())
        app.after_request(_note_body)

    @property
    def tracker(self) -> Tracker:
        """The tracker of the current app (needs an app context)."""
        if not has_app_context():
            raise RuntimeError("Pirsch.tracker needs an app context: use app.extensions['pirsch']")
        middleware: PirschMiddleware = current_app.extensions["pirsch"]
        return middleware.tracker


def _note_body(response: Response) -> Response:
    """Tell the middleware whether the body is made already (no app code runs while the server
    reads it): then it is handed to the server as it is, not in a wrapper that makes the request
    current for each chunk (Werkzeug's ``is_streamed``: a body without a length)."""
    context = _current.get()
    if context is not None and not response.is_streamed:
        context.lazy_body = False
    return response


def _decorated_views() -> Callable[[], None]:
    """A ``before_request`` hook for ``@pirsch.exempt`` or ``@track_event`` above ``@app.route``:
    they decorate a function Flask never calls (the route registered the plain one), so at the
    first request every endpoint is pointed at its decorated view. Once is enough: Flask refuses
    new routes after the first request, and it looks the view up after its ``before_request``
    hooks, so that request counts too. Then the hook removes itself: Flask spends about a
    microsecond per request on each hook it calls."""

    def point_endpoints_at_decorated_views() -> None:
        views = current_app.view_functions
        for endpoint, view in list(views.items()):
            decorated = outermost(view)
            if decorated is not view:
                views[endpoint] = decorated
        hooks = current_app.before_request_funcs
        # A new list: a request iterating the old one (in another thread) is not disturbed.
        hooks[None] = [
            h for h in hooks.get(None, ()) if h is not point_endpoints_at_decorated_views
        ]

    return point_endpoints_at_decorated_views
