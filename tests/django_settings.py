"""Settings of the Django project the Django tests drive (DJANGO_SETTINGS_MODULE)."""

from __future__ import annotations

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "example.com"]
ROOT_URLCONF = "tests.django_urls"
INSTALLED_APPS = ["pirsch_middleware.django"]
MIDDLEWARE = [
    "tests.django_urls.LazyUserMiddleware",
    "pirsch_middleware.django.PirschMiddleware",
]
DATABASES: dict[str, object] = {}
USE_TZ = True
# Tests point "base_url" and "access_key" at their fake API with override_settings.
PIRSCH: dict[str, object] = {"access_key": None, "enabled": False}
