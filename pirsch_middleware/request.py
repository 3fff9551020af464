"""The normalised request every adapter hands the core."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["RequestData", "join_headers"]


@dataclass(slots=True)
class RequestData:
    """One HTTP request as the core sees it, whatever the framework.

    ``headers`` maps lower-case names to values, repeated headers joined with ``", "``;
    ``path`` is the decoded path without the query; ``query`` is the raw query string without
    ``?``; ``peer`` is the address of the connected client (``None`` when unknown, as ASGI allows).
    """

    method: str
    scheme: str
    host: str
    path: str
    query: str = ""
    peer: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Build ``RequestData.headers`` from raw pairs: names lower-cased, repeats joined."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in headers:
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    return headers
