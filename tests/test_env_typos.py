"""A ``PIRSCH_*`` variable that nearly spells a setting's is pointed out, not silently ignored."""

from __future__ import annotations

import logging

import pytest

from pirsch_middleware import Settings, Tracker

SECRET = "pa_" + "s" * 45


def test_misspelt_variables_are_warned_with_the_closest_at_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {
        "PIRSCH_EXCLUDE_PATH": "/admin/",
        "PIRSCH_ACCES_KEY": SECRET,
        "PIRSCH_DOMAIN": "example.com",  # another tool's, like no setting's: left alone
        "PIRSCH_BATCH_SIZE": "50",
    }
    with caplog.at_level(logging.WARNING, logger="pirsch_middleware"):
        tracker = Tracker(environ=environ)
    tracker.close(1)

    warnings = [r.getMessage() for r in caplog.records if "environment variable" in r.getMessage()]
    assert warnings == [
        "pirsch_middleware: the environment variable PIRSCH_ACCES_KEY is no setting's, so it is "
        "ignored: did you mean PIRSCH_ACCESS_KEY?",
        "pirsch_middleware: the environment variable PIRSCH_EXCLUDE_PATH is no setting's, so it is "
        "ignored: did you mean PIRSCH_EXCLUDE_PATHS?",
    ]
    assert SECRET not in caplog.text


def test_variables_of_settings_are_not_reported() -> None:
    environ = {"PIRSCH_EXCLUDE_PATHS": "/admin/", "PIRSCH_PROXY": "none", "PIRSCH_SYNC": "false"}
    assert Settings(environ=environ).misspelt_variables() == []
