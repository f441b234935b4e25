"""Random boxes for the detection tests (a fixture: ``--import-mode=importlib`` forbids imports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread (restored afterwards): the suite shares 2 cores with other work, and
    the detectors' many small ops wait for a busy core with two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def random_boxes() -> BoxMaker:
    return _random_boxes


@pytest.fixture
def macs() -> Callable[[torch.nn.Module, tuple[int, int, int]], int]:
    """Conv and linear multiply-adds of a module for one (C, H, W) input, counted by fvcore."""

    def count(model: torch.nn.Module, size: tuple[int, int, int]) -> int:
        import warnings

        model.eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fvcore's import and tracing warn about torch.jit
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(model, torch.zeros(1, *size))
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            by_op = analysis.by_operator()
        return int(sum(v for k, v in by_op.items() if k in ("conv", "linear", "addmm")))

    return count
