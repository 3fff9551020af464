"""What sits in front of the app: which header names the visitor, and who may set it.

Each preset reads exactly the header its platform writes, as the platform documents it, and
trusts exactly the hops it adds. A header the platform (or your own proxy) does not write or
overwrite belongs to the visitor, so a preset never falls through to a second header; and
``X-Forwarded-Host`` / ``X-Forwarded-Proto`` count only where the platform documents writing them
(``sets_host``, ``sets_proto``), or where the user says their proxy does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLOUDFLARE_RANGES", "CLOUDFLARE_RANGES_DATE", "PRESETS", "Preset"]

#: Cloudflare's published edge ranges (https://www.cloudflare.com/ips/). Refresh with
#: ``curl -s https://www.cloudflare.com/ips-v4 https://www.cloudflare.com/ips-v6`` and update
#: the date; the list changes rarely (it was the same in 2021 as on the date below).
CLOUDFLARE_RANGES_DATE = "2024-06-25"
CLOUDFLARE_RANGES: tuple[str, ...] = (
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
)

#: The Google Front End addresses an external Application Load Balancer connects to instance
#: group and zonal NEG backends from: its health-check ranges, IPv4 and IPv6
#: (https://cloud.google.com/load-balancing/docs/firewall-rules: "In most cases, GFE proxies use
#: the same source IP ranges as the health check probes"). Serverless (Cloud Run) and internet NEG
#: backends see other addresses: there, lock the backend to the load balancer and set proxy_only.
GOOGLE_FRONT_END_RANGES: tuple[str, ...] = (
    "35.191.0.0/16",
    "130.211.0.0/22",
    "2600:2d00:1:b029::/64",
    "2600:2d00:1:1::/64",
)


@dataclass(frozen=True)
class Preset:
    """How one deployment hands over the visitor's address.

    ``header``: the one header read (lower case; ``""``: none, the peer is the visitor).
    ``hops``: how many entries the platform appends to that header, the visitor's address being
    the leftmost of them (a list is walked from the right: first past ``trusted_proxies``, then
    past ``hops - 1`` platform entries, then past ``trusted_proxies`` again).
    ``only``: the app cannot be reached except through the platform, so any peer may set the
    header. ``edges``: the platform's own published ranges; the header counts when the peer is in
    them, or when the hop our own trusted proxy recorded in ``X-Forwarded-For`` is.
    ``sets_host``, ``sets_proto``: the platform writes (or overwrites) ``X-Forwarded-Host`` /
    ``X-Forwarded-Proto``, so their nearest entry counts whenever ``header`` does; otherwise
    they are the visitor's, and the ``Host`` header and the connection's scheme stand.
    """

    header: str
    hops: int = 1
    only: bool = False
    edges: tuple[str, ...] = ()
    sets_host: bool = False
    sets_proto: bool = False


PRESETS: dict[str, Preset] = {
    # No proxy: the connection's peer is the visitor.
    "none": Preset(""),
    # nginx (proxy_add_x_forwarded_for), Apache mod_proxy, Caddy, Traefik, HAProxy (option
    # forwardfor): each appends the address it saw to X-Forwarded-For. Whether it also writes
    # X-Forwarded-Host / -Proto is in its configuration, not ours to guess: stock nginx passes on
    # the visitor's (settings proxy_sets_host, proxy_sets_proto).
    "reverse_proxy": Preset("x-forwarded-for"),
    # RFC 7239 section 5.2: a proxy appends an element whose for= names the address it saw.
    "forwarded": Preset("forwarded"),
    # https://developers.cloudflare.com/fundamentals/reference/http-headers/: CF-Connecting-IP
    # and X-Forwarded-Proto (the scheme the visitor used); the Host header is passed on as sent.
    "cloudflare": Preset("cf-connecting-ip", edges=CLOUDFLARE_RANGES, sets_proto=True),
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html
    # (the default "append" mode; the load balancer connects from inside the VPC). It writes
    # X-Forwarded-For, -Proto and -Port; the Host header is passed on.
    "aws_alb": Preset("x-forwarded-for", sets_proto=True),
    # https://cloud.google.com/load-balancing/docs/https#x-forwarded-for_header:
    # "<supplied-value>,<client-ip>,<load-balancer-ip>"; the target proxy adds X-Forwarded-Proto
    # (https://cloud.google.com/load-balancing/docs/https#target-proxies; the scheme the client
    # used, as https://cloud.google.com/functions/docs/reference/headers puts it) and passes
    # Host on.
    "google_load_balancer": Preset(
        "x-forwarded-for", hops=2, edges=GOOGLE_FRONT_END_RANGES, sets_proto=True
    ),
    # https://fly.io/docs/networking/request-headers/: Fly-Client-IP and X-Forwarded-Proto, set
    # by Fly Proxy, through which every request to a public app comes.
    "fly": Preset("fly-client-ip", only=True, sets_proto=True),
    # https://devcenter.heroku.com/articles/http-routing#heroku-headers: the router appends the
    # client's address and (over)writes X-Forwarded-Proto and -Port; dynos are reachable only
    # through it.
    "heroku": Preset("x-forwarded-for", only=True, sets_proto=True),
    # Render documents none of its request headers. Seen in use
    # (https://rohitpaulk.com/articles/render-rails-remote-ip): Cloudflare in front of Render's
    # proxy, X-Forwarded-For "<client>, <Cloudflare edge>", a private peer; reachable only so.
    "render": Preset("x-forwarded-for", hops=2, only=True),
    # https://learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol: Front Door
    # appends the client's socket address to X-Forwarded-For (X-Azure-ClientIP may come from
    # the client) and writes X-Forwarded-Host and X-Forwarded-Proto. Lock the origin to Front
    # Door, then set proxy_only.
    "azure_front_door": Preset("x-forwarded-for", sets_host=True, sets_proto=True),
    # Akamai's True-Client-IP, set at the edge by the Origin Server behavior
    # (https://techdocs.akamai.com/terraform/docs/origin: enableTrueClientIp true,
    # trueClientIpHeader "True-Client-IP", trueClientIpClientSetting false, so a client's own is
    # not passed on; forwardHostHeader "REQUEST_HOST_HEADER", the Host as sent). Lock the origin
    # to Akamai (Site Shield), then set proxy_only.
    "akamai": Preset("true-client-ip"),
}
