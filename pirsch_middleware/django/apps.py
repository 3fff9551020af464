"""The Django app config: registers the system checks when the app is installed."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import Tags, register


class PirschConfig(AppConfig):  # type: ignore[misc]
    name = "pirsch_middleware.django"
    label = "pirsch_middleware"
    verbose_name = "Pirsch analytics"

    def ready(self) -> None:
        from .checks import check_settings

        register(check_settings, Tags.compatibility)
