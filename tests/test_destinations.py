"""Several dashboards (the ``destinations`` setting): each record to each, none held back."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from pirsch_middleware import ConfigurationError, Destination, Settings, Tracker, trackers
from pirsch_middleware import sender as sender_module
from pirsch_middleware.sender import Sender
from pirsch_middleware.testing import FakePirschAPI, Reply

from .conftest import ACCESS_KEY, BROWSER_HEADERS, CLIENT_ID, CLIENT_SECRET, request, settings
from .snippet_harness import VISITOR, served
from .test_snippet import event_body

ROLLUP_KEY = "pa_" + "r" * 45
OTHER_KEY = "pa_" + "o" * 45


@pytest.fixture
def rollup() -> Iterator[FakePirschAPI]:
    """A second Pirsch API: the rollup dashboard's."""
    with FakePirschAPI(access_keys=(ROLLUP_KEY, OTHER_KEY)) as fake:
        yield fake


def two(rollup: FakePirschAPI, **options: Any) -> dict[str, Any]:
    """Options sending to ``rollup`` too, besides the main dashboard (``make_tracker(api)``)."""
    to_rollup = {"name": "rollup", "access_key": ROLLUP_KEY, "base_url": rollup.base_url}
    return {"destinations": [to_rollup], **options}


def urls(api: FakePirschAPI) -> list[str]:
    return [received.body["url"].removeprefix("https://example.com") for received in api.received]


def test_one_failing_dashboard_holds_back_none_and_catches_up_in_order(
    api: FakePirschAPI, rollup: FakePirschAPI, make_tracker: Any
) -> None:
    tracker: Tracker = make_tracker(
        api,
        **two(
            rollup,
            flush_interval=0.05,
            retry_backoff=0.2,  # 0.1 to 0.2 s between tries: the 503s below last over 0.8 s
            retry_backoff_max=0.2,
            max_retries=1_000,
        ),
    )
    sent: list[str] = []

    def visit(path: str) -> None:
        assert tracker.track_page_view(request(path))
        sent.append(path)
        # On time: within a few flush intervals, whatever the rollup's API does meanwhile.
        api.wait_for(len(sent), timeout=2.0)

    rollup.fail_next(*[Reply(503)] * 8)  # 5xx for a while ...
    for n in range(3):
        visit(f"/answered-503/{n}")
        time.sleep(0.1)
    with rollup.down():  # ... then no connection, for longer than the 2 s above ...
        for n in range(6):
            visit(f"/refused/{n}")
            time.sleep(0.5)
        assert rollup.received == []
    # ... then back: it gets everything it missed, in order, once.
    assert tracker.flush(10)
    assert urls(api) == sent
    assert urls(rollup) == sent
    stats = tracker.stats()
    assert stats.destinations["main"].retried == 0
    assert stats.destinations["rollup"].retried > 0
    assert stats.destinations["rollup"].sent == len(sent)
    assert stats.sent == 2 * len(sent)
    assert stats.dropped == {}


@pytest.mark.parametrize("how", ["close", "exit"])
def test_dashboards_that_never_answer_share_one_deadline(
    api: FakePirschAPI,
    rollup: FakePirschAPI,
    make_tracker: Any,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    with FakePirschAPI() as stalled:
        api.delay = stalled.delay = 30.0  # the main dashboard's and another never answer
        tracker: Tracker = make_tracker(
            api,
            flush_interval=10.0,  # the records still wait in every queue when close() comes
            shutdown_timeout=2.0,
            destinations=[
                {"name": "stalled", "access_key": OTHER_KEY, "base_url": stalled.base_url},
                {"name": "rollup", "access_key": ROLLUP_KEY, "base_url": rollup.base_url},
            ],
        )
        for n in range(3):
            assert tracker.track_page_view(request(f"/{n}"))
        start = time.monotonic()
        if how == "close":
            tracker.close(2.0)
        else:  # the process's exit hook closes every sender it has, each by its own timeout
            sender_module._at_exit()
        took = time.monotonic() - start
    # One deadline for all (not 2 s each); the rollup, last in the list, delivered meanwhile.
    assert took < 3.0
    assert urls(rollup) == ["/0", "/1", "/2"]
    each = tracker.stats().destinations
    assert each["main"].dropped == {"shutdown": 3}
    assert each["stalled"].dropped == {"shutdown": 3}
    assert each["rollup"].dropped == {}
    assert each["rollup"].sent == 3
    # The drop lines name each dashboard, at the exit hook too (it closes the senders itself).
    assert "pirsch_middleware (main): dropped 3 records (shutdown: 3)" in caplog.text
    assert "pirsch_middleware (stalled): dropped 3 records (shutdown: 3)" in caplog.text


def test_each_record_is_built_once_for_all_dashboards(
    api: FakePirschAPI, rollup: FakePirschAPI, make_tracker: Any
) -> None:
    seen: list[str] = []

    def before_send(record: Any) -> Any:
        seen.append(record.url)
        return None if record.url.endswith("/private") else record

    tracker = make_tracker(api, **two(rollup, before_send=before_send))
    for path in ("/a", "/private", "/b"):
        assert tracker.track_page_view(request(path))
    assert tracker.flush(5)
    assert sorted(seen) == sorted(f"https://example.com{p}" for p in ("/a", "/private", "/b"))
    assert urls(api) == urls(rollup) == ["/a", "/b"]
    assert tracker.stats().skipped == {"before_send": 1}


def test_sync_mode_sends_to_every_dashboard_before_returning(
    api: FakePirschAPI, rollup: FakePirschAPI, make_tracker: Any
) -> None:
    tracker = make_tracker(api, **two(rollup, sync=True))
    assert tracker.track_event(request("/signup"), "Signup")
    assert [r.body["event_name"] for r in api.received + rollup.received] == ["Signup", "Signup"]
    assert rollup.received[0].token == ROLLUP_KEY
    assert api.received[0].token == ACCESS_KEY


def test_a_dashboard_with_an_oauth_client_gets_a_token_and_the_records(
    api: FakePirschAPI, rollup: FakePirschAPI, make_tracker: Any
) -> None:
    agency = {
        "name": "agency",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "base_url": api.base_url,  # the fake API that knows this client
    }
    tracker = make_tracker(
        access_key=ROLLUP_KEY, base_url=rollup.base_url, destinations=[agency], sync=True
    )
    assert tracker.track_page_view(request("/"))
    assert urls(rollup) == urls(api) == ["/"]
    assert api.tokens_issued == 1
    assert api.received[0].token not in (CLIENT_SECRET, ROLLUP_KEY)


def test_destinations_alone_send_there_without_the_no_credentials_warning(
    rollup: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "pirsch_middleware")
    tracker = make_tracker(destinations=[f"{ROLLUP_KEY}"], base_url=rollup.base_url)
    assert tracker.track_page_view(request("/only-there"))
    assert tracker.flush(5)
    assert urls(rollup) == ["/only-there"]
    assert "no Pirsch credentials" not in caplog.text


def test_one_dashboard_is_one_sender_as_before(api: FakePirschAPI, make_tracker: Any) -> None:
    tracker = make_tracker(api)
    assert type(tracker._sender) is Sender
    assert tracker.settings.dashboards() == [("main", tracker.settings)]
    assert tracker.track_page_view(request("/"))
    assert tracker.flush(5)
    assert tracker.stats().destinations == {}


def test_logs_name_the_dashboard_and_never_its_key(
    api: FakePirschAPI, rollup: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "pirsch_middleware")
    rollup.fail_next(Reply(401, {"validation": {}, "error": ["unauthorized"]}))
    tracker = make_tracker(api, **two(rollup))
    assert tracker.track_page_view(request("/"))
    assert not tracker.flush(5)
    assert tracker.close(2)
    refused = [r.getMessage() for r in caplog.records if "refused the credentials" in r.message]
    assert refused
    assert refused[0].startswith("pirsch_middleware (rollup): ")
    assert "pirsch_middleware (rollup): dropped 1 records (unauthorized: 1)" in caplog.text
    assert tracker.stats().destinations["main"].sent == 1
    for text in (caplog.text, repr(tracker.settings), repr(tracker), str(tracker.stats())):
        assert ROLLUP_KEY not in text
        assert ACCESS_KEY not in text


def test_environment_variable_lists_named_and_unnamed_dashboards() -> None:
    environ = {
        "PIRSCH_ACCESS_KEY": ACCESS_KEY,
        "PIRSCH_DESTINATIONS": f" rollup={ROLLUP_KEY}, {CLIENT_ID}:{CLIENT_SECRET} ",
    }
    read = Settings(environ=environ)
    assert read.destinations == (
        Destination(name="rollup", access_key=ROLLUP_KEY),
        Destination(client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
    )
    dashboards = read.dashboards()
    assert [name for name, _ in dashboards] == ["main", "rollup", "destinations[1]"]
    assert [s.auth_mode for _, s in dashboards] == ["access_key", "access_key", "oauth"]
    assert dashboards[2][1].client_secret == CLIENT_SECRET
    assert CLIENT_SECRET not in repr(read)
    assert ROLLUP_KEY not in repr(read)
    # Read whether or not the credentials come from the code; given in the code, it wins.
    given = Settings(environ=environ, access_key=OTHER_KEY)
    assert given.destinations == read.destinations
    assert Settings(environ=environ, destinations=()).destinations == ()


def test_environment_variable_error_names_the_variable_not_the_key() -> None:
    environ = {"PIRSCH_DESTINATIONS": "rollup=xx_secret_value_1234"}
    with pytest.raises(ConfigurationError) as caught:
        Settings(environ=environ)
    assert str(caught.value) == (
        "PIRSCH_DESTINATIONS: expected item 0 (rollup) to have access_key as a key starting "
        "with 'pa_', got a hidden value of 20 characters"
    )
    assert caught.value.value is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"access_key": ROLLUP_KEY}, "destinations: expected a list of dashboards"),
        ([42], "destinations: expected item 0 to be a string, a dict or a Destination"),
        ([{"acess_key": ROLLUP_KEY}], "(did you mean 'access_key'?), got 'acess_key'"),
        ([{"name": "x"}], "expected item 0 to have an access_key, or a client_id and"),
        (["sk_secret_value_1234"], "expected item 0 (destinations[0]) to have access_key as"),
        ([{"client_id": CLIENT_ID}], "to have client_secret as a value when the other OAuth"),
        ([{"access_key": ROLLUP_KEY, "name": "a b"}], "name of letters, digits, '_', '.' and"),
        ([f"x={ROLLUP_KEY}", f"x={OTHER_KEY}"], "item 1 to have a name no other dashboard has"),
        ([f"main={ROLLUP_KEY}"], "item 0 to have a name no other dashboard has, got 'main'"),
        ([ACCESS_KEY], "item 0 (destinations[0]) to name another dashboard than main"),
        ([ROLLUP_KEY, f"r={ROLLUP_KEY}"], "item 1 (r) to name another dashboard than destinat"),
        ([{"access_key": ROLLUP_KEY, "base_url": "ftp://x"}], "to have base_url as an http(s)"),
    ],
)
def test_bad_destinations_raise_at_start_up_without_showing_a_secret(
    value: object, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings(access_key=ACCESS_KEY, destinations=value)
    text = str(caught.value)
    assert text.startswith("destinations: expected ")
    assert message in text
    for secret in (ROLLUP_KEY, OTHER_KEY, ACCESS_KEY, CLIENT_SECRET, "sk_secret_value_1234"):
        assert secret not in text
        assert secret not in repr(caught.value.value)


@pytest.fixture
def close_trackers() -> Iterator[None]:
    """Closes the trackers the adapters build in the test (and their connections)."""
    before = set(trackers())
    yield
    for made in trackers():
        if made not in before:
            made.close(2)


def adapter_options(api: FakePirschAPI, rollup: FakePirschAPI) -> dict[str, Any]:
    """The options a user gives an adapter for two dashboards (delivered inline, for the test)."""
    return {
        "access_key": ACCESS_KEY,
        "base_url": api.base_url,
        "sync": True,
        "environ": {},
        **two(rollup),
    }


@pytest.mark.usefixtures("close_trackers")
def test_asgi_middleware_sends_page_views_and_events_to_both(
    api: FakePirschAPI, rollup: FakePirschAPI
) -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from pirsch_middleware import event
    from pirsch_middleware.asgi import PirschMiddleware

    async def page(request: Request) -> HTMLResponse:
        event("Viewed", meta={"plan": "pro"})
        return HTMLResponse("<title>Two dashboards</title>")

    middleware = [Middleware(PirschMiddleware, **adapter_options(api, rollup))]
    app = Starlette(routes=[Route("/", page)], middleware=middleware)
    with TestClient(app, client=("203.0.113.7", 5000)) as client:
        assert client.get("/", headers=BROWSER_HEADERS).status_code == 200
    for fake in (api, rollup):
        assert [(r.kind, r.body.get("title")) for r in fake.received] == [
            ("hit", "Two dashboards"),
            ("event", None),
        ]
        assert fake.events[0]["event_meta"] == {"plan": "pro"}
        assert fake.hits[0]["ip"] == "203.0.113.7"


@pytest.mark.usefixtures("close_trackers")
def test_wsgi_middleware_sends_page_views_to_both(
    api: FakePirschAPI, rollup: FakePirschAPI
) -> None:
    from flask import Flask

    from pirsch_middleware.wsgi import PirschMiddleware

    app = Flask(__name__)

    @app.get("/")
    def home() -> str:
        return "<title>Flask, twice</title>"

    app.wsgi_app = PirschMiddleware(app.wsgi_app, **adapter_options(api, rollup))  # type: ignore[method-assign]
    response = app.test_client().get(
        "/", headers=BROWSER_HEADERS, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert response.status_code == 200
    assert [h["title"] for h in api.hits] == [h["title"] for h in rollup.hits] == ["Flask, twice"]
    assert [r.token for r in rollup.received] == [ROLLUP_KEY]


@pytest.mark.usefixtures("close_trackers")
def test_django_settings_take_destinations(api: FakePirschAPI, rollup: FakePirschAPI) -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    django.setup()
    from django.test import Client, override_settings

    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in BROWSER_HEADERS.items()}
    with override_settings(PIRSCH=adapter_options(api, rollup)):
        assert Client(REMOTE_ADDR="203.0.113.7").get("/page", **headers).status_code == 200
    assert [h["url"] for h in api.hits] == [h["url"] for h in rollup.hits]
    assert [h["url"] for h in rollup.hits] == ["http://testserver/page"]


def test_a_forked_child_and_the_exit_hook_deliver_to_both(
    api: FakePirschAPI, rollup: FakePirschAPI
) -> None:
    code = f"""
import os
from pirsch_middleware import RequestData, Tracker
rollup = {{"access_key": {ROLLUP_KEY!r}, "base_url": {rollup.base_url!r}}}
tracker = Tracker(access_key={ACCESS_KEY!r}, base_url={api.base_url!r}, destinations=[rollup],
                  flush_interval=60, environ={{}})
headers = {{"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "accept": "text/html",
           "accept-language": "en", "accept-encoding": "gzip"}}
def track(path):
    request = RequestData("GET", "https", "example.com", path, "", "198.51.100.1", headers)
    assert tracker.track_page_view(request)
track("/parent/0")  # held by the parent's senders (they wait a minute for company)
pid = os.fork()
if pid == 0:
    track("/child/0")
    ok = tracker.close(timeout=10)
    os._exit(0 if ok and tracker.stats().sent == 2 else 3)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
track("/parent/1")
"""  # ... and the parent's records go out where it ends, to both dashboards
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for fake in (api, rollup):
        assert Counter(urls(fake)) == Counter(["/parent/0", "/child/0", "/parent/1"])
        assert urls(fake)[0] == "/child/0"


def test_django_system_check_names_a_bad_destination_without_its_key() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    django.setup()
    from django.test import override_settings

    from pirsch_middleware.django.checks import check_settings

    secret = "xx_not_a_key_" + "s" * 20
    with override_settings(PIRSCH={"destinations": [f"rollup={secret}"], "environ": {}}):
        messages = [problem.msg for problem in check_settings()]
    assert messages == [
        "PIRSCH: destinations: expected item 0 (rollup) to have access_key as a key starting "
        "with 'pa_', got a hidden value of 33 characters"
    ]


@pytest.mark.parametrize("adapter", ["asgi", "wsgi", "flask", "django"])
def test_snippet_event_reaches_every_dashboard(
    adapter: str, api: FakePirschAPI, rollup: FakePirschAPI
) -> None:
    with served(adapter, api, **two(rollup)) as (call, _):
        status, _headers, _body = call("POST", "/p/e", "", BROWSER_HEADERS, event_body())
    assert status == 200
    for dashboard in (api, rollup):
        [event] = dashboard.events
        assert (event["event_name"], event["ip"]) == ("Outbound Link Click", VISITOR)
    assert rollup.received[0].token == ROLLUP_KEY
