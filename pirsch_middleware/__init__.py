"""Server-side Pirsch analytics for Python web apps."""

from __future__ import annotations

from ._version import __version__
from .client import PirschClient
from .errors import ConfigurationError, PirschError
from .extract import SKIP_REASONS
from .records import Event, Hit, Record, Session
from .request import RequestData
from .settings import (
    DEFAULT_EXCLUDE_PATHS,
    DEFAULT_IP_HEADERS,
    DEFAULT_TRUSTED_PROXIES,
    Settings,
)
from .stats import Stats
from .tracker import Tracker

__all__ = [
    "DEFAULT_EXCLUDE_PATHS",
    "DEFAULT_IP_HEADERS",
    "DEFAULT_TRUSTED_PROXIES",
    "SKIP_REASONS",
    "ConfigurationError",
    "Event",
    "Hit",
    "PirschClient",
    "PirschError",
    "Record",
    "RequestData",
    "Session",
    "Settings",
    "Stats",
    "Tracker",
    "__version__",
]
