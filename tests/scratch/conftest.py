"""Shared oracles for the NumPy tier: run a scratch layer and its torch twin in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

RTOL = 1e-7


def assert_close(ours: np.ndarray, ref, name: str = "", rtol: float = RTOL) -> None:
    """Relative agreement: ``|a - b| <= rtol * |b| + 1e-3 * rtol * max|b|`` elementwise.

    The small absolute term (relative to the tensor's largest entry) absorbs float64 rounding
    of entries that cancel to ~0, e.g. batch-norm input gradients.
    """
    if isinstance(ref, torch.Tensor):
        ref = ref.detach().numpy()
    ref = np.asarray(ref)
    ours = np.asarray(ours)
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != torch {ref.shape}"
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    np.testing.assert_allclose(
        ours, ref, rtol=rtol, atol=1e-3 * rtol * scale + 1e-300, err_msg=name
    )


def compare_with_torch(
    ours, theirs: torch.nn.Module, x: np.ndarray, seed: int = 0, load: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Copy our state into ``theirs``, run forward and backward on both, compare everything.

    Compares the output, the input gradient and every parameter gradient (by torch's names).
    Returns ``(y, dx)`` of the scratch layer.
    """
    theirs = theirs.double()
    if load:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    theirs.zero_grad()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = theirs(xt)
    y = ours(x)
    assert_close(y, yt, "forward")
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    yt.backward(torch.from_numpy(dout))
    ours.zero_grad()
    dx = ours.backward(dout)
    assert_close(dx, xt.grad, "input gradient")
    ref_params = dict(theirs.named_parameters())
    our_params = dict(ours.named_parameters())
    assert sorted(our_params) == sorted(ref_params)
    for name, p in our_params.items():
        assert_close(p.grad, ref_params[name].grad, f"gradient of {name}")
    return y, dx


@pytest.fixture(scope="session")
def close() -> Callable[..., None]:
    return assert_close


@pytest.fixture(scope="session")
def torch_twin() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return compare_with_torch


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """The tests' matrices are tiny: one BLAS thread avoids contention on the shared cores."""
    with threadpool_limits(1, user_api="blas"):
        yield
