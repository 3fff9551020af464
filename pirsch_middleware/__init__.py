"""Server-side Pirsch analytics for Python web apps."""

from __future__ import annotations

from ._version import __version__
from .async_client import AsyncPirschClient
from .client import PirschClient
from .context import OutsideRequestError, current_request, tracked_request
from .destinations import Destination
from .errors import ConfigurationError, PirschError
from .explain import Verdict, request_from_url
from .extract import SKIP_REASONS
from .filter import Filter
from .records import Event, Hit, Record, Session
from .request import RequestData
from .settings import (
    DEFAULT_DOWNLOAD_EXTENSIONS,
    DEFAULT_EXCLUDE_PATHS,
    DEFAULT_PARTIAL_HEADERS,
    DEFAULT_TRUSTED_PROXIES,
    Settings,
)
from .stats import Stats
from .tracker import Tracker, trackers
from .views import (
    event,
    exempt,
    keep_alive,
    set_tags,
    set_title,
    skip_page_view,
    track_event,
)

__all__ = [
    "DEFAULT_DOWNLOAD_EXTENSIONS",
    "DEFAULT_EXCLUDE_PATHS",
    "DEFAULT_PARTIAL_HEADERS",
    "DEFAULT_TRUSTED_PROXIES",
    "SKIP_REASONS",
    "AsyncPirschClient",
    "ConfigurationError",
    "Destination",
    "Event",
    "Filter",
    "Hit",
    "OutsideRequestError",
    "PirschClient",
    "PirschError",
    "Record",
    "RequestData",
    "Session",
    "Settings",
    "Stats",
    "Tracker",
    "Verdict",
    "__version__",
    "current_request",
    "event",
    "exempt",
    "keep_alive",
    "request_from_url",
    "set_tags",
    "set_title",
    "skip_page_view",
    "track_event",
    "tracked_request",
    "trackers",
]
