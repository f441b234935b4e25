"""Random boxes for the detection tests (a fixture: ``--import-mode=importlib`` forbids imports)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

BoxMaker = Callable[..., torch.Tensor]


def _random_boxes(
    n: int, seed: int, size: float = 200.0, max_side: float = 60.0, min_side: float = 1.0
) -> torch.Tensor:
    """``n`` float64 ``(x1, y1, x2, y2)`` boxes, corners in [0, size + max_side]."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * size
    wh = min_side + torch.rand(n, 2, generator=g, dtype=torch.float64) * (max_side - min_side)
    return torch.cat([xy, xy + wh], dim=1)


@pytest.fixture
def random_boxes() -> BoxMaker:
    return _random_boxes
