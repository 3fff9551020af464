"""Helpers for testing apps that use pirsch_middleware: a local stand-in of the Pirsch API."""

from __future__ import annotations

from .fake_api import FakePirschAPI, Received, Reply

__all__ = ["FakePirschAPI", "Received", "Reply"]
