"""The warnings that say the visitor addresses sent are likely wrong, counted and logged once."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pirsch_middleware.testing import FakePirschAPI

from .conftest import request


def test_untrusted_private_proxy_with_forwarding_headers_is_reported_once_and_counted(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, sync=True, trusted_proxies=[])
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        for _ in range(3):
            assert tracker.track_page_view(request(peer="10.0.0.5", x_forwarded_for="198.51.100.1"))
    assert [hit["ip"] for hit in api.hits] == ["10.0.0.5"] * 3
    assert tracker.stats().address_warnings == {"untrusted_proxy": 3}
    reports = [r.getMessage() for r in caplog.records if "trusted_proxies" in r.getMessage()]
    assert len(reports) == 1
    assert "every visitor gets 10.0.0.5" in reports[0]


def test_private_visitor_address_is_reported(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, sync=True)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        tracker.track_page_view(request(peer="10.0.0.5", x_forwarded_for="192.168.1.20"))
        tracker.track_page_view(request(peer="127.0.0.1"))
    assert tracker.stats().address_warnings == {"internal_ip": 2}
    assert "192.168.1.20 is private or loopback" in caplog.text


def test_public_visitor_and_trusted_proxy_give_no_warning(
    api: FakePirschAPI, make_tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(api, sync=True)
    with caplog.at_level(logging.WARNING, "pirsch_middleware"):
        tracker.track_page_view(request(peer="10.0.0.5", x_forwarded_for="198.51.100.1"))
        tracker.track_page_view(request(peer="203.0.113.7", x_forwarded_for="10.9.9.9"))
    assert [hit["ip"] for hit in api.hits] == ["198.51.100.1", "203.0.113.7"]
    assert tracker.stats().address_warnings == {}
    assert "pirsch_middleware" not in caplog.text
