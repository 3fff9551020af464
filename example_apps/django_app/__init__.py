"""A Django project with pirsch_middleware: ``python -m example_apps.django_app runserver``."""
