"""Telling the user when the visitor addresses sent are likely wrong.

Pirsch merges visitors who share an address and drops many that are not on the internet, without
a word; so when the address a record carries is a proxy's, or private, the user must hear of it
(in the log, rate-limited, and in ``Tracker.stats().address_warnings``). Checked in the sender
thread, for records only: the request path pays nothing.
"""

from __future__ import annotations

from .ip import IPResolver, is_internal, parse_ip
from .stats import Counts, RateLimitedLog

__all__ = ["ADDRESS_WARNINGS", "AddressCheck"]

#: The kinds counted in ``Tracker.stats().address_warnings``.
ADDRESS_WARNINGS = (
    "untrusted_proxy",  # a private or loopback peer, not trusted, that sends forwarding headers
    "internal_ip",  # the visitor's address resolved is private or loopback
)


class AddressCheck:
    """Counts and logs (once per interval) records whose visitor address is likely wrong."""

    def __init__(self, resolver: IPResolver, log: RateLimitedLog) -> None:
        self._trusts = resolver.trusts
        self._log = log
        self._counts = Counts()

    def __call__(self, ip: str, peer: str | None, forwarded: bool) -> None:
        """Check one record's address ``ip``, sent by ``peer`` with or without ``forwarded``
        headers (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``, ``CF-Connecting-IP``)."""
        if forwarded and peer:
            address = parse_ip(peer)
            if address is not None and is_internal(address) and not self._trusts(address):
                self._counts.add("untrusted_proxy")
                self._log.warning(
                    "untrusted_proxy",
                    "pirsch_middleware: requests come from %s with forwarding headers, but it is "
                    "not in trusted_proxies: every visitor gets %s. If it is your proxy, add it to "
                    "trusted_proxies (PIRSCH_TRUSTED_PROXIES) and set proxy to what is in front "
                    "of the app",
                    address,
                    address,
                )
                return
        if is_internal(ip):
            self._counts.add("internal_ip")
            self._log.warning(
                "internal_ip",
                "pirsch_middleware: the visitor address %s is private or loopback, so Pirsch "
                "cannot tell such visitors apart. Behind a proxy, set proxy and trusted_proxies "
                "(README: Behind a proxy or CDN)",
                ip,
            )

    def snapshot(self) -> dict[str, int]:
        """The counts by kind."""
        return self._counts.snapshot()
