"""``python -m pirsch_middleware fake-api``: the local stand-in of the Pirsch API, for a real app.

It prints each record as it arrives, the way the demo shows them (one printer serves both).
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from .testing import FakePirschAPI, Received

#: Any key starting with ``pa_`` passes the settings' check; the stand-in accepts any token.
FAKE_KEY = "pa_fake"


def show(record: Received) -> None:
    """Print one record the API accepted: kind, URL, title or event name, visitor IP."""
    body = record.body
    detail = body.get("event_name") or body.get("title") or ""
    line = f"  Pirsch API received {record.kind:5} {body.get('url', '')}  {detail}"
    print(f"{line}  ip={body.get('ip', '')}", flush=True)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "fake-api",
        help="serve a local stand-in of the Pirsch API and print what arrives",
        description="Serve a local stand-in of the Pirsch API (pirsch_middleware.testing."
        "FakePirschAPI) and print each hit, event and session as it arrives. Point a running "
        "app at it with PIRSCH_BASE_URL and any access key (any OAuth client reads its "
        "statistics). Ctrl-C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port (default 8900)")


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        api = FakePirschAPI(host=args.host, port=args.port)
        api.on_receive = show
        api.start()
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}")
        return 1
    print(f"A local stand-in of the Pirsch API listens on {api.base_url}. Start your app with:")
    print(f"\n  PIRSCH_BASE_URL={api.base_url} PIRSCH_ACCESS_KEY={FAKE_KEY} <your server>\n")
    print(
        "Statistics (the API document's examples) answer any OAuth client (PIRSCH_CLIENT_ID=fake "
        "PIRSCH_CLIENT_SECRET=fake). Each record is printed as it arrives; Ctrl-C stops.",
        flush=True,
    )
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    print(f"\n{len(api.received)} records received.")
    return 0
