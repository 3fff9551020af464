from __future__ import annotations

import pytest

from pirsch_middleware.ip import IPResolver, parse_ip
from pirsch_middleware.settings import Settings

RESOLVER = IPResolver(Settings(environ={}).proxy_networks(), Settings(environ={}).ip_headers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:4711", "203.0.113.7"),
        ('"203.0.113.7"', "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"[2001:DB8:0::1]:443"', "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:198.51.100.2", "198.51.100.2"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("[2001:db8::1", None),
        ("999.1.1.1", None),
        ("1" * 500, None),
    ],
)
def test_parse_ip(text: str, expected: str | None) -> None:
    assert parse_ip(text) == expected


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # A public peer is the visitor: forged headers change nothing.
        ("203.0.113.7", {"x-forwarded-for": "198.51.100.1"}, "203.0.113.7"),
        (
            "203.0.113.7",
            {"cf-connecting-ip": "198.51.100.1", "x-real-ip": "1.1.1.1"},
            "203.0.113.7",
        ),
        # Behind a trusted proxy the rightmost untrusted entry wins, not the visitor's forged one.
        ("10.0.0.2", {"x-forwarded-for": "6.6.6.6, 198.51.100.1"}, "198.51.100.1"),
        ("10.0.0.2", {"x-forwarded-for": "6.6.6.6, 198.51.100.1, 10.0.0.9"}, "198.51.100.1"),
        ("127.0.0.1", {"x-forwarded-for": "198.51.100.1:5555"}, "198.51.100.1"),
        ("127.0.0.1", {"x-forwarded-for": "2001:db8::5"}, "2001:db8::5"),
        ("::1", {"x-forwarded-for": "[2001:db8::5]:80"}, "2001:db8::5"),
        # Header order: CF-Connecting-IP first.
        (
            "10.0.0.2",
            {"cf-connecting-ip": "198.51.100.3", "x-forwarded-for": "198.51.100.1"},
            "198.51.100.3",
        ),
        (
            "10.0.0.2",
            {"true-client-ip": "198.51.100.4", "x-real-ip": "198.51.100.1"},
            "198.51.100.4",
        ),
        ("10.0.0.2", {"x-real-ip": "198.51.100.1"}, "198.51.100.1"),
        # Forwarded (RFC 7239): last element's for=, quoted IPv6 with port.
        (
            "10.0.0.2",
            {"forwarded": 'for=6.6.6.6, for="[2001:db8::7]:4711";proto=https'},
            "2001:db8::7",
        ),
        ("10.0.0.2", {"forwarded": "for=198.51.100.8;by=10.0.0.2, for=10.0.0.3"}, "198.51.100.8"),
        # Garbage falls back to the next header, then the peer.
        ("10.0.0.2", {"x-forwarded-for": "garbage", "x-real-ip": "198.51.100.1"}, "198.51.100.1"),
        ("10.0.0.2", {"x-forwarded-for": "not-an-ip"}, "10.0.0.2"),
        ("10.0.0.2", {"x-forwarded-for": "198.51.100.1, junk"}, "10.0.0.2"),
        ("10.0.0.2", {"forwarded": "for=unknown"}, "10.0.0.2"),
        ("10.0.0.2", {"x-forwarded-for": ""}, "10.0.0.2"),
        # Only proxies in the chain: the leftmost is the visitor inside our network.
        ("10.0.0.2", {"x-forwarded-for": "192.168.1.20, 10.0.0.5"}, "192.168.1.20"),
        # No peer (Unix socket) or a peer without an address: headers count.
        (None, {"x-forwarded-for": "198.51.100.1"}, "198.51.100.1"),
        ("testclient", {"x-real-ip": "198.51.100.1"}, "198.51.100.1"),
        (None, {}, None),
        ("10.0.0.2", {}, "10.0.0.2"),
        ("[::1]:8000", {}, "::1"),
    ],
)
def test_resolve(peer: str | None, headers: dict[str, str], expected: str | None) -> None:
    assert RESOLVER.resolve(peer, headers) == expected


def test_configured_header_order_and_proxies_are_used() -> None:
    resolver = IPResolver(
        Settings(trusted_proxies=["100.64.0.0/10"], environ={}).proxy_networks(), ["X-Real-IP"]
    )
    assert (
        resolver.resolve("100.64.0.1", {"x-real-ip": "198.51.100.1", "x-forwarded-for": "6.6.6.6"})
        == "198.51.100.1"
    )
    # 10.0.0.0/8 is no longer trusted: its headers are ignored.
    assert resolver.resolve("10.0.0.2", {"x-real-ip": "198.51.100.1"}) == "10.0.0.2"


def test_huge_header_is_read_from_the_right_only() -> None:
    value = "1.1.1.1, " * 100_000 + "198.51.100.1"
    assert RESOLVER.resolve("10.0.0.2", {"x-forwarded-for": value}) == "198.51.100.1"


def test_parse_ip_reads_up_to_a_hundred_characters() -> None:
    padded = " " * 89 + "203.0.113.7"
    assert (len(padded), parse_ip(padded)) == (100, "203.0.113.7")
    assert parse_ip(" " + padded) is None  # longer than any address: garbage, never parsed


def test_forwarded_elements_without_spaces_are_split() -> None:
    # RFC 7239 puts no space after the comma between elements: the last proxy's entry wins.
    headers = {"forwarded": "for=198.51.100.9;proto=https,for=198.51.100.17"}
    assert RESOLVER.resolve("10.0.0.1", headers) == "198.51.100.17"


def test_a_peer_without_an_address_is_trusted_and_a_public_one_is_not() -> None:
    # No address (a Unix socket, a test client) can only be a local process.
    assert RESOLVER.trusts(None)
    assert RESOLVER.trusts("")
    assert RESOLVER.trusts("10.0.0.1")
    assert not RESOLVER.trusts("203.0.113.7")
