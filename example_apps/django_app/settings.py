"""Settings of the example Django project: the smallest that serves pages."""

from __future__ import annotations

import os

DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
SECRET_KEY = "example-only-not-secret"  # noqa: S105 - an example project, never deployed
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "example_apps.django_app.urls"
INSTALLED_APPS = ["pirsch_middleware.django"]  # turns on the system checks
MIDDLEWARE = [
    "pirsch_middleware.django.PirschMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES: dict[str, object] = {}
USE_TZ = True
WSGI_APPLICATION = "example_apps.django_app.wsgi.application"

# Credentials and the API address come from PIRSCH_ACCESS_KEY and PIRSCH_BASE_URL; any option of
# pirsch_middleware.Settings may go here.
PIRSCH = {"exclude_paths": ["/static/", "/health"]}
