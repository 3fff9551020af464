"""The statistics client, sync and async, against the fake API serving the document's examples."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from pirsch_middleware import (
    AsyncPirschClient,
    ConfigurationError,
    Filter,
    PirschClient,
    PirschError,
    Settings,
)
from pirsch_middleware import results as r
from pirsch_middleware.__main__ import main
from pirsch_middleware._time import parse_time
from pirsch_middleware.statistics import ENDPOINTS, StatisticsAPI
from pirsch_middleware.testing import FakePirschAPI, Reply

from .conftest import ACCESS_KEY, CLIENT_ID, CLIENT_SECRET

DOMAIN = "A5kgYzK14m"
MAY: dict[str, Any] = {
    "domain_id": DOMAIN,
    "from_date": date(2021, 5, 8),
    "to_date": date(2021, 5, 15),
}
# What each endpoint needs beyond the domain and the dates.
FULL = Filter(
    **MAY,
    event="Signup",
    event_meta_key="plan",
    tag="author",
    funnel_id="f1",
    visitor_id="17442069543258741522",
    session_id="3482938",
)


def oauth(api: FakePirschAPI) -> Settings:
    return Settings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=api.base_url,
        retry_backoff=0.01,
        environ={},
    )


def sync_client(api: FakePirschAPI) -> PirschClient:
    return PirschClient(settings=oauth(api))


def async_client(api: FakePirschAPI) -> AsyncPirschClient:
    return AsyncPirschClient(settings=oauth(api))


def queries(api: FakePirschAPI) -> list[str]:
    return [urlsplit(path).query for method, path, _ in api.requests if method == "GET"]


# The filter


def test_filter_on_the_wire_is_the_documents_query_string(api: FakePirschAPI) -> None:
    with sync_client(api) as client:
        client.languages(Filter(**MAY, language="en"))
    assert queries(api) == ["id=A5kgYzK14m&from=2021-05-08&to=2021-05-15&language=en"]


def test_filter_sends_every_parameter(api: FakePirschAPI) -> None:
    flt = Filter(
        **MAY,
        tz="Europe/Berlin",
        scale="week",
        path=["/a", "/b"],
        entry_path="/in",
        exit_path="!/out",
        city=["London", "Berlin"],
        referrer="~news",
        utm_source="Newsletter",
        platform="desktop",
        hostname="example.com",
        channel="Direct",
        tags={"author": "kim"},
        meta={"plan": ["pro", "team"]},
        custom_metric_key="price",
        custom_metric_type="float",
        limit=20,
        offset=40,
        sort="visitors",
        direction="desc",
        search="pri",
        include_avg_time_on_page=True,
        include_title=False,
    )
    with sync_client(api) as client:
        client.pages(flt)
    assert queries(api) == [
        "id=A5kgYzK14m&from=2021-05-08&to=2021-05-15&tz=Europe%2FBerlin&scale=week"
        "&path=%2Fa&path=%2Fb&entry_path=%2Fin&exit_path=%21%2Fout&city=London&city=Berlin"
        "&referrer=~news&platform=desktop&utm_source=Newsletter&hostname=example.com"
        "&channel=Direct&tag_author=kim&meta_plan=pro&meta_plan=team&custom_metric_key=price"
        "&custom_metric_type=float&limit=20&offset=40&sort=visitors&direction=desc&search=pri"
        "&include_avg_time_on_page=true&include_title=false"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"domain_id": ""}, "domain_id: expected the domain's id"),
        ({"from_date": date(2021, 5, 20)}, "from_date: expected a date on or before to_date"),
        ({"from_date": "2021-05-08"}, "from_date: expected a datetime.date, got '2021-05-08'"),
        (
            {"to_date": datetime(2021, 5, 15, tzinfo=timezone.utc)},
            "to_date: expected a datetime.date",
        ),
        ({"limit": 101}, "limit: expected a whole number from 1 to 100, got 101"),
        ({"limit": 0}, "limit: expected a whole number from 1 to 100, got 0"),
        ({"offset": -1}, "offset: expected a whole number 0 or more"),
        ({"start": 3601}, "start: expected a whole number from 1 to 3600"),
        ({"scale": "hour"}, "scale: expected 'day' or 'week' or 'month' or 'year', got 'hour'"),
        ({"direction": "up"}, "direction: expected 'asc' or 'desc', got 'up'"),
        ({"custom_metric_type": "str"}, "custom_metric_type: expected 'integer' or 'float'"),
        (
            {"tz": "Mars/Olympus"},
            "tz: expected a time zone such as 'Europe/Berlin', got 'Mars/Olympus'",
        ),
        ({"from_time": "9:00"}, "from_time: expected a time of day as 'HH:MM', got '9:00'"),
        ({"path": []}, "path: expected a non-empty string or a list of them, got \\[\\]"),
        ({"path": ["/a", 3]}, "path: expected a non-empty string or a list of them"),
        ({"meta": {"bad key": "x"}}, "meta: expected keys of letters"),
        ({"tags": {"author": ""}}, "tags\\['author'\\]: expected a non-empty string"),
        ({"include_title": "yes"}, "include_title: expected True, False or None, got 'yes'"),
    ],
)
def test_filter_rejects_bad_values_naming_them(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Filter(**{**MAY, **changes})


def test_filter_replace_checks_again() -> None:
    assert Filter(**MAY).replace(limit=5).limit == 5
    with pytest.raises(ConfigurationError, match="limit"):
        Filter(**MAY).replace(limit=500)


# Every endpoint, both clients


def first(result: Any) -> Any:
    return result[0] if isinstance(result, list) else result


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_sync_and_async(name: str, api: FakePirschAPI) -> None:
    endpoint = ENDPOINTS[name]
    with sync_client(api) as client:
        sync_result = getattr(client, name)(FULL)

    async def read() -> Any:
        async with async_client(api) as client:
            return await getattr(client, name)(FULL)

    async_result = asyncio.run(read())
    assert sync_result == async_result
    expected = api.examples[endpoint.path]
    assert isinstance(sync_result, list) == isinstance(expected, list)
    item, raw = first(sync_result), first(expected)
    assert isinstance(item, r.Result)
    assert item.extra == {} or set(item.extra) <= {"visitor_growth"}
    for key, value in raw.items():
        if isinstance(value, int | float | str) and not isinstance(value, bool) and key != "time":
            got = getattr(item, key if key != "visitor_growth" else "visitors_growth")
            if isinstance(got, datetime):
                value = parse_time(str(value))
            assert got == value or str(got) == str(value), key
    assert [urlsplit(p).path for m, p, _ in api.requests if m == "GET"] == [endpoint.path] * 2


def test_document_examples_parse_to_typed_fields(api: FakePirschAPI) -> None:
    with sync_client(api) as client:
        visitors = client.visitors(Filter(**MAY))
        goals = client.conversion_goals(Filter(**MAY))
        active = client.active_visitors(Filter(**MAY, start=600))
        steps = client.session_details(FULL)
        domains = client.domains()
        funnels = client.funnels(DOMAIN)
        overview = client.overview(Filter(**MAY))
    assert visitors[0].day == datetime(2021, 5, 12, tzinfo=timezone.utc)
    assert visitors[0].bounce_rate == pytest.approx(0.4791)
    assert goals[0].page_goal is not None
    assert goals[0].page_goal.name == "My Conversion Goal"
    assert goals[0].stats is not None
    assert goals[0].stats.cr == pytest.approx(0.065)
    assert active.stats[0].path == "/home"
    assert active.visitors == 298
    assert steps[0].page_view is not None
    assert steps[0].page_view.visitor_id == "17442069543258741522"
    assert steps[1].event is not None
    assert steps[1].event.meta_values == ["pro"]
    assert domains[0].def_time == datetime(2021, 5, 22, 10, 11, 12, 123456, tzinfo=timezone.utc)
    assert domains[0].google_user_id is None
    assert [s.step for s in funnels[0].steps] == [0, 1]
    assert overview.visitors_growth == pytest.approx(0.12)  # the document's other spelling
    # The overview and the funnel list send the domain id alone.
    assert queries(api)[-2:] == ["id=A5kgYzK14m", "id=A5kgYzK14m"]
    assert queries(api)[-3] == ""  # the domain list


def test_unknown_fields_and_odd_values_are_tolerated(api: FakePirschAPI) -> None:
    api.examples["/api/v1/statistics/page"] = [
        {"path": "/x", "visitors": "many", "new_metric": 7, "title": None},
    ]
    api.examples["/api/v1/statistics/events"] = None
    with sync_client(api) as client:
        (page,) = client.pages(Filter(**MAY))
        assert client.event_stats(Filter(**MAY)) == []
    assert (page.path, page.visitors, page.title) == ("/x", 0, "")
    assert page.extra == {"visitors": "many", "new_metric": 7}


def test_an_answer_of_the_wrong_shape_is_a_pirsch_error(api: FakePirschAPI) -> None:
    api.examples["/api/v1/statistics/page"] = {"not": "a list"}
    with sync_client(api) as client, pytest.raises(PirschError, match="expected a JSON array"):
        client.pages(Filter(**MAY))


# Credentials, errors, retries


def test_statistics_need_an_oauth_client_and_say_so_before_sending(api: FakePirschAPI) -> None:
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError, match="statistics need an OAuth client"):
            client.visitors(Filter(**MAY))
    assert api.requests == []


def test_missing_filter_fields_fail_before_sending(api: FakePirschAPI) -> None:
    with sync_client(api) as client:
        with pytest.raises(ValueError, match="needs the filter's event and event_meta_key"):
            client.event_metadata(Filter(**MAY))
        with pytest.raises(ValueError, match="needs the filter's session_id"):
            client.session_details(Filter(**MAY, visitor_id="1"))
        with pytest.raises(TypeError, match=r"expected a pirsch_middleware\.Filter"):
            client.pages({"id": DOMAIN})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="expected a domain id"):
            client.funnels(" ")
    assert api.requests == []


def test_expired_token_is_renewed_once(api: FakePirschAPI) -> None:
    with sync_client(api) as client:
        client.pages(Filter(**MAY))
        api.expire_tokens()
        assert client.pages(Filter(**MAY))[0].path == "/home"

    async def read() -> None:
        async with async_client(api) as client:
            await client.pages(Filter(**MAY))
            api.expire_tokens()
            await client.pages(Filter(**MAY))

    asyncio.run(read())
    assert api.tokens_issued == 4
    assert [s for m, p, s in api.requests if m == "GET"] == [200, 401, 200, 200, 401, 200]


def test_server_errors_and_429_are_retried(api: FakePirschAPI) -> None:
    api.fail_next(Reply(503), Reply(429, headers={"Retry-After": "0"}))
    with sync_client(api) as client:
        assert client.growth(Filter(**MAY)).visitors_growth == pytest.approx(0.34)
    assert [s for m, _, s in api.requests if m == "GET"] == [503, 429, 200]


def test_retries_give_up_with_the_last_error(api: FakePirschAPI) -> None:
    api.fail_next(*[Reply(502, {"validation": {}, "error": ["bad gateway"]})] * 4)

    async def read() -> None:
        async with async_client(api) as client:
            await client.total(Filter(**MAY))

    with pytest.raises(PirschError, match="bad gateway") as caught:
        asyncio.run(read())
    assert caught.value.status == 502
    assert len(api.stats_requests) == 4


def test_validation_errors_are_not_retried_and_carry_the_fields(api: FakePirschAPI) -> None:
    api.fail_next(Reply(400, {"validation": {"from": "invalid date"}, "error": []}))
    with sync_client(api) as client, pytest.raises(PirschError) as caught:
        client.visitors(Filter(**MAY))
    assert caught.value.status == 400
    assert caught.value.validation == {"from": "invalid date"}
    assert len(api.stats_requests) == 1


def test_access_key_at_the_fake_api_is_refused_for_statistics(api: FakePirschAPI) -> None:
    with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
        with pytest.raises(PirschError) as caught:
            client.request("GET", "/api/v1/statistics/visitor", params=Filter(**MAY).params())
    assert caught.value.status == 403


def test_access_key_sends_hits_and_oauth_client_reads_statistics(api: FakePirschAPI) -> None:
    both: dict[str, Any] = {
        "access_key": ACCESS_KEY,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    hit = {"url": "https://example.com/", "ip": "203.0.113.7", "user_agent": "UA"}
    with PirschClient(base_url=api.base_url, **both) as client:
        client.hit(hit)
        assert client.domains()[0].id == DOMAIN

    async def read() -> None:
        async with AsyncPirschClient(base_url=api.base_url, **both) as aclient:
            await aclient.hit(hit)
            assert (await aclient.domains())[0].id == DOMAIN

    asyncio.run(read())
    assert [r.token for r in api.received] == [ACCESS_KEY, ACCESS_KEY]
    assert api.tokens_issued == 2  # one OAuth token per client, for the statistics


def test_endpoints_are_listed_once_for_both_clients() -> None:
    assert len(ENDPOINTS) == 42  # 28 in the API document, 14 newer
    assert all(getattr(StatisticsAPI, name) is endpoint for name, endpoint in ENDPOINTS.items())
    assert {e.path for e in ENDPOINTS.values()} <= set(FakePirschAPI().examples)


if TYPE_CHECKING:
    from typing_extensions import assert_type

    def _types(client: PirschClient, aclient: AsyncPirschClient, flt: Filter) -> None:
        assert_type(client.visitors(flt), list[r.VisitorStats])
        assert_type(client.growth(flt), r.Growth)
        assert_type(client.domains(), list[r.Domain])

        async def read() -> None:
            assert_type(await aclient.visitors(flt), list[r.VisitorStats])
            assert_type(await aclient.platforms(flt), r.PlatformStats)


# The command line


@pytest.fixture
def credentials(api: FakePirschAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIRSCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("PIRSCH_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("PIRSCH_BASE_URL", api.base_url)
    monkeypatch.delenv("PIRSCH_ACCESS_KEY", raising=False)


def test_cli_prints_a_table(credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["stats", "pages", "--domain", DOMAIN, "--from", "2021-05-08", "--to", "2021-05-15"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "path",
        "title",
        "visitors",
        "views",
        "sessions",
        "bounces",
        "relative_visitors",
        "relative_views",
        "bounce_rate",
        "average_time_spent_seconds",
    ]
    assert lines[2].split() == [
        "/home",
        "Home",
        "42",
        "56",
        "48",
        "23",
        "0.342",
        "0.298",
        "0.765",
        "42",
    ]


def test_cli_prints_json_and_passes_filters(
    api: FakePirschAPI, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["stats", "visitors", "--domain", DOMAIN, "--from", "2021-05-08", "--to", "2021-05-15"]
    args += ["--json", "--scale", "week", "--filter", "path=/a", "--filter", "path=/b"]
    args += ["--filter", "meta_plan=pro", "--filter", "include_title=true", "--limit", "5"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["day"] == "2021-05-12T00:00:00+00:00"
    assert data[0]["visitors"] == 42
    assert queries(api) == [
        "id=A5kgYzK14m&from=2021-05-08&to=2021-05-15&scale=week&path=%2Fa&path=%2Fb"
        "&meta_plan=pro&limit=5&include_title=true"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pages"], "pages needs --domain"),
        (["pages", "--domain", DOMAIN, "--from", "May"], "--from: expected YYYY-MM-DD"),
        (["pages", "--domain", DOMAIN, "--limit", "500"], "limit: expected a whole number"),
        (
            ["pages", "--domain", DOMAIN, "--filter", "colour=red"],
            "'colour' is no filter parameter",
        ),
        (["event_metadata", "--domain", DOMAIN], "needs the filter's event"),
    ],
)
def test_cli_explains_bad_arguments(
    args: list[str],
    message: str,
    api: FakePirschAPI,
    credentials: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["stats", *args]) == 2
    assert message in capsys.readouterr().err
    assert api.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["pages", "--domain", DOMAIN, "--from", "2021-05-09", "--to", "2021-05-01"],
            "error: --from: expected a date on or before --to (2021-05-01), got 2021-05-09\n",
        ),
        (["pages", "--domain", DOMAIN, "--scale", "weeks"], "error: --scale: expected 'day'"),
        (["visitor", "--domain", DOMAIN], "no endpoint 'visitor' (did you mean 'visitors'?)"),
        (["active", "--domain", DOMAIN], "(did you mean 'active_visitors'?)"),
        (["pages", "--domain", DOMAIN, "--filter", "direction=up"], "--filter direction: exp"),
    ],
)
def test_cli_errors_speak_the_command_lines_words(
    args: list[str],
    message: str,
    api: FakePirschAPI,
    credentials: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["stats", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "from_date" not in err
    assert "datetime" not in err
    assert api.requests == []


def test_cli_shows_nested_values(credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "funnels", "--domain", DOMAIN]) == 0
    out = capsys.readouterr().out
    assert "id=s0 funnel_id=f1 name=Pricing" in out
    assert "…" not in out


def test_cli_into_a_closed_pipe_ends_without_a_traceback(api: FakePirschAPI) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PIRSCH_")}
    env.update(
        PIRSCH_CLIENT_ID=CLIENT_ID, PIRSCH_CLIENT_SECRET=CLIENT_SECRET, PIRSCH_BASE_URL=api.base_url
    )
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as "| head" after a line
    args = ["stats", "pages", "--domain", DOMAIN, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "pirsch_middleware", *args],
        env=env,
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(write)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == 1
    assert len(api.stats_requests) == 1


def test_cli_with_an_access_key_and_an_oauth_client_reads_statistics(
    api: FakePirschAPI,
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIRSCH_ACCESS_KEY", ACCESS_KEY)
    assert main(["stats", "domains"]) == 0
    assert DOMAIN in capsys.readouterr().out
    assert api.tokens_issued == 1


def test_cli_with_only_an_access_key_says_what_is_needed(
    api: FakePirschAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("PIRSCH_CLIENT_ID", "PIRSCH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIRSCH_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("PIRSCH_BASE_URL", api.base_url)
    assert main(["stats", "domains"]) == 2
    assert (
        "statistics need an OAuth client: set PIRSCH_CLIENT_ID and PIRSCH_CLIENT_SECRET"
        in capsys.readouterr().err
    )
    assert api.requests == []


def test_readme_statistics_example_runs(
    api: FakePirschAPI, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = readme.split("```python\n")
    (example,) = [b.split("```")[0] for b in blocks if "client.domains()[0]" in b]
    exec(compile(example, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[1:] == ["42", "0.4791"]  # week (unset by the example answer), visitors
    assert out[1] == "+34%"
    assert [p for p, _ in api.stats_requests][-1] == "/api/v1/statistics/session/list"


def test_async_client_sends_hits_events_and_sessions(api: FakePirschAPI) -> None:
    hit = {"url": "https://example.com/", "ip": "203.0.113.7", "user_agent": "UA"}

    async def send() -> None:
        async with AsyncPirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
            await client.hit(hit)
            await client.event({**hit, "event_name": "Signup"})
            await client.session({"ip": "203.0.113.7", "user_agent": "UA"})
            await client.hits([{**hit, "time": "2026-05-01T10:00:00.000Z"}])

    asyncio.run(send())
    assert [(r.kind, r.batch) for r in api.received] == [
        ("hit", False),
        ("event", False),
        ("session", False),
        ("hit", True),
    ]
