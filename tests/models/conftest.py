"""Shared helpers for the model-zoo tests: an independent MAC counter (fvcore), and one cached
``summary`` per (model, input size, options) for the tests that count the same model."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run these tests on one intra-op thread, restored afterwards.

    The suite shares 2 cores with other processes; with 2 OpenMP threads each small op waits
    for a busy core and the zoo tests ran about 10x slower than on one thread.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fvcore_macs(model: nn.Module, size: tuple[int, int, int]) -> int:
    """Multiply-adds of the conv and linear layers for one (C, H, W) input, counted by fvcore.

    fvcore counts one fused multiply-add per output element and kernel weight: for a conv,
    ``batch * prod(weight.shape) * H_out * W_out``. The weight of a grouped conv has shape
    (C_out, C_in / groups, k, k), so group and depthwise convolutions are counted correctly
    (``test_fvcore_counts_grouped_conv`` checks it). Batch norm, pooling and element-wise ops
    are left out, as the papers' tables leave them out.
    """
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore's import and tracing warn about torch.jit
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, torch.zeros(1, *size))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_op = analysis.by_operator()
    return int(sum(v for k, v in by_op.items() if k in ("conv", "linear", "addmm")))


@pytest.fixture
def macs() -> Callable[[nn.Module, tuple[int, int, int]], int]:
    return fvcore_macs


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def params() -> Callable[[nn.Module], int]:
    return n_params


@functools.cache
def _meta_summary(name: str, size: tuple[int, int, int], options: tuple[tuple[str, Any], ...]):
    from cnnlab.analysis import summary
    from cnnlab.models import create_model

    with torch.device("meta"):
        model = create_model(name, **dict(options))
    return summary(model, size)


def meta_summary(name: str, size: tuple[int, int, int], **options: Any):
    """``cnnlab.analysis.summary`` of the registry model ``name`` built on the meta device."""
    return _meta_summary(name, tuple(size), tuple(sorted(options.items())))


@pytest.fixture
def zoo_summary() -> Callable[..., Any]:
    return meta_summary
