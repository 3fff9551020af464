"""Django under an ASGI server: ``application = get_asgi_application()`` from here.

Django's own ASGI handler refuses the lifespan protocol, and servers such as uvicorn end the
process with the re-raised SIGTERM, where ``atexit`` hooks never run: without lifespan, page views
queued in the last second before a restart would be lost. This handler answers lifespan and
delivers the queue on shutdown; everything else is Django's.
"""

from __future__ import annotations

from django.core.asgi import get_asgi_application as django_asgi_application

from pirsch_middleware.asgi import ASGIApp, answer_lifespan

from . import middleware

__all__ = ["get_asgi_application"]


def get_asgi_application() -> ASGIApp:
    """Django's ASGI application (call it where Django's is called), answering lifespan."""
    middleware._lifespan_answered = True  # before Django loads the middleware
    return answer_lifespan(django_asgi_application(), middleware.close_all)
