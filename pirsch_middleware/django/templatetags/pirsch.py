"""``{% load pirsch %}{% pirsch_snippet %}``: the first-party snippet's ``<script>`` tag for the
``PIRSCH`` settings (needs ``"pirsch_middleware.django"`` in ``INSTALLED_APPS``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from pirsch_middleware.django.conf import raw_setting
from pirsch_middleware.django.middleware import tracker_for
from pirsch_middleware.snippet_tag import snippet_tag

register = template.Library()


@register.simple_tag  # type: ignore[untyped-decorator]
def pirsch_snippet(
    code: str | None = None, sessions: bool = True, dev: bool = False, nonce: str | None = None
) -> SafeString:
    """The tag :func:`~pirsch_middleware.snippet_tag.snippet_tag` writes (``""`` when the
    ``snippet`` setting is ``"off"``); ``{% pirsch_snippet dev=True %}`` on a local server."""
    settings = tracker_for(raw_setting())[0].settings
    html = snippet_tag(settings, code=code, sessions=sessions, dev=dev, nonce=nonce)
    return mark_safe(html)  # noqa: S308 (built by snippet_tag, every value escaped)
