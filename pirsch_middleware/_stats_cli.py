"""``python -m pirsch_middleware stats ENDPOINT``: read statistics from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from .client import PirschClient
from .environment import env_var
from .errors import ConfigurationError, PirschError
from .filter import Filter
from .results import Result
from .settings import Settings
from .statistics import ENDPOINTS

_SPECIAL = ("domains", "funnels")
_ENDPOINTS = (*_SPECIAL, *ENDPOINTS)
# The Filter fields that have an option of their own; the others are --filter KEY=VALUE.
_OPTIONS = {
    "domain_id": "--domain",
    "from_date": "--from",
    "to_date": "--to",
    "tz": "--tz",
    "scale": "--scale",
    "limit": "--limit",
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "stats",
        help="read statistics (credentials from PIRSCH_CLIENT_ID and PIRSCH_CLIENT_SECRET)",
        description="Read one statistics endpoint and print it as a table (or JSON). "
        "Endpoints: " + ", ".join([*_SPECIAL, *ENDPOINTS]),
    )
    parser.add_argument("endpoint", metavar="ENDPOINT")
    parser.add_argument("--domain", help="the domain id (see the 'domains' endpoint)")
    parser.add_argument("--from", dest="from_date", help="YYYY-MM-DD (default: 6 days ago)")
    parser.add_argument("--to", dest="to_date", help="YYYY-MM-DD (default: today)")
    parser.add_argument("--tz", help="time zone, such as Europe/Berlin")
    parser.add_argument("--scale", help="day, week, month or year")
    parser.add_argument("--limit", type=int, help="at most this many rows (1 to 100)")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any filter parameter (path=/blog, event=Signup, meta_plan=pro, tag_author=kim); "
        "repeat a key for OR",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    try:
        if args.endpoint not in _ENDPOINTS:
            typed = args.endpoint.lower().replace("-", "_")
            close = [e for e in _ENDPOINTS if typed in e] or difflib.get_close_matches(
                typed, _ENDPOINTS, 1
            )
            hint = f"did you mean {close[0]!r}?" if close else "see --help for the list"
            raise ValueError(f"ENDPOINT: no endpoint {args.endpoint!r} ({hint})")
        settings = Settings()
        if not settings.client_id:
            names = " and ".join(env_var(n) for n in ("client_id", "client_secret"))
            print(
                f"error: statistics need an OAuth client: set {names} (create one in "
                "Pirsch's developer settings); an access key only sends hits",
                file=sys.stderr,
            )
            return 2
        with PirschClient(settings=settings) as client:
            if args.endpoint == "domains":
                rows: Any = client.domains()
            elif args.endpoint == "funnels":
                rows = client.funnels(_required_domain(args))
            else:
                rows = getattr(client, args.endpoint)(_filter(args))
    except ConfigurationError as error:
        print(f"error: {_in_user_words(error)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except PirschError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    items = rows if isinstance(rows, list) else [rows]
    if args.json:
        data = [dataclasses.asdict(item) for item in items]
        shown = data if isinstance(rows, list) else data[0]
        print(json.dumps(shown, indent=2, default=_json_value))
    else:
        print(table(items))
    sys.stdout.flush()  # a closed pipe raises here, in __main__'s hands, not at exit
    return 0


def _in_user_words(error: ConfigurationError) -> str:
    """A filter's error in the command line's terms: its option, and dates as typed."""
    name = error.setting
    option = _OPTIONS.get(name, f"--filter {name}")
    expected = error.expected.replace("datetime.date", "YYYY-MM-DD")
    for field, other in _OPTIONS.items():
        expected = expected.replace(field, other)
    value = error.value
    shown = value.isoformat() if isinstance(value, date) else repr(value)
    if name not in _OPTIONS and not any(f.name == name for f in dataclasses.fields(Filter)):
        return str(error)  # a setting, from the environment
    return f"{option}: expected {expected}, got {shown}"


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _required_domain(args: argparse.Namespace) -> str:
    if not args.domain:
        raise ValueError(f"{args.endpoint} needs --domain (the 'domains' endpoint lists them)")
    return str(args.domain)


def _filter(args: argparse.Namespace) -> Filter:
    today = date.today()
    options: dict[str, Any] = {
        "domain_id": _required_domain(args),
        "from_date": _date("--from", args.from_date) or today - timedelta(days=6),
        "to_date": _date("--to", args.to_date) or today,
        "tz": args.tz,
        "scale": args.scale,
        "limit": args.limit,
    }
    tags: dict[str, list[str]] = {}
    meta: dict[str, list[str]] = {}
    names = {f.name for f in dataclasses.fields(Filter)}
    for item in args.filter:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--filter: expected KEY=VALUE, got {item!r}")
        if key.startswith("tag_"):
            tags.setdefault(key[4:], []).append(value)
        elif key.startswith("meta_"):
            meta.setdefault(key[5:], []).append(value)
        elif key in names and key not in ("domain_id", "from_date", "to_date", "tags", "meta"):
            options[key] = _value(key, value, options.get(key))
        else:
            raise ValueError(f"--filter: {key!r} is no filter parameter")
    return Filter(**options, tags=tags, meta=meta)


def _value(key: str, text: str, previous: Any) -> Any:
    kind = {f.name: f.type for f in dataclasses.fields(Filter)}[key]
    if "bool" in str(kind):
        return text.lower() in ("1", "true", "yes")
    if "int" in str(kind):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"--filter {key}: expected a whole number, got {text!r}") from None
    if "Values" in str(kind) and previous is not None:
        return [*([previous] if isinstance(previous, str) else previous), text]
    return text


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: expected YYYY-MM-DD, got {text!r}") from None


def table(items: Sequence[Result]) -> str:
    """Rows as an aligned text table; columns that are empty in every row are left out."""
    if not items:
        return "(no rows)"
    rows = [_flatten(item) for item in items]
    columns = [c for c in rows[0] if any(row.get(c) not in ("", "0", "0.0") for row in rows)]
    columns = columns or list(rows[0])
    widths = {c: min(40, max(len(c), *(len(row.get(c, "")) for row in rows))) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        lines.append("  ".join(row.get(c, "")[: widths[c]].ljust(widths[c]) for c in columns))
    return "\n".join(line.rstrip() for line in lines)


def _flatten(item: Result, prefix: str = "") -> dict[str, str]:
    row: dict[str, str] = {}
    for field in dataclasses.fields(item):
        if field.name == "extra":
            continue
        value = getattr(item, field.name)
        if isinstance(value, Result):
            row.update(_flatten(value, f"{prefix}{field.name}."))
        else:
            row[prefix + field.name] = _text(value)
    return row


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "; ".join(_text(v) if not isinstance(v, Result) else _compact(v) for v in value)
    if isinstance(value, Result):
        return _compact(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _compact(item: Result) -> str:
    """A result inside a cell: its non-empty fields as ``name=value``."""
    row = _flatten(item)
    return " ".join(f"{k}={v}" for k, v in row.items() if v not in ("", "0", "0.0"))
