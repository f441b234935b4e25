"""scratch.weight_norm against torch.nn.utils.parametrizations.weight_norm (float64 autograd),
finite differences, and the paper's two properties (scale invariance, dv orthogonal to v)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.nn.utils.parametrizations import weight_norm as torch_weight_norm

from cnnlab import scratch
from cnnlab.scratch.functional.weightnorm import (
    norm_axes,
    weight_norm_backward,
    weight_norm_forward,
)
from cnnlab.scratch.optim import SGD
from cnnlab.scratch.weightnorm import WeightNorm

G, V = "parametrizations.weight.original0", "parametrizations.weight.original1"


@pytest.mark.parametrize("dim", [0, 1, None, -1, -2], ids=["d0", "d1", "dNone", "dm1", "dm2"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_linear_matches_torch(torch_twin, dim, bias) -> None:
    ours = scratch.weight_norm(scratch.Linear(5, 3, bias=bias, rng=1), dim=dim)
    theirs = torch_weight_norm(torch.nn.Linear(5, 3, bias=bias).double(), dim=dim)
    assert ours.state_dict()[G].shape == tuple(theirs.parametrizations.weight.original0.shape)
    x = np.random.default_rng(2).standard_normal((4, 2, 5))
    torch_twin(ours, theirs, x)  # forward, dx, and the gradients of bias, g and v by name


@settings(max_examples=20, deadline=None)
@given(
    cin=st.integers(1, 3),
    cout=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    dim=st.sampled_from([0, 1, 2, 3, -2, -3, None]),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_torch(torch_twin, cin, cout, groups, kernel, stride, dim, seed) -> None:
    cin, cout = cin * groups, cout * groups
    shape = (cout, cin // groups, kernel, kernel)
    # one-element slices leave only a sign (dv = 0 up to rounding): tested on their own below
    assume(np.prod([shape[a] for a in norm_axes(4, dim)]) > 1)
    args = (cin, cout, kernel, stride, 1, 1, groups)
    ours = scratch.weight_norm(scratch.Conv2d(*args, rng=seed), dim=dim)
    theirs = torch_weight_norm(torch.nn.Conv2d(*args).double(), dim=dim)
    x = np.random.default_rng(seed).standard_normal((2, cin, 5, 4))
    torch_twin(ours, theirs, x, seed=seed)


@pytest.mark.parametrize("dim", [0, 1], ids=["d0", "d1"])
def test_conv_transpose2d_matches_torch(torch_twin, dim) -> None:
    ours = scratch.weight_norm(scratch.ConvTranspose2d(4, 6, 3, stride=2, groups=2, rng=3), dim=dim)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2).double()
    theirs = torch_weight_norm(theirs, dim=dim)
    torch_twin(ours, theirs, np.random.default_rng(4).standard_normal((2, 4, 3, 3)))


def test_starts_from_the_layer_weight_as_torch_does(close) -> None:
    # g = ||w|| and v = w: the layer computes what it computed before, with torch's g and v
    conv = scratch.Conv2d(3, 4, 3, rng=5)
    before = conv.weight.data.copy()
    torch_conv = torch.nn.Conv2d(3, 4, 3).double()
    torch_conv.load_state_dict({k: torch.from_numpy(v) for k, v in conv.state_dict().items()})
    scratch.weight_norm(conv)
    torch_weight_norm(torch_conv)
    close(conv.weight.data, before, "w")
    close(conv.state_dict()[G], torch_conv.parametrizations.weight.original0, "g")
    close(conv.state_dict()[V], torch_conv.parametrizations.weight.original1, "v")


def test_loads_a_torch_state_dict_without_renaming(close) -> None:
    torch.manual_seed(6)
    theirs = torch.nn.Sequential(
        torch_weight_norm(torch.nn.Conv2d(2, 3, 3)), torch.nn.ReLU(), torch.nn.Flatten()
    ).double()
    with torch.no_grad():  # g no longer equal to ||v||: the loaded g must be used
        theirs[0].parametrizations.weight.original0.mul_(torch.rand(3, 1, 1, 1) + 0.5)
    ours = scratch.Sequential(
        scratch.weight_norm(scratch.Conv2d(2, 3, 3, rng=0)), scratch.ReLU(), scratch.Flatten()
    )
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 5))
    close(ours(x), theirs(torch.from_numpy(x)), "forward")


@pytest.mark.parametrize("dim", [0, 1, None], ids=["d0", "d1", "dNone"])
def test_gradcheck(dim) -> None:
    rng = np.random.default_rng(8)
    linear = scratch.weight_norm(scratch.Linear(4, 3, rng=9), dim=dim)
    conv = scratch.weight_norm(scratch.Conv2d(2, 3, 3, padding=1, rng=10), dim=dim)
    for layer, x in (
        (linear, rng.standard_normal((5, 4))),
        (conv, rng.standard_normal((2, 2, 4, 4))),
    ):
        report = scratch.gradcheck(layer, x)
        assert report.ok, report.describe()
        assert {G, V} <= set(report.max_abs_error)


@pytest.mark.parametrize("dim", [0, 1, None], ids=["d0", "d1", "dNone"])
def test_direction_is_scale_invariant_and_its_gradient_orthogonal(close, dim) -> None:
    rng = np.random.default_rng(11)
    v = rng.standard_normal((4, 3, 2, 2))
    g = rng.uniform(0.5, 2, WeightNorm(v, dim).original0.shape)
    w, cache = weight_norm_forward(g, v, dim)
    # the norm of every slice of w is g, whatever the length of v
    close(np.sqrt((w * w).sum(axis=cache.axes, keepdims=g.ndim > 0)), g, "||w||")
    close(weight_norm_forward(g, 7.5 * v, dim)[0], w, "w(7.5 v)")
    _, dv = weight_norm_backward(rng.standard_normal(v.shape), cache)
    assert np.allclose((dv * v).sum(axis=cache.axes), 0, atol=1e-12)


def test_one_element_slices_keep_only_the_sign(close) -> None:
    # Linear(1, 3), dim=0: each row is one number, w = g * sign(v); v's gradient is zero
    ours = scratch.weight_norm(scratch.Linear(1, 3, rng=14))
    theirs = torch_weight_norm(torch.nn.Linear(1, 3).double())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    g, v = ours.state_dict()[G], ours.state_dict()[V]
    close(ours.weight.data, g * np.sign(v), "w")
    x = np.random.default_rng(15).standard_normal((4, 1))
    dout = np.random.default_rng(16).standard_normal((4, 3))
    ours(x)
    ours.backward(dout)
    theirs(torch.from_numpy(x)).backward(torch.from_numpy(dout))
    grads = dict(ours.named_parameters())
    close(grads[G].grad, theirs.parametrizations.weight.original0.grad, "dg")
    assert np.abs(grads[V].grad).max() < 1e-14
    assert theirs.parametrizations.weight.original1.grad.abs().max() < 1e-14


def test_sgd_trains_g_and_v_as_torch(close) -> None:
    ours = scratch.weight_norm(scratch.Linear(3, 2, rng=12))
    theirs = torch_weight_norm(torch.nn.Linear(3, 2).double())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(13).standard_normal((6, 3))
    opt = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        ours.zero_grad()
        y = ours(x)
        ours.backward(2 * y)  # d(sum y^2)
        opt.step()
        opt_t.zero_grad()
        (theirs(torch.from_numpy(x)) ** 2).sum().backward()
        opt_t.step()
    for name, value in theirs.state_dict().items():
        close(ours.state_dict()[name], value, name)


def test_dtype_is_kept() -> None:
    layer = scratch.weight_norm(scratch.Linear(3, 2, rng=0, dtype=np.float32))
    assert layer.weight.data.dtype == np.float32
    assert layer(np.ones((1, 3), dtype=np.float32)).dtype == np.float32


def test_bad_uses_raise() -> None:
    with pytest.raises(ValueError, match=r"no parameter 'kernel'.*\['weight', 'bias'\]"):
        scratch.weight_norm(scratch.Linear(3, 2, rng=0), name="kernel")
    layer = scratch.weight_norm(scratch.Linear(3, 2, rng=0))
    with pytest.raises(ValueError, match="already weight-normalised"):
        scratch.weight_norm(layer)
    for dim in (2, -3, 1.0):
        with pytest.raises(ValueError, match=r"dim must be None or an integer in \[-2, 1\]"):
            scratch.weight_norm(scratch.Linear(3, 2, rng=0), dim=dim)
    zero_row = scratch.Linear(3, 2, rng=0)
    zero_row.weight.data[1] = 0
    with pytest.raises(ValueError, match="all-zero slice along dim=0"):
        scratch.weight_norm(zero_row)
    with pytest.raises(ValueError, match="read-only"):  # a write would be lost: refused
        layer.weight.data[0, 0] = 1.0
    with pytest.raises(ValueError, match="scratch layer"):
        scratch.weight_norm(torch.nn.Linear(3, 2))
    y = layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"Linear\.backward expects a gradient of shape \(4, 2\)"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"WeightNorm\.backward expects .* \(2, 3\)"):
        layer.parametrizations.weight.backward(np.ones((3, 2)))
    layer.backward(np.ones_like(y))  # still works after the refusals
