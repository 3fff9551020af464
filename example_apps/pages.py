"""The HTML the example apps serve (shared, so each app file shows only its framework's wiring)."""

from __future__ import annotations

STYLESHEET = "body { font-family: sans-serif; margin: 2rem; }\n"


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{title}</title>\n"
        '<link rel=stylesheet href="/static/site.css">\n'
        f"</head>\n<body>\n<h1>{title}</h1>\n{body}\n"
        '<p><a href="/">Home</a> · <a href="/pricing">Pricing</a></p>\n'
        '<form method=post action="/signup"><button>Sign up</button></form>\n'
        "</body>\n</html>\n"
    )


HOME = page("Home &amp; welcome", "<p>A page view is sent to Pirsch for this page.</p>")
PRICING = page("Pricing", "<p>Plans and prices.</p>")
SIGNED_UP = page("Thanks", "<p>The signup view sent a Signup event.</p>")
