"""The visitor's address: the peer, or a forwarding header set by a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from .proxies import Preset
from .settings import Network

__all__ = ["IPResolver", "is_internal", "parse_ip"]


# Longer than any address with brackets, port and zone: garbage, and never cached.
_MAX_ADDRESS = 100
# How much of a forwarding header is read, from the right: a visitor can send megabytes.
_MAX_HEADER = 2048


def parse_ip(value: str) -> str | None:
    """One address as a header or peer gives it, normalised; ``None`` when it is not one.

    Accepts ports (``1.2.3.4:80``, ``[::1]:80``), brackets, quotes and zone ids; an IPv4-mapped
    IPv6 address becomes plain IPv4.
    """
    return None if len(value) > _MAX_ADDRESS else _parse_ip(value)


@lru_cache(maxsize=4096)
def _parse_ip(value: str) -> str | None:
    text = value.strip().strip('"').strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


# Private (RFC 1918, RFC 4193), shared (RFC 6598), loopback, link-local and unspecified: where
# no visitor on the internet comes from. (ipaddress's is_private also counts the documentation
# ranges, which are public as far as a proxy setup is concerned.)
_INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "0.0.0.0/32", "fc00::/7", "::1/128", "fe80::/10", "::/128",
    )
)  # fmt: skip


@lru_cache(maxsize=4096)
def is_internal(address: str) -> bool:
    """Whether a normalised address (see :func:`parse_ip`) is private, shared, loopback or
    link-local: never a visitor on the internet, and what Pirsch cannot tell apart or drops."""
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in _INTERNAL)


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` value of every element of a ``Forwarded`` header (RFC 7239)."""
    result = []
    for element in value.split(","):
        found = ""
        for pair in element.split(";"):
            name, _, param = pair.partition("=")
            if name.strip().lower() == "for":
                found = param
                break
        result.append(found)
    return result


class IPResolver:
    """Resolves the visitor's address from a request's peer and the one header ``preset`` reads.

    The header counts only when the peer may set it: a trusted proxy, no IP address at all (a
    Unix socket), any peer with ``only``, or, for a platform with published ``edges``, a peer in
    them (or a trusted proxy whose recorded hop is). A list header is walked from the right past
    trusted proxies and the platform's own entries; a header holding garbage, or none, leaves the
    peer. No other header is ever read: one the proxies in front do not write is the visitor's.
    """

    def __init__(self, trusted: Sequence[Network], preset: Preset, only: bool = False) -> None:
        self._header = preset.header
        self._hops = preset.hops
        self._only = only or preset.only
        edges = tuple(ipaddress.ip_network(n) for n in preset.edges)
        ours = tuple(trusted)
        everyone = ours + edges

        def matcher(networks: tuple[Network, ...]) -> Callable[[str], bool]:
            @lru_cache(maxsize=4096)
            def within(address: str) -> bool:
                ip = ipaddress.ip_address(address)
                return any(ip.version == n.version and ip in n for n in networks)

            return within

        self.is_trusted: Callable[[str], bool] = matcher(ours)
        self._is_edge = matcher(edges) if edges else None
        # Entries a trusted hop may have written: our proxies' and the platform's own.
        self._is_hop = matcher(everyone)

    @property
    def header(self) -> str:
        """The header read, lower case (``""`` for none)."""
        return self._header

    def trusts(self, peer: str | None) -> bool:
        """Whether a peer may set forwarding headers: a trusted proxy, no address at all (a Unix
        socket, a test client), which only a local process can be, or any peer with ``only``.
        With no header to read (``proxy="none"``) no peer may."""
        if not self._header:
            return False
        if self._only:
            return True
        address = parse_ip(peer) if peer else None
        return (
            address is None
            or self.is_trusted(address)
            or (self._is_edge is not None and self._is_edge(address))
        )

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The visitor's address, or ``None`` when neither peer nor header names one."""
        if not self._header:
            return parse_ip(peer) if peer else None
        return self.resolve_values(peer, headers.get("x-forwarded-for"), headers.get(self._header))

    def resolve_values(
        self, peer: str | None, x_forwarded_for: str | None, value: str | None
    ) -> str | None:
        """:meth:`resolve` from the values of ``X-Forwarded-For`` and of :attr:`header` (each
        ``None`` when absent): for a caller that has taken them already."""
        address = parse_ip(peer) if peer else None
        if not self._header:
            return address
        counts, instead = self._admit(address, x_forwarded_for)
        if not counts:
            return instead
        found = self._walk(value, self._hops, self._is_hop, self._header)
        return address if found is None else found

    def came_through(self, peer: str | None, x_forwarded_for: str | None) -> bool:
        """Whether the request came through what the preset names, so that the headers it writes
        are its own (the header read, and ``X-Forwarded-Host`` / ``-Proto`` where it writes them):
        the test :meth:`resolve` makes. ``x_forwarded_for``: that header as received."""
        if not self._header:
            return False
        return self._admit(parse_ip(peer) if peer else None, x_forwarded_for)[0]

    def _admit(self, address: str | None, x_forwarded_for: str | None) -> tuple[bool, str | None]:
        """Whether the header read counts for a request from ``address``; when it does not, the
        address to use instead: the peer, or the hop our own proxy recorded."""
        edge = self._is_edge
        if self._only or (edge is not None and address and edge(address)):
            return True, None
        if address is not None and not self.is_trusted(address):
            return False, address
        if edge is not None:
            # Our own proxy in front of the platform: believe the platform's header only when
            # the hop our proxy recorded is one of the platform's edges.
            hop = self._walk(x_forwarded_for, 1, self.is_trusted)
            if hop is None or not edge(hop):
                return False, hop or address
        return True, None

    def _walk(
        self, value: str | None, hops: int, is_hop: Callable[[str], bool], name: str = ""
    ) -> str | None:
        """The visitor's entry of a list header: from the right, past the hops we trust, past
        the platform's ``hops - 1`` own entries after the visitor's, past trusted hops again.
        ``None`` for garbage where the visitor's entry should be, or too few entries. Reads no
        further left than it must: the left part is the visitor's to fill."""
        if not value:
            return None
        value = value[-_MAX_HEADER:]
        entries = _forwarded_for(value) if name == "forwarded" else value.split(",")
        # Each entry's address, None for garbage; "" once the header is read to its start.
        found = (parse_ip(entry) if entry else None for entry in reversed(entries))
        address = next(found, "")
        leftmost = None
        skip = hops - 1
        while True:
            while address and is_hop(address):
                leftmost, address = address, next(found, "")
            if not skip:
                break
            for _ in range(skip):
                if not address:
                    return None  # fewer entries than the platform writes, or garbage
                address = next(found, "")
            skip, leftmost = 0, None
        if address == "":
            # Every entry is a hop we trust: the first is the visitor, inside our own network.
            return leftmost
        return address
