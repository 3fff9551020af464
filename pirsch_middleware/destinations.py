"""Several Pirsch dashboards: the ``destinations`` setting, read into Destination objects.

Pirsch's own proxies (``pirsch-analytics/pirsch-go-proxy``, its ``clients`` list) send every
record to several clients, so one site can feed its own dashboard and a rollup view; this is
the same for the middleware.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import ConfigurationError

__all__ = ["MAIN", "Destination", "parse_destinations"]

#: The name of the dashboard the top-level credentials name, in logs and ``Stats.destinations``.
MAIN = "main"

_FIELDS = ("name", "access_key", "client_id", "client_secret", "base_url")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EXPECTED = (
    "a list of dashboards: access keys ('pa_...'), 'client_id:client_secret' pairs, either "
    "as 'name=...', dicts or Destination objects"
)


@dataclass(frozen=True)
class Destination:
    """One more Pirsch dashboard that receives every record (an item of ``destinations``).

    ``access_key``, or ``client_id`` with ``client_secret``, are checked as the top-level
    settings of the same names are. ``base_url`` is the top-level one when ``None``. ``name``
    (letters, digits, ``_``, ``.``, ``-``) names it in logs and ``Stats.destinations``; by
    default its place in the list, ``destinations[0]``. The secrets are left out of the repr.
    """

    name: str | None = None
    access_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    base_url: str | None = None

    def label(self, index: int) -> str:
        """How logs and counters name it: ``name``, else ``destinations[index]``."""
        return self.name or f"destinations[{index}]"


def parse_destinations(value: object) -> tuple[Destination, ...]:
    """``destinations`` as given (a list of strings, mappings or :class:`Destination`, or one
    comma-separated string as ``PIRSCH_DESTINATIONS`` holds) as :class:`Destination` objects.

    A string is ``[name=]credentials``: an access key ``pa_...``, or ``client_id:client_secret``.
    Raises :class:`ConfigurationError` for a wrong form, an unknown key, a bad or repeated name,
    or an item without credentials; the credentials' own rules are the top-level settings'
    (``Settings`` checks them). Secrets are described in errors, never shown.
    """
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, Mapping | Destination) or not isinstance(value, Sequence):
        raise ConfigurationError("destinations", _EXPECTED, value, secret=True)
    result = []
    for index, item in enumerate(value):
        destination = _one(index, item)
        if not (destination.access_key or destination.client_id or destination.client_secret):
            raise ConfigurationError(
                "destinations",
                f"item {index} to have an access_key, or a client_id and client_secret",
                item,
                secret=True,
            )
        result.append(destination)
    names = {MAIN}
    for index, destination in enumerate(result):
        name = destination.name
        if name is not None and not (isinstance(name, str) and _NAME.match(name)):
            raise ConfigurationError(
                "destinations",
                f"item {index} to have a name of letters, digits, '_', '.' and '-'",
                name,
            )
        if destination.label(index) in names:
            raise ConfigurationError(
                "destinations", f"item {index} to have a name no other dashboard has", name
            )
        names.add(destination.label(index))
    return tuple(result)


def _one(index: int, item: object) -> Destination:
    if isinstance(item, Destination):
        return item
    if isinstance(item, str):
        name, sep, credentials = item.strip().partition("=")
        if not sep:
            name, credentials = "", name
        client_id, colon, secret = credentials.partition(":")
        if colon:
            return Destination(name=name or None, client_id=client_id, client_secret=secret)
        return Destination(name=name or None, access_key=credentials)
    if isinstance(item, Mapping):
        for key in item:
            if key not in _FIELDS:
                close = difflib.get_close_matches(str(key), _FIELDS, 1, 0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigurationError(
                    "destinations", f"item {index} to have keys from {_FIELDS}{hint}", key
                )
        return Destination(**{key: item[key] for key in _FIELDS if key in item})
    raise ConfigurationError(
        "destinations", f"item {index} to be a string, a dict or a Destination", item, secret=True
    )
