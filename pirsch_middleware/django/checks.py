"""Django system checks for ``settings.PIRSCH`` (``manage.py check``), with stable ids.

- ``pirsch_middleware.E001``: ``PIRSCH`` is not a dict.
- ``pirsch_middleware.E002``: ``PIRSCH`` has a key that names no option.
- ``pirsch_middleware.E003``: an option has a value of the wrong form.
- ``pirsch_middleware.W003``: a ``PIRSCH_<NAME>`` setting (Flask's form) for an option the
  ``PIRSCH`` dict does not set: Django ignores it.
- ``pirsch_middleware.W001``: no credentials, so hits are logged instead of sent.
- ``pirsch_middleware.W002``: the middleware is not in ``MIDDLEWARE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Warning

from pirsch_middleware.errors import ConfigurationError
from pirsch_middleware.settings import Settings, closest_name

from .conf import SETTING, describe, flask_style_names, pirsch_settings, raw_setting

__all__ = ["check_settings"]

MIDDLEWARE_PATH = "pirsch_middleware.django.PirschMiddleware"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Check ``settings.PIRSCH`` and that the middleware is installed."""
    problems: list[Error | Warning] = []
    value = raw_setting()
    if value is not None and not isinstance(value, Mapping):
        problems.append(
            Error(
                f"{SETTING} must be a dict of pirsch_middleware options, got {value!r}.",
                id="pirsch_middleware.E001",
            )
        )
        return problems
    misplaced = flask_style_names(value or {})
    if misplaced:
        problems.append(
            Warning(
                f"{', '.join(misplaced)}: Django reads pirsch_middleware's options from the "
                f"{SETTING} dict only, so these settings are ignored.",
                hint=f"Write {SETTING} = {{{misplaced[0][len(SETTING) + 1 :].lower()!r}: ...}}.",
                id="pirsch_middleware.W003",
            )
        )
    unknown = sorted(str(k) for k in (value or {}) if k not in Settings.option_names())
    if unknown:
        guesses = [f"{k!r}: did you mean {closest_name(k)!r}?" for k in unknown if closest_name(k)]
        problems.append(
            Error(
                f"{SETTING} has keys that name no option: {', '.join(unknown)}.",
                hint=" ".join(guesses)
                or "The options are listed in pirsch_middleware's README, under Settings.",
                id="pirsch_middleware.E002",
            )
        )
    known = {k: v for k, v in (value or {}).items() if k not in unknown}
    try:  # the keys that name options are checked too, so one run reports every error
        resolved = pirsch_settings(known if value is not None else None)
    except ConfigurationError as error:
        problems.append(Error(describe(error), id="pirsch_middleware.E003"))
        return problems
    if unknown:
        return problems
    if resolved.enabled and resolved.auth_mode == "none":
        problems.append(
            Warning(
                "No Pirsch credentials: page views are logged at INFO level, not sent.",
                hint=f"Set {SETTING}['access_key'] or the PIRSCH_ACCESS_KEY environment variable.",
                id="pirsch_middleware.W001",
            )
        )
    if MIDDLEWARE_PATH not in getattr(django_settings, "MIDDLEWARE", ()):
        problems.append(
            Warning(
                f"{MIDDLEWARE_PATH} is not in MIDDLEWARE: nothing is tracked.",
                id="pirsch_middleware.W002",
            )
        )
    return problems
