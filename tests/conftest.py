"""Shared test settings: hypothesis without deadlines (the first torch calls are slow)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

import pytest
from hypothesis import settings

settings.register_profile("cnnlab", deadline=None, max_examples=40, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cnnlab"))


def _resolve_dotted(dotted: str) -> object:
    """The object a dotted API name (``cnnlab.train.TrainConfig.l1``) names: the longest importable
    module prefix, then attributes. Raises AttributeError or ModuleNotFoundError."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


@pytest.fixture
def resolve_dotted() -> Callable[[str], object]:
    """Resolves the API names the book's pages cite (notes map, glossary)."""
    return _resolve_dotted
