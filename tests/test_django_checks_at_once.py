"""``manage.py check`` reports a misspelt key and a wrong value of ``PIRSCH`` in one run."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from django.core.checks import run_checks  # noqa: E402
from django.test import override_settings  # noqa: E402

from pirsch_middleware.django.checks import check_settings  # noqa: E402


def test_unknown_key_and_wrong_value_are_both_reported() -> None:
    with override_settings(PIRSCH={"exclude_path": ["/admin/"], "batch_size": "ten"}):
        problems = check_settings()
        ids = [p.id for p in run_checks() if p.id.startswith("pirsch_middleware")]
    assert [p.id for p in problems] == ["pirsch_middleware.E002", "pirsch_middleware.E003"]
    assert ids == ["pirsch_middleware.E002", "pirsch_middleware.E003"]
    assert problems[0].hint == "'exclude_path': did you mean 'exclude_paths'?"
    assert problems[1].msg == (
        "PIRSCH: batch_size: expected a whole number from 1 to 10000, got 'ten'"
    )
