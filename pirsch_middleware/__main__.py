"""Command line: ``python -m pirsch_middleware demo``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import RequestData, Tracker, __version__
from .extract import Extractor
from .testing import FakePirschAPI

_BROWSER = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "accept-language": "en-GB,en;q=0.8",
    "referer": "https://search.example/",
}
_VISITS: list[tuple[str, str, dict[str, str], int, str]] = [
    ("page view", "/", _BROWSER, 200, "text/html; charset=utf-8"),
    ("page view with UTM", "/pricing?utm_source=newsletter", _BROWSER, 200, "text/html"),
    ("stylesheet", "/static/site.css", _BROWSER, 200, "text/css"),
    ("JSON API", "/api/items", _BROWSER, 200, "application/json"),
    ("redirect", "/old", _BROWSER, 301, "text/html"),
    (
        "crawler",
        "/",
        {"user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
        200,
        "text/html",
    ),
    ("Do Not Track", "/", {**_BROWSER, "dnt": "1"}, 200, "text/html"),
]


def demo() -> int:
    """Track a few requests and show what reaches a local stand-in of the Pirsch API."""
    real = bool(os.environ.get("PIRSCH_ACCESS_KEY") or os.environ.get("PIRSCH_CLIENT_ID"))
    with FakePirschAPI() as api:
        options: dict[str, Any] = (
            {} if real else {"access_key": "pa_" + "d" * 45, "base_url": api.base_url}
        )
        tracker = Tracker(flush_interval=0.2, **options)
        target = (
            tracker.settings.base_url if real else f"the local fake Pirsch API at {api.base_url}"
        )
        print(f"pirsch-middleware {__version__}: tracking requests, sending to {target}\n")
        for label, target_path, headers, status, content_type in _VISITS:
            path, _, query = target_path.partition("?")
            request = RequestData(
                "GET", "https", "demo.example", path, query, "198.51.100.23", headers
            )
            reason = tracker.request_skip(request)
            if reason is None:
                tracked = tracker.track_page_view(
                    request, status, content_type, request_checked=True
                )
                reason = "queued" if tracked else Extractor.response_skip(status, content_type)
            print(f"  {label:22} GET {target_path:34} -> {reason}")
        signup = RequestData(
            "POST", "https", "demo.example", "/signup", "", "198.51.100.23", _BROWSER
        )
        tracker.track_event(signup, "Signup", meta={"plan": "pro"}, duration=3)
        print(f"  {'event':22} POST /signup {'':27} -> queued")
        delivered = tracker.flush(timeout=10)
        print()
        if real:
            print(f"  {tracker.stats().sent} records went to {target}")
        for record in api.received:
            name = record.body.get("event_name", "")
            print(f"  received {record.kind}: {record.body.get('url')} {name}")
        stats = tracker.stats()
        print(f"\nsent {stats.sent}, skipped {stats.skipped}, dropped {stats.dropped}")
        tracker.close()
    return 0 if delivered else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pirsch_middleware")
    parser.add_argument("command", choices=["demo"], help="demo: track sample requests locally")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
