"""``python -m example_apps.django_app <command>``: Django's manage.py for the example project."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_apps.django_app.settings")
execute_from_command_line(sys.argv)
