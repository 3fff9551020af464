"""Helpers for testing apps that use pirsch_middleware.

``capture()`` (the ``pirsch_capture`` pytest fixture) records what the app would send, with no
network; ``FakePirschAPI`` (the ``fake_pirsch_api`` fixture) is a local stand-in of the API;
``NAVIGATION_HEADERS`` are what a browser sends when it loads a page, for test clients.
"""

from __future__ import annotations

from .capture import Capture, capture
from .fake_api import FakePirschAPI, Received, Reply

__all__ = ["NAVIGATION_HEADERS", "Capture", "FakePirschAPI", "Received", "Reply", "capture"]

#: The headers Firefox sends when it follows a link: give them to a test client's request so the
#: page-view rules (see the README's "What is a page view") take it for a browser's navigation.
NAVIGATION_HEADERS: dict[str, str] = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-User": "?1",
}
