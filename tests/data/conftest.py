"""Helpers for the data tests: tiny image folders written on the fly, one torch thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run these tests on one intra-op thread, restored afterwards.

    The tensors here are tiny; on 2 cores shared with other processes, a second OpenMP thread
    makes each small reduction wait for a busy core (28 ms instead of microseconds measured).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_images(folder: Path, count: int, seed: int = 0, fmt: str = "png") -> list[Path]:
    """``count`` random 6x5 RGB images in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"{i}.{fmt}"
        Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_tree(tmp_path: Path) -> Callable[[Mapping[str, int]], Path]:
    """Build ``{"train/cat": 5, "val/cat": 2, ...}`` (folder -> image count) under a root."""

    def make(layout: Mapping[str, int]) -> Path:
        root = tmp_path / "images"
        for i, (folder, count) in enumerate(layout.items()):
            write_images(root / folder, count, seed=i)
        return root

    return make


@pytest.fixture
def make_images() -> Callable[..., list[Path]]:
    """:func:`write_images` as a fixture (test modules cannot import the conftest)."""
    return write_images
