"""Batch, layer, instance and group norm against torch autograd in float64.

Batch norm is run for several training steps (running statistics compared after each), then in
eval mode; momentum=None (cumulative average), affine=False and track_running_stats=False too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch

BN_CASES = {
    "bn2d": (scratch.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6)),
    "bn1d-features": (scratch.BatchNorm1d, torch.nn.BatchNorm1d, (7, 3)),
    "bn1d-sequence": (scratch.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
}
BN_OPTIONS = {
    "default": {},
    "momentum-none": {"momentum": None},
    "momentum-0.3-eps": {"momentum": 0.3, "eps": 1e-3},
    "no-affine": {"affine": False},
    "no-running-stats": {"track_running_stats": False},
}


@pytest.mark.parametrize("options", BN_OPTIONS.values(), ids=BN_OPTIONS.keys())
@pytest.mark.parametrize(("ours_cls", "ref_cls", "shape"), BN_CASES.values(), ids=BN_CASES.keys())
def test_batch_norm_train_steps_then_eval(
    torch_twin, close, ours_cls, ref_cls, shape, options
) -> None:
    rng = np.random.default_rng(0)
    ours = ours_cls(shape[1], **options)
    if ours.weight is not None:  # non-trivial gamma and beta
        ours.weight.data[:] = rng.uniform(0.5, 2.0, shape[1])
        ours.bias.data[:] = rng.standard_normal(shape[1])
    ref = ref_cls(shape[1], **options).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for step in range(4):
        x = rng.normal(step, 1.0 + step, size=shape)
        torch_twin(ours, ref, x, seed=step, load=False)
        for name, value in ref.state_dict().items():
            close(ours.state_dict()[name], value, f"step {step}: {name}")
    ours.eval()
    ref.eval()
    torch_twin(ours, ref, rng.standard_normal(shape), seed=9, load=False)


@settings(max_examples=30)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.floats(0.0, 0.9),
    st.integers(0, 99),
)
def test_batch_norm_2d_random_shapes(torch_twin, n, c, h, w, momentum, seed) -> None:
    if n * h * w == 1:
        return
    x = np.random.default_rng(seed).normal(3.0, 2.0, size=(n, c, h, w))
    ours = scratch.BatchNorm2d(c, momentum=momentum)
    ref = torch.nn.BatchNorm2d(c, momentum=momentum)
    torch_twin(ours, ref, x, seed)
    np.testing.assert_allclose(ours.running_var, ref.running_var.detach().numpy(), rtol=1e-7)


def test_batch_norm_running_var_is_unbiased() -> None:
    x = np.random.default_rng(0).standard_normal((5, 2))
    bn = scratch.BatchNorm1d(2, momentum=1.0)
    bn(x)
    np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0), rtol=1e-12)


@settings(max_examples=30)
@given(st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans(), st.integers(0, 99))
def test_layer_norm_matches_torch(torch_twin, k, extra, affine, bias, seed) -> None:
    shape = (2, 3, 4, 5)[: k + extra]
    normalized = shape[len(shape) - k :]
    x = np.random.default_rng(seed).normal(1.0, 3.0, size=shape)
    ours = scratch.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    if affine:
        ours.weight.data[:] = np.random.default_rng(seed).uniform(0.5, 2, normalized)
    torch_twin(ours, torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias), x, seed)


@settings(max_examples=30)
@given(st.sampled_from([1, 2, 3, 6]), st.booleans(), st.integers(0, 99))
def test_group_norm_matches_torch(torch_twin, groups, affine, seed) -> None:
    x = np.random.default_rng(seed).normal(-1.0, 2.0, size=(2, 6, 3, 4))
    ours = scratch.GroupNorm(groups, 6, affine=affine)
    if affine:
        ours.weight.data[:] = np.random.default_rng(seed).uniform(0.5, 2, 6)
        ours.bias.data[:] = np.random.default_rng(seed + 1).standard_normal(6)
    torch_twin(ours, torch.nn.GroupNorm(groups, 6, affine=affine), x, seed)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"affine": True},
        {"track_running_stats": True},
        {"affine": True, "track_running_stats": True, "momentum": 0.5},
    ],
    ids=["plain", "affine", "running", "affine-running-m0.5"],
)
def test_instance_norm_matches_torch(torch_twin, close, options) -> None:
    rng = np.random.default_rng(0)
    ours, ref = scratch.InstanceNorm2d(3, **options), torch.nn.InstanceNorm2d(3, **options).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for step in range(3):
        torch_twin(ours, ref, rng.normal(step, 2.0, size=(2, 3, 4, 5)), seed=step, load=False)
        for name, value in ref.state_dict().items():
            close(ours.state_dict()[name], value, name)
    ours.eval()
    ref.eval()
    torch_twin(ours, ref, rng.standard_normal((2, 3, 4, 5)), seed=5, load=False)


def test_norms_differ_only_in_their_axes() -> None:
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3))
    np.testing.assert_allclose(
        scratch.GroupNorm(4, 4, affine=False)(x), scratch.InstanceNorm2d(4)(x), rtol=1e-12
    )
    np.testing.assert_allclose(
        scratch.GroupNorm(1, 4, affine=False)(x),
        scratch.LayerNorm((4, 3, 3), elementwise_affine=False)(x),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: scratch.GroupNorm(4, 6), "divisible by num_groups"),
        (lambda: scratch.BatchNorm2d(0), "num_features must be a positive integer"),
        (lambda: scratch.BatchNorm2d(3, momentum=1.5), "momentum"),
        (lambda: scratch.BatchNorm2d(3, eps=0), "eps"),
        (lambda: scratch.LayerNorm(()), "at least one axis"),
    ],
    ids=["gn-groups", "bn-zero", "bn-momentum", "bn-eps", "ln-empty"],
)
def test_bad_configurations_raise(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (scratch.BatchNorm2d(3), (2, 4, 3, 3), "expects 3 channels"),
        (scratch.BatchNorm2d(3), (2, 3, 3), "4 dimensions"),
        (scratch.BatchNorm1d(3), (1, 3), "more than 1 value per channel"),
        (scratch.LayerNorm((3, 4)), (2, 4, 3), r"ending in \(3, 4\)"),
        (scratch.GroupNorm(2, 4), (2, 6, 3, 3), "expects 4 channels"),
        (scratch.InstanceNorm2d(2), (2, 2, 1, 1), "more than 1 pixel"),
    ],
    ids=["bn-channels", "bn-ndim", "bn-single", "ln-shape", "gn-channels", "in-single"],
)
def test_bad_inputs_raise(layer, shape, match) -> None:
    with pytest.raises(ValueError, match=match):
        layer(np.zeros(shape))
