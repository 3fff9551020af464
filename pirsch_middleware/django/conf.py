"""``settings.PIRSCH``, read when asked for, so ``override_settings`` takes effect."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings as django_settings

from pirsch_middleware.errors import ConfigurationError
from pirsch_middleware.settings import Settings

__all__ = ["SETTING", "describe", "flask_style_names", "pirsch_settings", "raw_setting"]

SETTING = "PIRSCH"


def raw_setting() -> object:
    """The ``PIRSCH`` value as Django has it now (``None`` when unset)."""
    return getattr(django_settings, SETTING, None)


def flask_style_names(value: Mapping[str, object]) -> list[str]:
    """Settings spelled ``PIRSCH_<NAME>`` (Flask's form) naming an option the ``PIRSCH`` dict
    ``value`` does not set: Django ignores them, so the system checks point them out."""
    names = Settings.option_names() - set(value)
    prefix = SETTING + "_"
    return sorted(
        key
        for key in dir(django_settings)
        if key.startswith(prefix) and key[len(prefix) :].lower() in names
    )


def pirsch_settings(value: object) -> Settings:
    """Validated settings from a ``PIRSCH`` value; :class:`ConfigurationError` when it is wrong."""
    if value is None:
        return Settings()
    if not isinstance(value, Mapping):
        raise ConfigurationError(SETTING, "a dict of pirsch_middleware options", value)
    Settings.check_names(value, SETTING)
    return Settings(**value)


def describe(error: ConfigurationError) -> str:
    """The error's message, saying that it is about ``settings.PIRSCH``."""
    text = str(error)
    return text if error.setting.startswith(SETTING) else f"{SETTING}: {text}"
