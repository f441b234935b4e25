"""The lazily exported functions and classes of cnnlab.train and cnnlab.data stay what they are
once every submodule is imported: a submodule named like an exported function would replace it
on the package (``from cnnlab.train import evaluate`` once gave the module)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest


@pytest.mark.parametrize("package", ["cnnlab.train", "cnnlab.data"])
def test_exports_are_not_shadowed_by_submodules(package: str) -> None:
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__, f"{package}."):
        importlib.import_module(info.name)
    modules = [n for n in pkg.__all__ if isinstance(getattr(pkg, n), types.ModuleType)]
    assert not modules, f"{package}: {modules} resolve to modules"
