"""``python -m pirsch_middleware explain URL``: would this request be tracked, and why not?"""

from __future__ import annotations

import argparse
from typing import Any

from .errors import ConfigurationError
from .explain import explain, request_from_url
from .extract import Extractor
from .settings import Settings


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "explain",
        help="say whether a request would be tracked, and which rule says no",
        description="Judge one request by the tracker's rules, with the settings in the "
        "PIRSCH_* environment variables; nothing is sent. Exits 0 when it would be tracked, 1 "
        "when not. Example: explain --header 'User-Agent: curl/8.5' http://127.0.0.1:8000/",
    )
    parser.add_argument("url", help="the URL requested, such as http://127.0.0.1:8000/")
    parser.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeat for more); none by default, as a bare HTTP client sends",
    )
    parser.add_argument("--method", default="GET", help="the request method (default GET)")
    parser.add_argument("--status", type=int, default=200, help="the response status (200)")
    parser.add_argument(
        "--content-type", default="text/html", help="the response's Content-Type (text/html)"
    )
    parser.add_argument(
        "--peer",
        default="203.0.113.7",
        help="the client's address (default 203.0.113.7, a documentation address: a visitor)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        headers = []
        for item in args.header:
            name, sep, value = item.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"--header: expected 'Name: value', got {item!r}")
            headers.append((name.strip(), value.strip()))
        request = request_from_url(args.url, headers, method=args.method, peer=args.peer)
        settings = Settings()
    except (ConfigurationError, ValueError) as error:
        print(f"error: {error}")
        return 2
    # Tracker.explain's judge, without a tracker: no sender, no "no credentials" warning.
    verdict = explain(
        Extractor(settings), settings.enabled, request, args.status, args.content_type or None
    )
    print(verdict)
    return 0 if verdict.tracked else 1
