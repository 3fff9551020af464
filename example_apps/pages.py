"""The HTML the example apps serve (shared, so each app file shows only its framework's wiring)."""

from __future__ import annotations

from pirsch_middleware import ConfigurationError, Settings
from pirsch_middleware.snippet_tag import snippet_tag

STYLESHEET = "body { font-family: sans-serif; margin: 2rem; }\n"


def _snippet() -> str:
    """The first-party snippet's tag for the ``PIRSCH_SNIPPET`` environment variable (the demo
    sets ``hybrid``); ``""`` when it is off. A real app writes it with the template helpers (the
    README's "The snippet, first-party"); ``data-dev``, since the example runs on 127.0.0.1."""
    try:
        return snippet_tag(Settings(), dev=True)
    except ConfigurationError:
        return ""  # the middleware says what is wrong when it starts


SNIPPET = _snippet()


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{title}</title>\n"
        '<link rel=stylesheet href="/static/site.css">\n'
        f"{SNIPPET}\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n"
        '<p><a href="/">Home</a> · <a href="/pricing">Pricing</a>'
        ' · <a href="https://pirsch.io/">Pirsch</a> (an outbound link: the snippet sends an'
        " event)</p>\n"
        '<form method=post action="/signup"><button>Sign up</button></form>\n'
        "</body>\n</html>\n"
    )


HOME = page("Home &amp; welcome", "<p>A page view is sent to Pirsch for this page.</p>")
PRICING = page("Pricing", "<p>Plans and prices.</p>")
SIGNED_UP = page("Thanks", "<p>The signup view sent a Signup event.</p>")
