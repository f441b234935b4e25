"""Shared test settings: hypothesis without deadlines (the first torch calls are slow)."""

from __future__ import annotations

import importlib
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

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


def _page_anchors(page: Path) -> set[str]:
    """The ids MkDocs gives the page's headings (the site's slugify: pymdownx, lower case), and
    the explicit ``id="..."`` anchors written in it."""
    slugs = pytest.importorskip("pymdownx.slugs", reason="anchors need pymdownx (docs extra)")
    slugify = slugs.slugify(case="lower")
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    found: Counter[str] = Counter()
    ids = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", text, re.MULTILINE):
        slug = slugify(heading, "-")
        ids.add(slug if not found[slug] else f"{slug}_{found[slug]}")
        found[slug] += 1
    return ids | set(re.findall(r'\bid="([^"]+)"', text))


@pytest.fixture
def page_anchors() -> Callable[[Path], set[str]]:
    """The anchors a book page links may point to (notes map, glossary)."""
    return _page_anchors
