"""A pytest plugin for the mutation-testing run only (``[tool.mutmut]`` in pyproject.toml).

mutmut runs, for each mutant, the tests that called the mutated function in one recorded run of
the suite, in a process where the test modules were imported before the mutant was chosen. Two
things would hide mutated code from the tests:

- the core's caches (visitor verdicts, origins, parsed addresses, the formatted second, visitor
  JSON, titles): a test that meets a cached value calls no function, and is not recorded;
- objects built at import (the JSON writers, the extractors test modules keep): built before the
  mutant was chosen, so their constructors' mutants were never run.

So before each test the caches are emptied and those objects built again. The regular test run
never loads this plugin.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import pytest

from pirsch_middleware import _time, extract, ip, title

_made: weakref.WeakKeyDictionary[Any, tuple[Callable[..., None], tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _remembered(cls: Any) -> None:
    init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _made[self] = (init, args, kwargs)

    cls.__init__ = __init__


# Loaded before the test modules, so every extractor and resolver they make is remembered.
_remembered(extract.Extractor)
_remembered(ip.IPResolver)


@pytest.fixture(autouse=True)
def _fresh_core() -> None:
    ip._parse_ip.cache_clear()
    title._clean.cache_clear()
    title.charset_of.cache_clear()
    _time._last = (None, "")
    for obj, (init, args, kwargs) in list(_made.items()):
        init(obj, *args, **kwargs)
