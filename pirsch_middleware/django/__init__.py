"""Django integration: ``MIDDLEWARE += ["pirsch_middleware.django.PirschMiddleware"]``.

Options go in ``settings.PIRSCH`` (a dict of :class:`~pirsch_middleware.Settings` option names).
Adding ``"pirsch_middleware.django"`` to ``INSTALLED_APPS`` turns on the system checks.
"""

from __future__ import annotations

from .middleware import PirschMiddleware

__all__ = ["PirschMiddleware"]
