"""The clients and the sender against the Pirsch API document itself, not the package's examples.

``tests/data/pirsch-api-v1.md`` is a copy of the Pirsch API document (v1, dated 2021-10-25 in its
front matter), taken on 2026-11-29 from the project's shared ``pirsch-api-v1.md``. Its JSON
examples are not all strict JSON; :func:`tolerant_json` fixes, and only fixes:

- ``// ...`` lines (more items follow): removed;
- a comma before a closing ``}`` or ``]`` (Event Metadata, Visitors by Time of Day): removed;
- a key and value with no colon between them (Time on Page: ``"path" "/home"``): colon added;
- a missing comma between a member and the next key (Conversion Goals: ``}`` then ``"stats"``;
  the event request's ``"x_real_ip"`` lines): comma added.

One request path is wrong in the document: "Operating System Version" repeats
``/api/v1/statistics/os``; like "Browser Version" (``/browser/version``) its endpoint is
``/api/v1/statistics/os/version``.

Every answer here comes from :class:`tests.standin_api.StandInAPI`, written from the document,
so neither the expected values nor the server's behaviour come from the package.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pirsch_middleware import AsyncPirschClient, Filter, PirschClient, PirschError, Tracker
from pirsch_middleware import results as r
from pirsch_middleware.statistics import ENDPOINTS

from .conftest import ACCESS_KEY, CLIENT_ID, CLIENT_SECRET, request
from .conftest import settings as make_settings
from .standin_api import StandInAPI

DOCUMENT = (Path(__file__).parent / "data" / "pirsch-api-v1.md").read_text(encoding="utf-8")
WRONG_PATHS = {"Operating System Version": "/api/v1/statistics/os/version"}
FILTER = Filter(
    domain_id="A5kgYzK14m",
    from_date=date(2021, 5, 8),
    to_date=date(2021, 5, 15),
    event="Button Clicked",
    event_meta_key="key",
)


def tolerant_json(text: str) -> Any:
    """The document's JSON, with the slips listed in this module's docstring fixed."""
    text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r'("[^"\n]*")[ \t]+(?=")', r"\1: ", text)  # "key" "value"
    text = re.sub(r'([}\]"0-9el])[ \t]*\n(\s*")', r"\1,\n\2", text)  # missing comma at line end
    text = re.sub(r",(\s*[}\]])", r"\1", text)  # trailing comma
    return json.loads(text)


def sections() -> dict[str, str]:
    """The document's sections by heading."""
    parts = re.split(r"^#{2,3} (.+)$", DOCUMENT, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def example(section: str, label: str = "**Example response**") -> Any:
    found = re.search(re.escape(label) + r"\s*```JSON\n(.*?)```", section, re.DOTALL)
    assert found is not None, label
    return tolerant_json(found.group(1))


def statistics_examples() -> dict[str, Any]:
    """The document's statistics and domain endpoints: path to example answer."""
    found = {}
    for heading, text in sections().items():
        request_path = re.search(r"`GET (/api/v1/[^`]+)`", text)
        if request_path is not None:
            found[WRONG_PATHS.get(heading, request_path.group(1))] = example(text)
    return found


EXAMPLES = statistics_examples()
TOKEN = example(sections()["Get an Access Token"])
ERROR = example(sections()["Error Handling"], "structure.")
METHODS = {endpoint.path: name for name, endpoint in ENDPOINTS.items()}


def serve_document(method: str, path: str, body: Any) -> tuple[int, Any]:
    if (method, path) == ("POST", "/api/v1/token"):
        return 200, TOKEN
    return 200, EXAMPLES[urlsplit(path).path]


def assert_matches(got: Any, documented: Any, where: str) -> None:
    """``got`` holds every field and value of the document's ``documented``."""
    if isinstance(documented, dict):
        assert isinstance(got, r.Result), where
        assert got.extra == {}, f"{where}: fields the client does not know: {got.extra}"
        for key, value in documented.items():
            assert_matches(getattr(got, key), value, f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(got, list), where
        assert len(got) == len(documented), where
        for i, (item, value) in enumerate(zip(got, documented, strict=True)):
            assert_matches(item, value, f"{where}[{i}]")
    elif isinstance(got, datetime):
        assert got == datetime.fromisoformat(documented.replace("Z", "+00:00")), where
    elif isinstance(documented, int | float) and not isinstance(documented, bool):
        # A number: the document writes a float field's example as 4 at times (keywords).
        assert isinstance(got, int | float), where
        assert not isinstance(got, bool), where
        assert got == pytest.approx(documented), where
    else:
        assert (type(got), got) == (type(documented), documented), where


def test_the_document_gives_an_example_for_every_statistics_endpoint_it_lists() -> None:
    assert len(EXAMPLES) == 29  # 28 statistics endpoints and the domain list
    assert set(EXAMPLES) - {"/api/v1/domain"} <= set(METHODS)
    assert TOKEN["access_token"].startswith("eyJ")
    assert ERROR == {"validation": {"field": "error message"}, "error": ["error message"]}


@pytest.mark.parametrize("path", sorted(EXAMPLES))
def test_statistics_results_hold_the_documents_fields_and_values(path: str) -> None:
    name = METHODS.get(path, "domains")
    args = () if path == "/api/v1/domain" else (FILTER,)
    with StandInAPI(serve_document) as api:
        options = make_settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        options = options.replace(base_url=api.base_url)
        with PirschClient(settings=options) as client:
            result = getattr(client, name)(*args)

        async def read() -> Any:
            async with AsyncPirschClient(settings=options) as client:
                return await getattr(client, name)(*args)

        async_result = asyncio.run(read())
    assert_matches(result, EXAMPLES[path], name)
    assert_matches(async_result, EXAMPLES[path], name)
    # The document's token answer is read, and its token sent as it says.
    reads = [s for s in api.seen if s.method == "GET"]
    assert [urlsplit(s.path).path for s in reads] == [path, path]
    assert {s.authorization for s in reads} == {f"Bearer {TOKEN['access_token']}"}


def test_the_documents_error_body_becomes_the_errors_fields() -> None:
    def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
        return (200, TOKEN) if path == "/api/v1/token" else (400, ERROR)

    with StandInAPI(answer) as api:
        oauth = make_settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        with PirschClient(settings=oauth.replace(base_url=api.base_url)) as client:
            with pytest.raises(PirschError) as stats_error:
                client.visitors(FILTER)
        with PirschClient(access_key=ACCESS_KEY, base_url=api.base_url) as client:
            with pytest.raises(PirschError) as hit_error:
                client.send_batch([request_hit()])
    for error in (stats_error.value, hit_error.value):
        assert error.status == 400
        assert error.validation == {"field": "error message"}
        assert error.errors == ["error message"]
        assert not error.retryable
        assert "error message" in str(error)


def request_hit() -> Any:
    tracker = Tracker(make_settings())
    hit = tracker._extractor.hit(request("/"), 1_600_000_000.0)
    assert not isinstance(hit, str)
    return hit


def test_sender_isolates_a_record_the_api_rejects_with_the_documents_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The stand-in rejects a batch holding a bad page, as the API answers a record it refuses.
    def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/v1/hit/batch" and any(hit["url"].endswith("/bad") for hit in body):
            return 400, ERROR
        return 200, None

    paths = ["/1", "/2", "/bad", "/3", "/4", "/bad", "/5"]
    with StandInAPI(answer) as api, caplog.at_level(logging.WARNING, "pirsch_middleware"):
        tracker = Tracker(
            make_settings(access_key=ACCESS_KEY, base_url=api.base_url, flush_interval=60)
        )
        for path in paths:
            assert tracker.track_page_view(request(path))
        assert not tracker.flush(10)  # done, but not all of it accepted: False
        stats = tracker.stats()
        assert stats.pending == 0
        tracker.close(5)
    batches = [[hit["url"] for hit in s.body] for s in api.seen if s.path == "/api/v1/hit/batch"]
    accepted = [batch for batch in batches if not any(url.endswith("/bad") for url in batch)]
    # The good pages went out once each, in order; each bad one was isolated in a batch alone.
    assert [url for batch in accepted for url in batch] == [
        f"https://example.com{path}" for path in paths if path != "/bad"
    ]
    assert batches[0] == [f"https://example.com{path}" for path in paths]
    assert batches.count(["https://example.com/bad"]) == 2
    assert (stats.sent, stats.dropped) == (5, {"rejected": 2})
    rejections = [m for m in caplog.messages if "rejected a hit" in m]
    assert len(rejections) == 1, caplog.messages  # logged once, not per record
    assert "error message" in rejections[0]
