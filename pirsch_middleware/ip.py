"""The visitor's address: the peer, or a forwarding header set by a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from .settings import Network

__all__ = ["IPResolver", "parse_ip"]


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
    """Resolves the visitor's address from a request's peer and headers.

    Forwarding headers count only when the peer is a trusted proxy or has no IP address (a Unix
    socket). Each header in ``headers`` order is walked from the right, past trusted
    proxies, to the first address that is not one; a header holding garbage is passed over.
    """

    def __init__(self, trusted: Sequence[Network], headers: Sequence[str]) -> None:
        self._headers = tuple(h.lower() for h in headers)
        networks = tuple(trusted)

        @lru_cache(maxsize=4096)
        def is_trusted(address: str) -> bool:
            ip = ipaddress.ip_address(address)
            return any(ip.version == n.version and ip in n for n in networks)

        self.is_trusted: Callable[[str], bool] = is_trusted

    def trusts(self, peer: str | None) -> bool:
        """Whether a peer may set forwarding headers: a trusted proxy, or no address at all
        (a Unix socket, a test client), which only a local process can be."""
        address = parse_ip(peer) if peer else None
        return address is None or self.is_trusted(address)

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The visitor's address, or ``None`` when neither peer nor headers name one."""
        address = parse_ip(peer) if peer else None
        if address is not None and not self.is_trusted(address):
            return address
        for name in self._headers:
            value = headers.get(name)
            if value:
                value = value[-_MAX_HEADER:]
                found = self._walk(
                    _forwarded_for(value) if name == "forwarded" else value.split(",")
                )
                if found is not None:
                    return found
        return address

    def _walk(self, entries: list[str]) -> str | None:
        leftmost = None
        for entry in reversed(entries):
            address = parse_ip(entry) if entry else None
            if address is None:
                return None
            if not self.is_trusted(address):
                return address
            leftmost = address
        # Every hop is a proxy of ours: the first one is the visitor, inside our own network.
        return leftmost
