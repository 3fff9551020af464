"""The ``PIRSCH_<NAME>`` environment variables: their names, and how each type of option is read
from one (one parser per annotated type, so a new plain-typed setting gets its variable)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import ConfigurationError

__all__ = ["ENV_PREFIX", "env_parser", "env_var"]

ENV_PREFIX = "PIRSCH_"


def env_var(name: str) -> str:
    """The environment variable of an option: ``PIRSCH_`` and its name in upper case."""
    return ENV_PREFIX + name.upper()


def _parse_bool(variable: str, raw: str) -> bool | None:
    text = raw.strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    if not text:
        return None
    raise ConfigurationError(variable, "true/false, 1/0, yes/no or on/off", raw)


def _parse_int(variable: str, raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigurationError(variable, "a whole number", raw) from None


def _parse_float(variable: str, raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw.strip())
    except ValueError:
        raise ConfigurationError(variable, "a number", raw) from None


def _parse_str(variable: str, raw: str) -> str | None:
    return raw.strip() or None


def _parse_list(variable: str, raw: str) -> tuple[str, ...]:
    # Comma-separated; an empty value is an empty list (PIRSCH_TRUSTED_PROXIES= trusts no proxy).
    return tuple(item.strip() for item in raw.split(",") if item.strip())


#: How a ``PIRSCH_<NAME>`` variable is read, by the option's annotation: an option whose type is
#: none of these (a callable, ``environ``) has no variable.
_ENV_PARSERS: dict[str, Callable[[str, str], object]] = {
    "bool": _parse_bool,
    "int": _parse_int,
    "float": _parse_float,
    "str": _parse_str,
    "str | None": _parse_str,
}


def env_parser(annotation: str) -> Callable[[str, str], object] | None:
    """How the variable of an option annotated ``annotation`` is read: ``parse(variable, raw)``
    returns the value (``None`` for unset) or raises :class:`ConfigurationError` naming the
    variable; ``None`` when such an option has no variable (a callable, ``environ``)."""
    if annotation in _ENV_PARSERS:
        return _ENV_PARSERS[annotation]
    if re.match(r"^(Sequence|tuple|list|frozenset|set)\[str\b", annotation):
        return _parse_list
    if annotation.startswith("Literal["):
        return _parse_str
    return None
