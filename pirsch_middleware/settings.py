"""The one settings object every adapter maps its framework's configuration onto."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .destinations import MAIN, Destination, parse_destinations
from .environment import ENV_PREFIX, env_parser, env_var
from .errors import ConfigurationError
from .pageview import DEFAULT_DOWNLOAD_EXTENSIONS, DEFAULT_PARTIAL_HEADERS
from .proxies import PRESETS, Preset

if TYPE_CHECKING:
    from .records import Record
    from .request import RequestData

__all__ = [
    "DEFAULT_DOWNLOAD_EXTENSIONS",
    "DEFAULT_EXCLUDE_PATHS",
    "DEFAULT_PARTIAL_HEADERS",
    "DEFAULT_TRUSTED_PROXIES",
    "Network",
    "Settings",
    "SettingsOptions",
    "closest_name",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_BASE_URL = "https://api.pirsch.io"

#: Loopback, private and unique-local ranges: where a reverse proxy of your own usually sits.
DEFAULT_TRUSTED_PROXIES: tuple[str, ...] = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)

#: Paths that are never page views. Globs; a pattern ending in "/" matches everything below it.
DEFAULT_EXCLUDE_PATHS: tuple[str, ...] = (
    "/favicon.ico",
    "/robots.txt",
    "/sitemap.xml",
    "/.well-known/",
    "/static/",
    "/media/",
    "/assets/",
    "*.css",
    "*.js",
    "*.map",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.svg",
    "*.ico",
    "*.webp",
    "*.avif",
    "*.woff",
    "*.woff2",
    "*.ttf",
)

_CREDENTIALS = ("access_key", "client_id", "client_secret")
_SECRETS = frozenset({"access_key", "client_secret"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: What ``snippet`` takes: no proxy; the snippet counts page views (the middleware none); the
#: middleware counts page views and the snippet events and sessions.
SNIPPET_MODES = ("off", "only", "hybrid")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+/?$")


class SettingsOptions(TypedDict, total=False):
    """The options of :class:`Settings` as keyword arguments (``**options`` of the adapters), so
    type checkers catch a misspelt option. Kept equal to the fields by a test."""

    access_key: str | None
    client_id: str | None
    client_secret: str | None
    destinations: Sequence[str | Destination | Mapping[str, str | None]]
    base_url: str | None
    timeout: float
    enabled: bool
    trusted_proxies: Sequence[str | Network]
    proxy: str
    proxy_header: str | None
    proxy_hops: int
    proxy_only: bool
    proxy_sets_host: bool
    proxy_sets_proto: bool
    respect_dnt: bool
    exclude_paths: Sequence[str | re.Pattern[str]]
    exclude_bots: bool
    navigations_only: bool
    partial_headers: Sequence[str]
    track_frames: bool
    accept_ch: bool
    not_found_event: bool
    download_event: bool
    download_extensions: Sequence[str]
    disable_bot_filter: bool
    read_title: bool
    should_track: Callable[[RequestData], bool] | None
    before_send: Callable[[Record], Record | None] | None
    batch_size: int
    flush_interval: float
    max_queue_size: int
    max_retries: int
    retry_backoff: float
    retry_backoff_max: float
    shutdown_timeout: float
    sync: bool
    snippet: str
    snippet_prefix: str
    snippet_script_url: str | None
    snippet_cache_file: str | None
    snippet_refresh: float
    environ: Mapping[str, str] | None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Validated configuration of a :class:`~pirsch_middleware.Tracker`.

    Every option is checked when the object is built; a wrong one raises
    :class:`~pirsch_middleware.ConfigurationError` naming the option (or the environment variable
    it came from), the expected form and the value; a misspelt name raises it too, suggesting the
    closest. An option not given here is read from the environment variable ``PIRSCH_<NAME>``
    (``PIRSCH_BATCH_SIZE``, ``PIRSCH_ENABLED``, ...; see :func:`env_var`), except the callables
    and ``environ``. The three credentials come as a group: when one is given here, none is read
    from the environment.
    """

    def __new__(cls, **options: Any) -> Settings:
        check_names(options, f"{cls.__name__}()")
        self = super().__new__(cls)
        # What the caller gave (None counts as not given): the environment fills in the rest.
        given = frozenset(k for k, v in options.items() if v is not None)
        object.__setattr__(self, "_given", given)
        return self

    access_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    destinations: Sequence[str | Destination | Mapping[str, str | None]] = ()
    base_url: str | None = None
    timeout: float = 5.0
    enabled: bool = True
    trusted_proxies: Sequence[str | Network] = DEFAULT_TRUSTED_PROXIES
    proxy: str = "reverse_proxy"
    proxy_header: str | None = None
    proxy_hops: int = 1
    proxy_only: bool = False
    proxy_sets_host: bool = False
    proxy_sets_proto: bool = False
    respect_dnt: bool = True
    exclude_paths: Sequence[str | re.Pattern[str]] = DEFAULT_EXCLUDE_PATHS
    exclude_bots: bool = True
    navigations_only: bool = True
    partial_headers: Sequence[str] = DEFAULT_PARTIAL_HEADERS
    track_frames: bool = False
    accept_ch: bool = True
    not_found_event: bool = False
    download_event: bool = False
    download_extensions: Sequence[str] = DEFAULT_DOWNLOAD_EXTENSIONS
    disable_bot_filter: bool = False
    read_title: bool = True
    should_track: Callable[[RequestData], bool] | None = None
    before_send: Callable[[Record], Record | None] | None = None
    batch_size: int = 500
    flush_interval: float = 0.1
    max_queue_size: int = 50_000
    max_retries: int = 10
    retry_backoff: float = 0.5
    retry_backoff_max: float = 30.0
    shutdown_timeout: float = 5.0
    sync: bool = False
    # The first-party snippet proxy (snippet.py), checked by _check_snippet.
    snippet: str = "off"
    snippet_prefix: str = "/p/"
    snippet_script_url: str | None = None
    snippet_cache_file: str | None = None
    snippet_refresh: float = 3600.0
    environ: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        env = os.environ if self.environ is None else self.environ
        from_env = self._read_environment(env)
        try:
            self._validate()
        except ConfigurationError as error:
            if error.setting in from_env:
                raise error.renamed(from_env[error.setting]) from None
            raise

    def _read_environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """Set the options not given explicitly from ``PIRSCH_<NAME>``; {option: variable} read."""
        given: frozenset[str] = getattr(self, "_given", frozenset())
        read = {}
        for f in dataclasses.fields(self):
            parse = env_parser(str(f.type))
            if parse is None or f.name in given:
                continue
            if f.name in _CREDENTIALS and given.intersection(_CREDENTIALS):
                continue
            variable = env_var(f.name)
            raw = env.get(variable)
            if raw is None:
                continue
            value = parse(variable, raw)
            if value is not None:
                self._set(f.name, value)
                read[f.name] = variable
        return read

    def _validate(self) -> None:
        set_ = self._set
        self._check_credentials()
        set_("base_url", _check_url(self.base_url or DEFAULT_BASE_URL))
        for name in ("timeout", "flush_interval", "retry_backoff", "retry_backoff_max"):
            set_(name, _number(name, getattr(self, name), positive=True))
        set_("shutdown_timeout", _number("shutdown_timeout", self.shutdown_timeout))
        set_("batch_size", _integer("batch_size", self.batch_size, 1, 10_000))
        set_("max_queue_size", _integer("max_queue_size", self.max_queue_size, 1, 10_000_000))
        set_("max_retries", _integer("max_retries", self.max_retries, 0, 1_000))
        for name in (
            "enabled",
            "respect_dnt",
            "exclude_bots",
            "navigations_only",
            "track_frames",
            "accept_ch",
            "not_found_event",
            "download_event",
            "disable_bot_filter",
            "read_title",
            "sync",
            "proxy_only",
            "proxy_sets_host",
            "proxy_sets_proto",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(name, "True or False", getattr(self, name))
        for name in ("should_track", "before_send"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ConfigurationError(name, "a callable or None", value)
        set_("trusted_proxies", tuple(str(n) for n in self.proxy_networks()))
        set_("partial_headers", _check_headers("partial_headers", self.partial_headers))
        set_("download_extensions", _check_extensions(self.download_extensions))
        set_("proxy_hops", _integer("proxy_hops", self.proxy_hops, 1, 10))
        self.preset()
        set_("exclude_paths", _check_excludes(self.exclude_paths))
        self._check_snippet()
        # Last: each dashboard's settings are these with its credentials, checked as these are.
        set_("destinations", parse_destinations(self.destinations))
        self.dashboards()

    def _check_snippet(self) -> None:
        """The snippet proxy's settings: the mode, a prefix such as ``/p/`` (stored with its
        slashes), the script's URL (``base_url`` + ``/pa.js`` by default), the cache file
        (whose folder must exist) and the refresh interval in seconds."""
        if self.snippet not in SNIPPET_MODES:
            names = ", ".join(repr(mode) for mode in SNIPPET_MODES)
            raise ConfigurationError("snippet", f"one of {names}", self.snippet)
        prefix = self.snippet_prefix
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise ConfigurationError(
                "snippet_prefix", "a path such as '/p/' (letters, digits, '-', '_', '.')", prefix
            )
        self._set("snippet_prefix", prefix.rstrip("/") + "/")
        url = self.snippet_script_url
        if url is None:
            self._set("snippet_script_url", f"{self.base_url}/pa.js")
        elif not isinstance(url, str) or not re.match(r"^https?://[^/?#\s]+/\S*$", url):
            raise ConfigurationError(
                "snippet_script_url", "an http(s) URL such as 'https://api.pirsch.io/pa.js'", url
            )
        path = self.snippet_cache_file
        if path is not None and (
            not isinstance(path, str) or not os.path.isdir(os.path.dirname(os.path.abspath(path)))
        ):
            raise ConfigurationError(
                "snippet_cache_file", "a file path in a folder that exists, or None", path
            )
        self._set(
            "snippet_refresh", _number("snippet_refresh", self.snippet_refresh, positive=True)
        )

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_credentials(self) -> None:
        for name in ("access_key", "client_id", "client_secret"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise ConfigurationError(
                    name, "a non-empty string or None", value, secret=name in _SECRETS
                )
            if value is not None:
                # A key pasted into an env file often brings a newline, which no header may hold.
                self._set(name, value.strip())
        if self.client_id is None and self.client_secret and self.client_secret.startswith("pa_"):
            # The official SDKs take an access key in the secret's place when no id is given.
            self._set("access_key", self.access_key or self.client_secret)
            self._set("client_secret", None)
        if self.access_key is not None and not self.access_key.startswith("pa_"):
            raise ConfigurationError(
                "access_key", "a key starting with 'pa_'", self.access_key, secret=True
            )
        # With an OAuth client as well, the key sends hits and the client reads statistics.
        if (self.client_id is None) != (self.client_secret is None):
            missing = "client_secret" if self.client_secret is None else "client_id"
            raise ConfigurationError(
                missing, "a value when the other OAuth credential is set", None
            )

    def dashboards(self) -> list[tuple[str, Settings]]:
        """Where records go: for each dashboard, its name and these settings with its
        credentials and ``base_url``. The top-level credentials' dashboard comes first (named
        ``"main"``, these very settings), then each of ``destinations``; empty without any
        credentials. :class:`ConfigurationError` names the ``destinations`` item that is wrong."""
        found = [(MAIN, self)] if self.auth_mode != "none" else []
        seen = {self._credentials(): MAIN}
        destination: Destination
        for index, destination in enumerate(self.destinations):  # type: ignore[assignment]
            label = destination.label(index)
            try:
                settings = self.replace(
                    destinations=(),
                    access_key=destination.access_key,
                    client_id=destination.client_id,
                    client_secret=destination.client_secret,
                    base_url=destination.base_url or self.base_url,
                )
            except ConfigurationError as error:
                raise error.within("destinations", f"item {index} ({label})") from None
            same = seen.setdefault(settings._credentials(), label)
            if same != label:  # one dashboard twice would count every visit twice
                raise ConfigurationError(
                    "destinations",
                    f"item {index} ({label}) to name another dashboard than {same}",
                    settings.access_key or settings.client_id,
                    secret=True,
                )
            found.append((label, settings))
        return found

    def _credentials(self) -> tuple[str | None, str | None]:
        """What tells two dashboards apart: where, and whose key or client."""
        return (self.base_url, self.access_key or self.client_id)

    @property
    def auth_mode(self) -> Literal["access_key", "oauth", "none"]:
        """How the tracker authenticates its hits (an access key wins over an OAuth client, which
        then serves statistics only); ``"none"`` only logs what it would send."""
        if self.access_key:
            return "access_key"
        return "oauth" if self.client_id else "none"

    def preset(self) -> Preset:
        """What ``proxy`` names (with ``proxy_header`` and ``proxy_hops`` for ``"custom"``), the
        host and scheme headers believed where the platform or ``proxy_sets_host`` /
        ``proxy_sets_proto`` say they are set; :class:`ConfigurationError` for a name that is no
        preset."""
        if self.proxy == "custom":
            header = self.proxy_header
            if not isinstance(header, str) or not _HEADER_NAME.match(header):
                raise ConfigurationError(
                    "proxy_header", "a header name such as 'X-Real-IP' with proxy='custom'", header
                )
            return Preset(
                header.lower(),
                self.proxy_hops,
                sets_host=self.proxy_sets_host,
                sets_proto=self.proxy_sets_proto,
            )
        preset = PRESETS.get(self.proxy) if isinstance(self.proxy, str) else None
        if preset is None:
            choices = (*PRESETS, "custom")
            names = ", ".join(repr(name) for name in choices)
            close = difflib.get_close_matches(str(self.proxy).lower(), choices, 1, 0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError("proxy", f"one of {names}{hint}", self.proxy)
        if self.proxy_header is not None:
            raise ConfigurationError(
                "proxy_header", "None unless proxy='custom'", self.proxy_header
            )
        if self.proxy_hops != 1:  # a preset's hops are the platform's: not silently ignored
            raise ConfigurationError("proxy_hops", "1 unless proxy='custom'", self.proxy_hops)
        if not preset.header:
            for name in ("proxy_sets_host", "proxy_sets_proto"):
                if getattr(self, name):  # nothing in front to set them
                    raise ConfigurationError(name, "False with proxy='none'", getattr(self, name))
        if self.proxy_sets_host or self.proxy_sets_proto:
            preset = dataclasses.replace(
                preset,
                sets_host=preset.sets_host or self.proxy_sets_host,
                sets_proto=preset.sets_proto or self.proxy_sets_proto,
            )
        return preset

    @property
    def forwarding_headers(self) -> tuple[str, ...]:
        """The header the chosen ``proxy`` reads (none for ``"none"``)."""
        header = self.preset().header
        return (header,) if header else ()

    def proxy_networks(self) -> tuple[Network, ...]:
        """``trusted_proxies`` parsed into networks."""
        value: Any = self.trusted_proxies
        if isinstance(value, str):
            value = [v for v in re.split(r"[\s,]+", value) if v]
        if not isinstance(value, Sequence | set | frozenset):
            raise ConfigurationError("trusted_proxies", "a list of CIDR strings", value)
        networks = []
        for item in value:
            try:
                network = ipaddress.ip_network(item)
            except (TypeError, ValueError):
                # Host bits set ("10.0.0.1/8") are a typo as often as not: say so, not guess.
                raise ConfigurationError(
                    "trusted_proxies",
                    "CIDR networks without host bits, such as '10.0.0.0/8' or '::1'",
                    item,
                ) from None
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:
                    # Addresses are compared as IPv4 once mapped (ip.parse_ip): so are networks.
                    network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
            networks.append(network)
        return tuple(networks)

    @classmethod
    def option_names(cls) -> frozenset[str]:
        """The names a framework's configuration may use."""
        return frozenset(f.name for f in dataclasses.fields(cls))

    def misspelt_variables(self) -> list[tuple[str, str]]:
        """The ``PIRSCH_*`` environment variables that are no setting's but nearly spell one
        (``PIRSCH_EXCLUDE_PATH``), each with the variable it is closest to, in name order.
        They are ignored, so the tracker warns about them; a name like no setting's is left
        alone, since other tools may use the prefix too."""
        env = os.environ if self.environ is None else self.environ
        known = sorted(env_var(f.name) for f in dataclasses.fields(self) if env_parser(str(f.type)))
        found = []
        for variable in sorted(env):
            if variable.startswith(ENV_PREFIX) and variable not in known:
                close = difflib.get_close_matches(variable, known, 1, 0.85)
                if close:
                    found.append((variable, close[0]))
        return found

    @classmethod
    def check_names(cls, options: Mapping[str, object], source: str, prefix: str = "") -> None:
        """Raise :class:`ConfigurationError` for a key of ``options`` that names no option,
        suggesting the closest name.

        ``prefix`` is how a framework's configuration spells the names (``"PIRSCH_"`` keys in
        upper case for Flask).
        """
        check_names(options, source, prefix)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some options changed, validated like the original."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "environ":
                continue
            value = getattr(self, f.name)
            shown = "'***'" if f.name in _SECRETS and value else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"Settings({', '.join(parts)})"


def closest_name(key: object, prefix: str = "") -> str | None:
    """The option name (spelled with ``prefix`` in upper case when given) closest to ``key``."""
    names = sorted(f.name for f in dataclasses.fields(Settings))
    spelled = [(prefix + n.upper()) if prefix else n for n in names]
    close = difflib.get_close_matches(str(key), spelled, 1, 0.6)
    return close[0] if close else None


def check_names(options: Mapping[str, object], source: str, prefix: str = "") -> None:
    """See :meth:`Settings.check_names`."""
    names = Settings.option_names()
    for key in options:
        name = key[len(prefix) :].lower() if prefix else key
        if name not in names:
            close = closest_name(key, prefix)
            example = f"did you mean {close!r}?" if close else "see the README's Settings"
            raise ConfigurationError(source, f"the name of a setting ({example})", key)


def _check_url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", value):
        raise ConfigurationError(
            "base_url", "an http(s) URL such as 'https://api.pirsch.io'", value
        )
    return value.rstrip("/")


def _number(name: str, value: object, *, positive: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):  # type: ignore[operator]
        expected = "a number of seconds above 0" if positive else "a number of seconds, 0 or more"
        raise ConfigurationError(name, expected, value)
    return float(value)  # type: ignore[arg-type]


def _integer(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigurationError(name, f"a whole number from {low} to {high}", value)
    return value


def _check_headers(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,]+", value) if v]
    if not isinstance(value, Sequence):
        raise ConfigurationError(name, "a list of header names", value)
    for item in value:
        if not isinstance(item, str) or not _HEADER_NAME.match(item):
            raise ConfigurationError(name, "header names such as 'X-Forwarded-For'", item)
    return tuple(value)


def _check_extensions(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,]+", value) if v]
    if not isinstance(value, Sequence):
        raise ConfigurationError("download_extensions", "a list of file extensions", value)
    for item in value:
        if not isinstance(item, str) or not re.fullmatch(r"\.?[A-Za-z0-9]{1,16}", item):
            raise ConfigurationError("download_extensions", "extensions such as 'pdf'", item)
    return tuple(item.lstrip(".").lower() for item in value)


def _check_excludes(value: object) -> tuple[str | re.Pattern[str], ...]:
    if isinstance(value, str | re.Pattern) or not isinstance(value, Sequence):
        raise ConfigurationError("exclude_paths", "a list of globs or regular expressions", value)
    result: list[str | re.Pattern[str]] = []
    for item in value:
        if isinstance(item, str) and item.startswith("re:"):
            try:
                item = re.compile(item[3:])
            except re.error as exc:
                raise ConfigurationError(
                    "exclude_paths", f"a valid regular expression after 're:' ({exc})", item
                ) from None
        if isinstance(item, re.Pattern):
            if not isinstance(item.pattern, str):
                raise ConfigurationError("exclude_paths", "a str pattern, not bytes", item)
        elif not isinstance(item, str) or not item:
            raise ConfigurationError(
                "exclude_paths", "globs such as '/admin/*' or 're:^/api/'", item
            )
        result.append(item)
    return tuple(result)
