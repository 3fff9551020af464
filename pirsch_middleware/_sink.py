"""Where records go instead of the sender while a test captures them (see ``testing.capture``).

Kept apart from the testing package so that the runtime imports no test tooling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .records import Record

__all__ = ["active_sink", "pop_sink", "push_sink", "skip_listeners"]

Sink = Callable[[Record], None]
_active: list[Sink] = []
#: Told ``(reason, what)`` of every skip while a capture is active, so a failed assertion can say
#: why a request sent nothing. Empty (one truth test per skip) otherwise.
skip_listeners: list[Callable[[str, str], None]] = []
_lock = threading.Lock()


def active_sink() -> Sink | None:
    """The innermost sink, if a capture is active."""
    return _active[-1] if _active else None


def push_sink(sink: Sink) -> None:
    with _lock:
        _active.append(sink)


def pop_sink(sink: Sink) -> None:
    with _lock:
        _active.remove(sink)
