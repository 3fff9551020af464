"""The ``<script>`` tag of the first-party snippet, for templates (the Django tag, the Jinja
global of the Flask extension, or any template engine through :func:`snippet_tag`)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from .settings import Settings
from .snippet import EVENT, PAGE_VIEW, SCRIPT, SESSION, serves_snippet

__all__ = ["snippet_tag"]

_DATA_NAME = re.compile(r"^data-[a-z0-9-]{1,64}$")


def snippet_tag(
    settings: Settings,
    *,
    code: str | None = None,
    sessions: bool = True,
    dev: bool = False,
    nonce: str | None = None,
    attributes: Mapping[str, str | None] | None = None,
) -> str:
    """The snippet's ``<script>`` tag, its endpoints under ``snippet_prefix``; ``""`` when the
    ``snippet`` setting is ``"off"`` or ``enabled`` is ``False``.

    The attributes are those ``pa.js`` reads (``pirsch-analytics/pirsch-php-proxy``): the tag's
    ``id`` is ``pianjs``; ``data-hit-endpoint``, ``data-event-endpoint`` and
    ``data-session-endpoint`` point at the proxy; in hybrid mode ``data-disable-page-views`` keeps
    the snippet from sending the page views the middleware counts. ``sessions`` adds
    ``data-enable-sessions`` (a keep-alive a minute while the page is open); ``dev`` adds
    ``data-dev``, without which the snippet sends nothing from ``localhost`` or ``127.*``;
    ``code`` is the identification code (the proxy needs none); ``nonce`` a CSP nonce.
    ``attributes`` adds other ``data-*`` attributes (``None`` for one without a value, such as
    ``data-disable-query``); a name that is no ``data-*`` name raises ``ValueError``.
    """
    if not serves_snippet(settings):
        return ""
    prefix = settings.snippet_prefix
    pairs: list[tuple[str, str | None]] = [
        ("defer", None),
        ("src", prefix + SCRIPT),
        ("id", "pianjs"),
        ("data-hit-endpoint", prefix + PAGE_VIEW),
        ("data-event-endpoint", prefix + EVENT),
        ("data-session-endpoint", prefix + SESSION),
    ]
    if settings.snippet == "hybrid":
        pairs.append(("data-disable-page-views", None))
    if sessions:
        pairs.append(("data-enable-sessions", None))
    if dev:
        pairs.append(("data-dev", None))
    if code:
        pairs.append(("data-code", code))
    if nonce:
        pairs.append(("nonce", nonce))
    for name, value in (attributes or {}).items():
        if not isinstance(name, str) or not _DATA_NAME.match(name):
            raise ValueError(f"attributes: expected names such as 'data-domain', got {name!r}")
        pairs.append((name, value))
    parts = [name if value is None else f'{name}="{html.escape(value)}"' for name, value in pairs]
    return f"<script {' '.join(parts)}></script>"
