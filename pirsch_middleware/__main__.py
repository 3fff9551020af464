"""Command line: ``python -m pirsch_middleware demo``, ``fake-api``, ``explain`` and ``stats``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pirsch_middleware")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="serve an example app on 127.0.0.1, visit it, show what reaches Pirsch"
    )
    demo.add_argument(
        "--app", choices=["starlette", "fastapi", "flask", "django"], default="starlette"
    )
    from . import _explain_cli, _fake_cli, _stats_cli

    _fake_cli.add_parser(commands)
    _explain_cli.add_parser(commands)
    _stats_cli.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "stats":
            return _stats_cli.run(args)
        if args.command == "fake-api":
            return _fake_cli.run(args)
        if args.command == "explain":
            return _explain_cli.run(args)
        from ._demo import demo as run_demo

        return run_demo(args.app)
    except BrokenPipeError:
        # The reader left (| head): no traceback, and none at exit when Python flushes again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
