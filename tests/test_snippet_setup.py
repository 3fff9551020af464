"""Setting the snippet proxy up: its settings, the start-up refusal of a prefix an app route
answers, and the ``<script>`` tag the template helpers write."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.urls import path as django_path

from pirsch_middleware import ConfigurationError, Settings
from pirsch_middleware.snippet_tag import snippet_tag
from pirsch_middleware.testing import FakePirschAPI

from .conftest import ACCESS_KEY, settings


def _page(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("<title>Mine</title>")


#: A URLconf with a route of its own under the proxy's prefix (ROOT_URLCONF of one test).
urlpatterns = [django_path("p/e", _page)]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("snippet", "on"),
        ("snippet_prefix", "p"),
        ("snippet_prefix", "/"),
        ("snippet_prefix", "/p q/"),
        ("snippet_script_url", "ftp://example.com/pa.js"),
        ("snippet_cache_file", "/no/such/folder/pa.js"),
        ("snippet_refresh", 0),
    ],
)
def test_bad_snippet_setting_raises_naming_it(option: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=option):
        Settings(environ={}, **{option: value})


def test_snippet_settings_are_read_from_the_environment(tmp_path: Any) -> None:
    environ = {
        "PIRSCH_SNIPPET": "hybrid",
        "PIRSCH_SNIPPET_PREFIX": "/stats",
        "PIRSCH_SNIPPET_CACHE_FILE": str(tmp_path / "pa.js"),
        "PIRSCH_SNIPPET_REFRESH": "60",
    }
    chosen = Settings(environ=environ, base_url="http://127.0.0.1:9")
    assert chosen.snippet == "hybrid"
    assert chosen.snippet_prefix == "/stats/"
    assert chosen.snippet_cache_file == str(tmp_path / "pa.js")
    assert chosen.snippet_refresh == 60.0
    assert chosen.snippet_script_url == "http://127.0.0.1:9/pa.js"


def test_bad_snippet_variable_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="PIRSCH_SNIPPET"):
        Settings(environ={"PIRSCH_SNIPPET": "sometimes"})


def test_starlette_route_under_the_prefix_fails_the_start_up(api: FakePirschAPI) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from pirsch_middleware.asgi import PirschMiddleware

    async def mine(request: Any) -> PlainTextResponse:
        return PlainTextResponse("mine")

    app = Starlette(routes=[Route("/p/pa.js", mine)])
    app.add_middleware(PirschMiddleware, settings=settings(api, snippet="only"))
    with pytest.raises(ConfigurationError, match="snippet_prefix"), TestClient(app):
        pass


def test_starlette_catch_all_route_is_no_collision(api: FakePirschAPI) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from pirsch_middleware.asgi import PirschMiddleware

    async def anything(request: Any) -> PlainTextResponse:
        return PlainTextResponse("spa")

    app = Starlette(routes=[Route("/{rest:path}", anything)])
    app.add_middleware(PirschMiddleware, settings=settings(api, snippet="only"))
    with TestClient(app, client=("203.0.113.7", 4000)) as client:
        assert client.get("/p/pa.js").content == api.script
        assert client.get("/elsewhere").text == "spa"


def test_flask_route_under_the_prefix_is_refused(api: FakePirschAPI) -> None:
    from flask import Flask

    from pirsch_middleware.flask import Pirsch

    app = Flask("collides")
    app.add_url_rule("/p/s", "mine", lambda: "mine", methods=["POST"])
    with pytest.raises(ConfigurationError, match="snippet_prefix"):
        Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, snippet="only")
    assert "pirsch" not in app.extensions


def test_flask_route_added_later_wins_and_is_logged(
    api: FakePirschAPI, caplog: pytest.LogCaptureFixture
) -> None:
    from flask import Flask

    from pirsch_middleware.flask import Pirsch

    app = Flask("late")
    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, snippet="only")
    app.add_url_rule("/page", "page", lambda: "<title>Page</title>")
    app.add_url_rule("/p/pv", "mine", lambda: "mine")
    client = app.test_client()
    try:
        assert client.get("/p/pv").status_code == 400  # the proxy, before the first request
        assert client.get("/page").status_code == 200
        assert client.get("/p/pv").get_data() == b"mine"
    finally:
        app.extensions["pirsch"].tracker.close(2)
    assert "the snippet proxy is off: snippet_prefix" in caplog.text


def test_flask_tag_is_empty_once_a_later_route_turned_the_proxy_off(api: FakePirschAPI) -> None:
    from flask import Flask, render_template_string

    from pirsch_middleware.flask import Pirsch

    app = Flask("late_tag")
    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, snippet="only")
    app.add_url_rule("/page", "page", lambda: render_template_string("{{ pirsch_snippet() }}"))
    app.add_url_rule("/p/pa.js", "mine", lambda: "<html>the app's own page</html>")
    client = app.test_client()
    try:
        first = client.get("/page").get_data(as_text=True)  # the proxy is turned off here
        second = client.get("/page").get_data(as_text=True)
    finally:
        app.extensions["pirsch"].tracker.close(2)
    # Before: both pages loaded the app's own /p/pa.js as the script, and the snippet sent
    # its records to the app's routes.
    assert (first, second) == ("", "")


def test_django_route_under_the_prefix_is_improperly_configured(api: FakePirschAPI) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from pirsch_middleware.django import PirschMiddleware

    pirsch = {"access_key": ACCESS_KEY, "base_url": api.base_url, "environ": {}, "snippet": "only"}
    with (
        override_settings(PIRSCH=pirsch, ROOT_URLCONF=__name__),
        pytest.raises(ImproperlyConfigured, match="snippet_prefix"),
    ):
        PirschMiddleware(lambda request: None)


def test_tag_points_the_snippet_at_the_proxy() -> None:
    tag = snippet_tag(Settings(environ={}, snippet="only", snippet_prefix="/stats/"))
    assert tag == (
        '<script defer src="/stats/pa.js" id="pianjs" data-hit-endpoint="/stats/pv" '
        'data-event-endpoint="/stats/e" data-session-endpoint="/stats/s" '
        "data-enable-sessions></script>"
    )


def test_hybrid_tag_disables_the_snippets_page_views() -> None:
    tag = snippet_tag(Settings(environ={}, snippet="hybrid"), sessions=False, dev=True)
    assert "data-disable-page-views" in tag
    assert "data-enable-sessions" not in tag
    assert "data-dev" in tag


def test_tag_escapes_values_and_refuses_other_attribute_names() -> None:
    chosen = Settings(environ={}, snippet="only")
    tag = snippet_tag(chosen, code='"><script>', attributes={"data-domain": "a.example,b.example"})
    assert 'data-code="&quot;&gt;&lt;script&gt;"' in tag
    assert 'data-domain="a.example,b.example"' in tag
    with pytest.raises(ValueError, match="attributes"):
        snippet_tag(chosen, attributes={"onload": "alert(1)"})


def test_tag_is_empty_with_the_proxy_off() -> None:
    assert snippet_tag(Settings(environ={})) == ""


def test_django_template_tag_writes_the_script_tag(api: FakePirschAPI) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.template import Context, Engine
    from django.test import override_settings

    engine = Engine(libraries={"pirsch": "pirsch_middleware.django.templatetags.pirsch"})
    template = engine.from_string("{% load pirsch %}{% pirsch_snippet dev=True %}")
    pirsch = {"access_key": ACCESS_KEY, "base_url": api.base_url, "environ": {}}
    with override_settings(PIRSCH={**pirsch, "snippet": "hybrid"}):
        html = template.render(Context())
    assert html == snippet_tag(Settings(environ={}, snippet="hybrid"), dev=True)
    assert "data-disable-page-views" in html


def test_jinja_global_writes_the_script_tag(api: FakePirschAPI) -> None:
    from flask import Flask, render_template_string

    from pirsch_middleware.flask import Pirsch

    app = Flask("tagged")
    Pirsch(app, access_key=ACCESS_KEY, base_url=api.base_url, environ={}, snippet="only")
    try:
        with app.app_context():
            html = render_template_string("{{ pirsch_snippet(code='abc') }}")
    finally:
        app.extensions["pirsch"].tracker.close(2)
    assert html == snippet_tag(Settings(environ={}, snippet="only"), code="abc")
