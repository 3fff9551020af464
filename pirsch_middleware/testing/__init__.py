"""Helpers for testing apps that use pirsch_middleware.

``capture()`` (the ``pirsch_capture`` pytest fixture) records what the app would send, with no
network; ``FakePirschAPI`` (the ``fake_pirsch_api`` fixture) is a local stand-in of the API.
"""

from __future__ import annotations

from .capture import Capture, capture
from .fake_api import FakePirschAPI, Received, Reply

__all__ = ["Capture", "FakePirschAPI", "Received", "Reply", "capture"]
