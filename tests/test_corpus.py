"""A labelled corpus of real clients' requests (tests.clients), each on two pages, through the
ASGI, WSGI and Django adapters: precision and recall of page views must both reach 99 %."""

from __future__ import annotations

import pytest

from pirsch_middleware.testing import FakePirschAPI

from .clients import Sample, corpus
from .harness import served

PAGES = ("home", "blog/hello")
SAMPLES: list[tuple[str, Sample]] = [
    (f"/c/{page}/{i}", s) for i, s in enumerate(corpus()) for page in PAGES
]


def test_the_corpus_is_large_and_mixed() -> None:
    assert len(SAMPLES) >= 1000
    page_views = sum(s.page_view for _, s in SAMPLES)
    assert 0.25 < page_views / len(SAMPLES) < 0.75


@pytest.mark.parametrize("adapter", ["asgi", "wsgi", "django"])
def test_page_views_of_the_corpus_are_found(
    adapter: str, api: FakePirschAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(adapter, api) as get:
        for path, s in SAMPLES:
            assert get(path, s.headers)[0] == s.status, s.name
    counted = {hit["url"].split("/c/", 1)[1] for hit in api.hits}
    assert len(counted) == len(api.hits), "one hit per page view"
    labelled = {path[3:] for path, s in SAMPLES if s.page_view}
    true_positives = len(counted & labelled)
    precision = true_positives / len(counted)
    recall = true_positives / len(labelled)
    wrong = sorted({s.name for path, s in SAMPLES if (path[3:] in counted) != s.page_view})
    with capsys.disabled():
        print(
            f"\n{adapter}: {len(SAMPLES)} requests, {len(labelled)} page views; "
            f"precision {precision:.2%}, recall {recall:.2%}; misjudged kinds: {wrong or 'none'}"
        )
    assert precision >= 0.99
    assert recall >= 0.99
