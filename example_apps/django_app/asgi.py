"""ASGI entry point: ``uvicorn example_apps.django_app.asgi:application``.

pirsch_middleware's ``get_asgi_application`` is Django's plus lifespan, so the server's shutdown
delivers what is queued.
"""

from __future__ import annotations

import os

from pirsch_middleware.django.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_apps.django_app.settings")
application = get_asgi_application()
