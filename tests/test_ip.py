from __future__ import annotations

from typing import Any

import pytest

from pirsch_middleware.ip import IPResolver, parse_ip
from pirsch_middleware.settings import Settings


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


# A forged header of every kind a visitor can send, none of which a stock nginx writes.
FORGED = {
    "cf-connecting-ip": "6.6.6.1",
    "true-client-ip": "6.6.6.2",
    "x-real-ip": "6.6.6.3",
    "forwarded": "for=6.6.6.4",
    "fly-client-ip": "6.6.6.5",
}
CF_EDGE = "162.158.1.2"  # in Cloudflare's published ranges
VISITOR = "198.51.100.1"


def resolver(proxy: str = "reverse_proxy", **options: Any) -> IPResolver:
    settings = Settings(proxy=proxy, environ={}, **options)
    return IPResolver(settings.proxy_networks(), settings.preset(), settings.proxy_only)


@pytest.mark.parametrize(
    ("proxy", "peer", "headers", "expected"),
    [
        # Default: a reverse proxy appending X-Forwarded-For. A public peer is the visitor.
        ("reverse_proxy", "203.0.113.7", {"x-forwarded-for": VISITOR}, "203.0.113.7"),
        ("reverse_proxy", "203.0.113.7", FORGED, "203.0.113.7"),
        # Behind our proxy: the rightmost untrusted entry, never the visitor's forged one...
        ("reverse_proxy", "10.0.0.2", {"x-forwarded-for": f"6.6.6.6, {VISITOR}"}, VISITOR),
        (
            "reverse_proxy",
            "10.0.0.2",
            {"x-forwarded-for": f"6.6.6.6, {VISITOR}, 10.0.0.9"},
            VISITOR,
        ),
        # ... and never another header the proxy does not write (the fall-through forgery).
        ("reverse_proxy", "127.0.0.1", {**FORGED, "x-forwarded-for": VISITOR}, VISITOR),
        ("reverse_proxy", "127.0.0.1", FORGED, "127.0.0.1"),
        ("reverse_proxy", "10.0.0.2", {**FORGED, "x-forwarded-for": "garbage"}, "10.0.0.2"),
        # Ports, IPv6, mapped addresses, several header lines joined.
        ("reverse_proxy", "127.0.0.1", {"x-forwarded-for": f"{VISITOR}:5555"}, VISITOR),
        ("reverse_proxy", "::1", {"x-forwarded-for": "[2001:db8::5]:80"}, "2001:db8::5"),
        ("reverse_proxy", "::ffff:10.0.0.2", {"x-forwarded-for": "::ffff:198.51.100.1"}, VISITOR),
        ("reverse_proxy", "10.0.0.2", {"x-forwarded-for": f"6.6.6.6, 7.7.7.7, {VISITOR}"}, VISITOR),
        # Garbage where the visitor's entry should be leaves the peer.
        ("reverse_proxy", "10.0.0.2", {"x-forwarded-for": f"{VISITOR}, junk"}, "10.0.0.2"),
        ("reverse_proxy", "10.0.0.2", {"x-forwarded-for": ""}, "10.0.0.2"),
        # Only our own proxies in the chain: the leftmost is a visitor inside our network.
        (
            "reverse_proxy",
            "10.0.0.2",
            {"x-forwarded-for": "192.168.1.20, 10.0.0.5"},
            "192.168.1.20",
        ),
        # No peer address (a Unix socket): the proxy's header counts.
        ("reverse_proxy", None, {"x-forwarded-for": VISITOR}, VISITOR),
        ("reverse_proxy", "testclient", {"x-real-ip": VISITOR}, None),
        ("reverse_proxy", None, {}, None),
        ("reverse_proxy", "[::1]:8000", {}, "::1"),
        # No proxy: the peer, whatever the headers.
        ("none", "127.0.0.1", {"x-forwarded-for": VISITOR}, "127.0.0.1"),
        # RFC 7239 Forwarded, read by its own preset only.
        (
            "forwarded",
            "10.0.0.2",
            {"forwarded": 'for=6.6.6.6, for="[2001:db8::7]:4711"'},
            "2001:db8::7",
        ),
        (
            "forwarded",
            "10.0.0.2",
            {"forwarded": f"for={VISITOR};by=10.0.0.2, for=10.0.0.3"},
            VISITOR,
        ),
        (
            "forwarded",
            "10.0.0.2",
            {"forwarded": "for=unknown", "x-forwarded-for": VISITOR},
            "10.0.0.2",
        ),
        ("reverse_proxy", "10.0.0.2", {"forwarded": f"for={VISITOR}"}, "10.0.0.2"),
        # Cloudflare: believed from its edges, directly or as recorded by our own proxy.
        ("cloudflare", CF_EDGE, {"cf-connecting-ip": VISITOR}, VISITOR),
        ("cloudflare", "2606:4700::1", {"cf-connecting-ip": "2001:db8::9"}, "2001:db8::9"),
        (
            "cloudflare",
            "10.0.0.2",
            {"cf-connecting-ip": VISITOR, "x-forwarded-for": CF_EDGE},
            VISITOR,
        ),
        # ... and not from outside them: the connecting address is the visitor.
        ("cloudflare", "203.0.113.7", {"cf-connecting-ip": "6.6.6.6"}, "203.0.113.7"),
        (
            "cloudflare",
            "10.0.0.2",
            {"cf-connecting-ip": "6.6.6.6", "x-forwarded-for": f"{CF_EDGE}, 203.0.113.7"},
            "203.0.113.7",
        ),
        ("cloudflare", "10.0.0.2", {"cf-connecting-ip": "6.6.6.6"}, "10.0.0.2"),
        ("cloudflare", CF_EDGE, {"x-forwarded-for": VISITOR}, CF_EDGE),
        # AWS ALB and Azure Front Door append to X-Forwarded-For.
        ("aws_alb", "172.31.5.6", {**FORGED, "x-forwarded-for": f"6.6.6.6, {VISITOR}"}, VISITOR),
        ("azure_front_door", "203.0.113.9", {"x-forwarded-for": VISITOR}, "203.0.113.9"),
        # Google's load balancer appends "<client>,<load balancer>" and connects from its GFEs.
        (
            "google_load_balancer",
            "35.191.3.4",
            {"x-forwarded-for": f"6.6.6.6, {VISITOR}, 34.120.0.1"},
            VISITOR,
        ),
        ("google_load_balancer", "35.191.3.4", {"x-forwarded-for": "34.120.0.1"}, "35.191.3.4"),
        (
            "google_load_balancer",
            "203.0.113.7",
            {"x-forwarded-for": f"{VISITOR}, 1.1.1.1"},
            "203.0.113.7",
        ),
        # Fly, Heroku and Render are the only way in: any peer may set their header.
        ("fly", "fdaa:0:1::3", {**FORGED, "fly-client-ip": VISITOR}, VISITOR),
        ("fly", "fdaa:0:1::3", {"x-forwarded-for": VISITOR}, "fdaa:0:1::3"),
        ("heroku", "10.1.45.23", {"x-forwarded-for": f"6.6.6.6, {VISITOR}"}, VISITOR),
        ("render", "10.21.157.68", {"x-forwarded-for": f"6.6.6.6, {VISITOR}, {CF_EDGE}"}, VISITOR),
        ("render", "10.21.157.68", {"x-forwarded-for": VISITOR}, "10.21.157.68"),
        # Akamai's True-Client-IP from a trusted hop; from elsewhere, the peer.
        ("akamai", "10.0.0.2", {**FORGED, "true-client-ip": VISITOR}, VISITOR),
        ("akamai", "23.0.0.1", {"true-client-ip": "6.6.6.6"}, "23.0.0.1"),
    ],
)
def test_resolve(
    proxy: str, peer: str | None, headers: dict[str, str], expected: str | None
) -> None:
    assert resolver(proxy).resolve(peer, headers) == expected


def test_proxy_only_believes_any_peer() -> None:
    assert (
        resolver("akamai", proxy_only=True).resolve("23.0.0.1", {"true-client-ip": VISITOR})
        == VISITOR
    )
    assert (
        resolver("cloudflare", proxy_only=True).resolve(
            "203.0.113.7", {"cf-connecting-ip": VISITOR}
        )
        == VISITOR
    )


def test_custom_header_and_hops_are_used() -> None:
    custom = resolver("custom", proxy_header="X-Real-IP", trusted_proxies=["100.64.0.0/10"])
    assert (
        custom.resolve("100.64.0.1", {"x-real-ip": VISITOR, "x-forwarded-for": "6.6.6.6"})
        == VISITOR
    )
    # 10.0.0.0/8 is no longer trusted: its headers are ignored.
    assert custom.resolve("10.0.0.2", {"x-real-ip": VISITOR}) == "10.0.0.2"
    # Two public proxies of ours append to X-Forwarded-For (like ProxyFix(x_for=2)).
    two = resolver("custom", proxy_header="X-Forwarded-For", proxy_hops=2)
    assert (
        two.resolve("10.0.0.2", {"x-forwarded-for": f"6.6.6.6, {VISITOR}, 203.0.113.1"}) == VISITOR
    )


def test_mapped_trusted_network_matches_mapped_peers() -> None:
    mapped = resolver(trusted_proxies=["::ffff:203.0.113.0/120"])
    assert mapped.resolve("::ffff:203.0.113.5", {"x-forwarded-for": VISITOR}) == VISITOR
    assert mapped.resolve("203.0.113.5", {"x-forwarded-for": VISITOR}) == VISITOR


def test_huge_header_is_read_from_the_right_only() -> None:
    value = "1.1.1.1, " * 100_000 + VISITOR
    assert resolver().resolve("10.0.0.2", {"x-forwarded-for": value}) == VISITOR


def test_parse_ip_reads_up_to_a_hundred_characters() -> None:
    padded = " " * 89 + "203.0.113.7"
    assert (len(padded), parse_ip(padded)) == (100, "203.0.113.7")
    assert parse_ip(" " + padded) is None  # longer than any address: garbage, never parsed


def test_forwarded_elements_without_spaces_are_split() -> None:
    # RFC 7239 puts no space after the comma between elements: the last proxy's entry wins.
    headers = {"forwarded": "for=198.51.100.9;proto=https,for=198.51.100.17"}
    assert resolver("forwarded").resolve("10.0.0.1", headers) == "198.51.100.17"


def test_a_peer_without_an_address_is_trusted_and_a_public_one_is_not() -> None:
    # No address (a Unix socket, a test client) can only be a local process.
    assert resolver().trusts(None)
    assert resolver().trusts("")
    assert resolver().trusts("10.0.0.1")
    assert not resolver().trusts("203.0.113.7")


@pytest.mark.parametrize(
    ("proxy", "peer", "x_forwarded_for", "expected"),
    [
        ("none", None, None, False),
        ("reverse_proxy", "10.0.0.1", None, True),
        ("reverse_proxy", None, None, True),
        ("reverse_proxy", "203.0.113.7", None, False),
        ("fly", "203.0.113.7", None, True),
        ("cloudflare", CF_EDGE, None, True),
        ("cloudflare", "203.0.113.7", None, False),
        # Our own proxy in front of Cloudflare: only when the hop it recorded is Cloudflare's.
        ("cloudflare", "10.0.0.2", f"6.6.6.6, {CF_EDGE}", True),
        ("cloudflare", "10.0.0.2", f"{CF_EDGE}, 203.0.113.7", False),
        ("cloudflare", "10.0.0.2", None, False),
        ("google_load_balancer", "2600:2d00:1:1::5", None, True),
    ],
)
def test_came_through_tells_whether_the_preset_s_headers_count(
    proxy: str, peer: str | None, x_forwarded_for: str | None, expected: bool
) -> None:
    assert resolver(proxy).came_through(peer, x_forwarded_for) is expected


def test_cloud_run_adding_the_client_again_needs_three_hops() -> None:
    # Reported in 2022 behind Google's load balancer: "<client>,<load balancer>,<client>" (README,
    # "Google Cloud Run"): the preset then gives the load balancer; the custom setting, the client.
    header = {"x-forwarded-for": f"6.6.6.6, {VISITOR}, 34.1.2.3, {VISITOR}"}
    preset = resolver("google_load_balancer", proxy_only=True)
    assert preset.resolve("169.254.1.1", header) == "34.1.2.3"
    custom = resolver(
        "custom", proxy_header="X-Forwarded-For", proxy_hops=3, proxy_only=True, trusted_proxies=[]
    )
    assert custom.resolve("169.254.1.1", header) == VISITOR
