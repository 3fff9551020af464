"""pytest plugin, loaded through the ``pytest11`` entry point when the package is installed.

Fixtures:

- ``pirsch_capture``: captures what the app's trackers would send during the test (no thread,
  no network) and offers ``assert_hit``, ``assert_event``, ``assert_no_hits``, ...;
- ``fake_pirsch_api``: the local stand-in of the Pirsch API on 127.0.0.1, for tests that want
  the real sender and client at work.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .capture import Capture, capture
from .fake_api import FakePirschAPI


@pytest.fixture
def pirsch_capture() -> Iterator[Capture]:
    """What the app would send to Pirsch during this test, captured in memory."""
    with capture() as sink:
        yield sink


@pytest.fixture
def fake_pirsch_api() -> Iterator[FakePirschAPI]:
    """A fake Pirsch API on 127.0.0.1 accepting any token; its ``base_url`` is where to send."""
    with FakePirschAPI() as api:
        yield api
