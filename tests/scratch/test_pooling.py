"""Max, mean and adaptive pooling against torch autograd in float64, ties and padding included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch


@st.composite
def pool_config(draw, dilation: bool):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    span = [d * (k - 1) + 1 - 2 * p for d, k, p in zip(dil, kernel, padding, strict=True)]
    h = draw(st.integers(max(1, span[0]), max(1, span[0]) + 6))
    w = draw(st.integers(max(1, span[1]), max(1, span[1]) + 6))
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding)
    if dilation:
        kwargs["dilation"] = dil
    return kwargs, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)


@settings(max_examples=40)
@given(pool_config(dilation=True), st.integers(0, 2**16), st.booleans())
def test_max_pool_matches_torch_with_indices(torch_twin, config, seed, ties) -> None:
    kwargs, shape = config
    x = np.random.default_rng(seed).standard_normal(shape)
    if ties:
        x = np.round(x)  # values in {-3, ..., 3}: many ties; torch keeps the first maximum
    ours = scratch.MaxPool2d(**kwargs)
    torch_twin(ours, torch.nn.MaxPool2d(**kwargs), x, seed)
    _, indices = TF.max_pool2d(torch.from_numpy(x), **kwargs, return_indices=True)
    np.testing.assert_array_equal(ours.indices, indices.numpy())


@settings(max_examples=40)
@given(pool_config(dilation=False), st.integers(0, 2**16), st.booleans())
def test_avg_pool_matches_torch(torch_twin, config, seed, include_pad) -> None:
    kwargs, shape = config
    x = np.random.default_rng(seed).standard_normal(shape)
    ours = scratch.AvgPool2d(**kwargs, count_include_pad=include_pad)
    torch_twin(ours, torch.nn.AvgPool2d(**kwargs, count_include_pad=include_pad), x, seed)


@settings(max_examples=30)
@given(
    st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5), st.integers(0, 99)
)
def test_adaptive_avg_pool_matches_torch(torch_twin, h, w, oh, ow, seed) -> None:
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    torch_twin(scratch.AdaptiveAvgPool2d((oh, ow)), torch.nn.AdaptiveAvgPool2d((oh, ow)), x, seed)


def test_global_average_pooling_is_the_spatial_mean() -> None:
    x = np.random.default_rng(0).standard_normal((2, 4, 7, 5))
    np.testing.assert_allclose(
        scratch.AdaptiveAvgPool2d(1)(x)[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-13
    )


def test_mean_pooling_preserves_the_gradient_sum() -> None:
    # the notes: each output gradient is split into n equal parts (non-overlapping windows)
    pool = scratch.AvgPool2d(2)
    pool(np.random.default_rng(0).standard_normal((1, 1, 4, 4)))
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = pool.backward(dout)
    assert dx.sum() == pytest.approx(dout.sum())
    np.testing.assert_allclose(dx[0, 0, :2, :2], 0.25)
    np.testing.assert_allclose(dx[0, 0, 2:, 2:], 1.0)


# (pooling, torch twin, sum of dx for dy = ones on a 4x4 input): the numbers in
# docs/scratch_pooling.md. Counting zero padding in the divisor loses the padded positions' share:
# corners are seen by 4 windows, edge pixels by 6, inner pixels by 9, so sum dx = 100 / 9.
GRADIENT_SUMS = {
    "avg-k3-s1-p1-count-pad": (
        lambda: scratch.AvgPool2d(3, 1, 1),
        lambda: torch.nn.AvgPool2d(3, 1, 1),
        100 / 9,
    ),
    "avg-k3-s1-p1-no-count-pad": (
        lambda: scratch.AvgPool2d(3, 1, 1, count_include_pad=False),
        lambda: torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False),
        16.0,
    ),
    "avg-k3-s1-overlap-no-pad": (
        lambda: scratch.AvgPool2d(3, 1),
        lambda: torch.nn.AvgPool2d(3, 1),
        4.0,  # 2x2 outputs: overlap alone keeps the sum
    ),
    "max-k3-s1-p1": (
        lambda: scratch.MaxPool2d(3, 1, 1),
        lambda: torch.nn.MaxPool2d(3, 1, 1),
        16.0,
    ),
}


@pytest.mark.parametrize("name", GRADIENT_SUMS)
def test_gradient_sum_through_pooling_with_torch(name: str) -> None:
    make_ours, make_theirs, expected_sum = GRADIENT_SUMS[name]
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    xt = torch.tensor(x, requires_grad=True)
    yt = make_theirs()(xt)
    yt.backward(torch.ones_like(yt))
    assert xt.grad.sum().item() == pytest.approx(expected_sum, rel=1e-12)
    ours = make_ours()
    y = ours(x)
    dx = ours.backward(np.ones_like(y))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)
    assert f"{dx.sum():.2f}" == f"{expected_sum:.2f}"  # 11.11 for the count_include_pad case


def test_max_pooling_routes_the_gradient_to_the_argmax_only() -> None:
    x = np.array(
        [[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 7.0], [0.0, 0.0, 1.0, 2.0], [9.0, 0.0, 3.0, 1.0]]]]
    )
    pool = scratch.MaxPool2d(2)
    y = pool(x)
    np.testing.assert_array_equal(y[0, 0], [[5.0, 7.0], [9.0, 3.0]])
    np.testing.assert_array_equal(pool.indices[0, 0], [[1, 6], [12, 14]])  # first 7 wins
    dx = pool.backward(np.ones_like(y))
    assert np.count_nonzero(dx) == 4
    assert dx.sum() == 4.0
    assert dx[0, 0, 1, 2] == 1.0 and dx[0, 0, 1, 3] == 0.0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: scratch.MaxPool2d(3, padding=2), "at most half the kernel"),
        (lambda: scratch.AvgPool2d((2, 4), padding=(1, 3)), "at most half the kernel"),
        (lambda: scratch.MaxPool2d(0), "kernel_size must be an integer >= 1"),
        (lambda: scratch.AvgPool2d(2, stride=0), "stride must be an integer >= 1"),
        (lambda: scratch.AdaptiveAvgPool2d(0), "output_size must be an integer >= 1"),
    ],
    ids=["max-pad", "avg-pad", "zero-kernel", "zero-stride", "adaptive-zero"],
)
def test_bad_configurations_raise(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(scratch.MaxPool2d(3), (1, 1, 2, 5)), (scratch.AvgPool2d(3), (1, 1, 5, 2))],
    ids=["max", "avg"],
)
def test_output_size_zero_raises(layer, shape) -> None:
    with pytest.raises(ValueError, match="output size"):
        layer(np.zeros(shape))
