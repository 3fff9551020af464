"""The Flask extension: the init_app contract, configuration precedence, exempt views."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask

from pirsch_middleware import ConfigurationError, OutsideRequestError, track_event
from pirsch_middleware.flask import Pirsch
from pirsch_middleware.testing import FakePirschAPI
from pirsch_middleware.wsgi import PirschMiddleware

from .conftest import ACCESS_KEY, BROWSER_HEADERS

VISITOR = {"REMOTE_ADDR": "203.0.113.7"}


def make_app(api: FakePirschAPI | None = None, **config: Any) -> Flask:
    app = Flask(__name__, static_folder=None)
    if api is not None:
        app.config.update(PIRSCH_ACCESS_KEY=ACCESS_KEY, PIRSCH_BASE_URL=api.base_url)
    app.config.update(config)
    return app


@pytest.fixture(autouse=True)
def _no_pirsch_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ACCESS_KEY",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "BASE_URL",
        "TRUSTED_PROXIES",
        "PROXY",
    ):
        monkeypatch.delenv(f"PIRSCH_{name}", raising=False)


@pytest.fixture
def closing() -> Any:
    apps: list[Flask] = []
    yield apps.append
    for app in apps:
        app.extensions["pirsch"].tracker.close(2)


def test_extension_tracks_pages_and_exempt_views(api: FakePirschAPI, closing: Any) -> None:
    app = make_app(api, PIRSCH_SYNC=True)
    pirsch = Pirsch(app)
    closing(app)

    @app.get("/")
    def home() -> str:
        return "<title>Flask</title>"

    @app.get("/health")
    @pirsch.exempt
    def health() -> str:
        return "<title>ok</title>"

    @app.post("/signup")
    @track_event("Signup")
    def signup() -> str:
        return "thanks"

    client = app.test_client()
    client.get("/", headers=BROWSER_HEADERS, environ_base=VISITOR)
    client.get("/health", headers=BROWSER_HEADERS, environ_base=VISITOR)
    client.post("/signup", headers=BROWSER_HEADERS, environ_base=VISITOR)
    assert [(r.kind, r.body["url"]) for r in api.received] == [
        ("hit", "http://localhost/"),
        ("event", "http://localhost/signup"),
    ]
    state = app.extensions["pirsch"]
    assert isinstance(state, PirschMiddleware)
    assert app.wsgi_app is state
    with app.app_context():
        assert pirsch.tracker is state.tracker
    assert state.tracker.stats().skipped == {"view": 1, "method": 1}


def test_factory_pattern_serves_several_apps(api: FakePirschAPI, closing: Any) -> None:
    pirsch = Pirsch(batch_size=7)
    first, second = make_app(api), make_app(api, PIRSCH_BATCH_SIZE=9)
    pirsch.init_app(first)
    pirsch.init_app(second, flush_interval=0.5)
    closing(first)
    closing(second)
    one, two = first.extensions["pirsch"].tracker, second.extensions["pirsch"].tracker
    assert one is not two
    # init_app arguments > Pirsch() arguments > app.config > defaults
    assert (one.settings.batch_size, one.settings.flush_interval) == (7, 0.1)
    assert (two.settings.batch_size, two.settings.flush_interval) == (7, 0.5)
    assert not hasattr(pirsch, "app")
    with second.app_context():
        assert pirsch.tracker is two


def test_app_config_is_read(api: FakePirschAPI, closing: Any) -> None:
    app = make_app(
        PIRSCH_ACCESS_KEY=ACCESS_KEY,
        PIRSCH_BASE_URL=api.base_url,
        PIRSCH_SYNC=True,
        PIRSCH_EXCLUDE_PATHS=["/admin/"],
        PIRSCH_TRUSTED_PROXIES=["192.0.2.0/24"],
    )
    Pirsch(app)
    closing(app)

    @app.get("/<path:page>")
    def page(page: str) -> str:
        return "<title>page</title>"

    client = app.test_client()
    forwarded = {**BROWSER_HEADERS, "X-Forwarded-For": "198.51.100.9"}
    client.get("/admin/users", headers=BROWSER_HEADERS, environ_base=VISITOR)
    client.get("/from-proxy", headers=forwarded, environ_base={"REMOTE_ADDR": "192.0.2.5"})
    client.get("/forged", headers=forwarded, environ_base=VISITOR)
    # The access key authenticated; the proxy is trusted, the visitor is not; /admin/ is left out.
    assert [(r.body["url"], r.body["ip"], r.token) for r in api.received] == [
        ("http://localhost/from-proxy", "198.51.100.9", ACCESS_KEY),
        ("http://localhost/forged", "203.0.113.7", ACCESS_KEY),
    ]
    assert app.extensions["pirsch"].tracker.stats().skipped == {"excluded_path": 1}


def test_django_style_pirsch_dict_is_pointed_out() -> None:
    app = make_app(PIRSCH={"access_key": ACCESS_KEY})
    with pytest.raises(ConfigurationError, match=r"PIRSCH_<NAME> keys in Flask") as info:
        Pirsch(app)
    assert ACCESS_KEY not in str(info.value)


def test_unknown_config_key_names_it() -> None:
    app = make_app(PIRSCH_ACESS_KEY="typo")
    with pytest.raises(
        ConfigurationError,
        match=r"app.config: expected the name of a setting \(did you mean 'PIRSCH_ACCESS_KEY'\?\), got 'PIRSCH_ACESS_KEY'",
    ):
        Pirsch(app)


def test_bad_config_value_raises_at_init(api: FakePirschAPI) -> None:
    with pytest.raises(ConfigurationError, match="batch_size"):
        Pirsch(make_app(api, PIRSCH_BATCH_SIZE=0))
    with pytest.raises(ConfigurationError, match=r"Pirsch\(\): .* got 'bogus'"):
        Pirsch(bogus=1)  # type: ignore[call-arg]


def test_installing_twice_is_refused(closing: Any) -> None:
    app = make_app()
    Pirsch(app)
    closing(app)
    with pytest.raises(RuntimeError, match="already installed"):
        Pirsch(app)


def test_tracker_outside_app_context_says_so() -> None:
    with pytest.raises(RuntimeError, match="app context"):
        _ = Pirsch().tracker


def test_precedence_code_then_config_then_environment_then_defaults(closing: Any) -> None:
    environment = {"PIRSCH_BATCH_SIZE": "3", "PIRSCH_MAX_RETRIES": "4", "PIRSCH_TIMEOUT": "6"}
    app = make_app(PIRSCH_BATCH_SIZE=1, PIRSCH_MAX_RETRIES=2)
    Pirsch(app, batch_size=9, environ=environment)
    closing(app)
    chosen = app.extensions["pirsch"].tracker.settings
    assert chosen.batch_size == 9  # code over config and environment
    assert chosen.max_retries == 2  # config over environment
    assert chosen.timeout == 6.0  # environment over the default
    assert chosen.flush_interval == 0.1  # the default


def test_streamed_body_emits_events_after_its_first_chunk(api: FakePirschAPI, closing: Any) -> None:
    from flask import Response

    from pirsch_middleware import event

    app = make_app(api, PIRSCH_SYNC=True)
    Pirsch(app)
    closing(app)

    @app.get("/feed")
    def feed() -> Response:
        def parts() -> Any:
            yield "<title>Feed</title>"
            event("Chunk", meta={"n": 1})  # runs as the server reads the body
            yield "<p>one</p>"
            event("Chunk", meta={"n": 2})
            yield "<p>two</p>"

        return Response(parts(), mimetype="text/html")  # no stream_with_context needed

    response = app.test_client().get("/feed", headers=BROWSER_HEADERS, environ_base=VISITOR)
    assert response.data == b"<title>Feed</title><p>one</p><p>two</p>"
    response.close()
    assert [(r.kind, r.body.get("event_meta")) for r in api.received] == [
        ("hit", None),
        ("event", {"n": "1"}),
        ("event", {"n": "2"}),
    ]
    with pytest.raises(OutsideRequestError):  # the request is not current after it ended
        event("Late")


def test_a_body_flask_made_already_reaches_the_server_unwrapped(
    api: FakePirschAPI, closing: Any
) -> None:
    # No app code runs while the server reads a list body: no wrapper makes the request current
    # for each chunk (a streamed body keeps it: see the test above).
    from flask import Response

    app = make_app(api, PIRSCH_SYNC=True)
    Pirsch(app)
    closing(app)
    app.add_url_rule("/", "page", lambda: "<title>Made</title>")
    app.add_url_rule("/static/app.css", "css", lambda: Response("body {}", mimetype="text/css"))
    app.add_url_rule(
        "/feed", "feed", lambda: Response(iter([b"<title>Fed</title>"]), mimetype="text/html")
    )
    made = type(app.response_class(b"").get_app_iter({"REQUEST_METHOD": "GET"}))
    seen = {}
    for path in ("/", "/static/app.css", "/feed"):
        environ = {**_environ(path), **VISITOR}
        result = app.wsgi_app(environ, _start_response)
        if type(result) is made:
            kind = "as made"
        elif type(iter(result)) is itertools.chain:
            kind = "chained at C speed"
        else:
            kind = "current for each chunk"
        seen[path] = (kind, b"".join(result))
        result.close()  # type: ignore[attr-defined]
    assert seen == {
        "/": ("chained at C speed", b"<title>Made</title>"),  # the first chunk read: the title
        "/static/app.css": ("as made", b"body {}"),
        "/feed": ("current for each chunk", b"<title>Fed</title>"),
    }
    assert [h["title"] for h in api.hits] == ["Made", "Fed"]


def test_extension_adds_no_per_request_hook(api: FakePirschAPI, closing: Any) -> None:
    # Flask dispatches every after_request hook on every request, assets included (about a
    # microsecond each); the extension learns whether a body is made from the WSGI result.
    app = make_app(api, PIRSCH_SYNC=True)
    Pirsch(app)
    closing(app)
    app.add_url_rule("/", "page", lambda: "<title>Made</title>")
    assert app.test_client().get("/", headers=BROWSER_HEADERS).status_code == 200
    assert not any(app.after_request_funcs.values())
    assert not any(app.before_request_funcs.values())
    assert [h["title"] for h in api.hits] == ["Made"]


def test_the_body_served_decides_not_the_views(api: FakePirschAPI, closing: Any) -> None:
    # An after_request hook of the app (or an error handler) may replace the view's response:
    # what the server gets is what counts, made or streamed.
    from flask import Response

    from pirsch_middleware import event

    app = make_app(api, PIRSCH_SYNC=True)
    Pirsch(app)
    closing(app)

    def parts() -> Any:
        yield b"<title>Late</title>"
        event("Chunk")  # needs the request current while the server reads the body

    app.add_url_rule("/made", "made", lambda: Response(parts(), mimetype="text/html"))
    app.add_url_rule("/streamed", "streamed", lambda: "<title>Early</title>")

    @app.after_request
    def swap(response: Response) -> Response:
        if response.is_streamed:
            return Response("<title>Swapped</title>", mimetype="text/html")
        return Response(parts(), mimetype="text/html")

    kinds = {}
    for path in ("/made", "/streamed"):
        result = app.wsgi_app({**_environ(path), **VISITOR}, _start_response)
        kinds[path] = type(iter(result)) is itertools.chain  # handed on at C speed
        b"".join(result)
        result.close()  # type: ignore[attr-defined]
    assert kinds == {"/made": True, "/streamed": False}
    assert [(r.kind, r.body.get("title")) for r in api.received] == [
        ("hit", "Swapped"),
        ("hit", "Late"),
        ("event", None),
    ]


def test_a_response_class_of_its_own_keeps_events_in_its_body(
    api: FakePirschAPI, closing: Any
) -> None:
    # A response class whose WSGI result is not Werkzeug's ClosingIterator: the body is treated
    # as streamed (the request current for each chunk), which is right for either kind.
    from flask import Response

    from pirsch_middleware import event

    class Bare(Response):
        def get_app_iter(self, environ: Any) -> Any:
            return self.iter_encoded()

    app = make_app(api, PIRSCH_SYNC=True)
    app.response_class = Bare
    Pirsch(app)
    closing(app)

    def parts() -> Any:
        yield "<title>Own</title>"
        event("Chunk")
        yield "<p>more</p>"

    app.add_url_rule("/", "page", lambda: Bare(parts(), mimetype="text/html"))
    response = app.test_client().get("/", headers=BROWSER_HEADERS, environ_base=VISITOR)
    assert response.data == b"<title>Own</title><p>more</p>"
    response.close()
    assert [(r.kind, r.body.get("title")) for r in api.received] == [
        ("hit", "Own"),
        ("event", None),
    ]


def _environ(path: str) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path=path, headers=list(BROWSER_HEADERS.items())).get_environ()


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
    return None
