"""The public API: complete and sorted ``__all__``, documented names, the version at run time."""

from __future__ import annotations

import inspect
import types
from importlib.metadata import version

import pytest

import pirsch_middleware
import pirsch_middleware.testing

PACKAGES = [pirsch_middleware, pirsch_middleware.testing]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_all_lists_every_public_name(package: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert public - {"__version__"} <= set(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)
    assert len(set(package.__all__)) == len(package.__all__)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_public_class_and_function_is_documented(package: types.ModuleType) -> None:
    undocumented = [
        name
        for name in package.__all__
        if (inspect.isclass(obj := getattr(package, name)) or inspect.isfunction(obj))
        and not inspect.getdoc(obj)
    ]
    assert undocumented == []


def test_version_at_run_time_matches_the_installed_distribution() -> None:
    assert pirsch_middleware.__version__ == version("pirsch-middleware")
