"""Conv2d and ConvTranspose2d against torch autograd in float64 (rel 1e-7), random configs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch


@st.composite
def conv_config(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))  # strides > kernel included
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    bias = draw(st.booleans())
    span = [d * (k - 1) + 1 - 2 * p for d, k, p in zip(dilation, kernel, padding, strict=True)]
    h = draw(st.integers(max(1, span[0]), max(1, span[0]) + 6))
    w = draw(st.integers(max(1, span[1]), max(1, span[1]) + 6))
    n = draw(st.integers(1, 3))
    return dict(
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
    ), (n, c_in, h, w)


@settings(max_examples=40)
@given(conv_config(), st.integers(0, 2**16))
def test_conv2d_matches_torch(torch_twin, config, seed) -> None:
    kwargs, shape = config
    ours = scratch.Conv2d(**kwargs, rng=seed)
    x = np.random.default_rng(seed).standard_normal(shape)
    torch_twin(ours, torch.nn.Conv2d(**kwargs), x, seed)


@settings(max_examples=25)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))
def test_depthwise_conv2d_matches_torch(torch_twin, channels, multiplier, kernel, seed) -> None:
    kwargs = dict(
        in_channels=channels,
        out_channels=channels * multiplier,
        kernel_size=kernel,
        padding=kernel // 2,
        groups=channels,
    )
    ours = scratch.Conv2d(**kwargs, rng=seed)
    assert ours.weight.shape == (channels * multiplier, 1, kernel, kernel)
    x = np.random.default_rng(seed).standard_normal((2, channels, 5, 6))
    torch_twin(ours, torch.nn.Conv2d(**kwargs), x, seed)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(
    ("kernel", "dilation"),
    [((3, 3), (1, 1)), ((2, 4), (1, 1)), ((3, 2), (2, 3))],
    ids=["k3", "k2x4-even", "k3x2-d2x3"],
)
def test_same_padding_matches_torch(kernel, dilation, torch_twin) -> None:
    kwargs = dict(in_channels=2, out_channels=3, kernel_size=kernel, dilation=dilation)
    ours = scratch.Conv2d(**kwargs, padding="same", rng=0)
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 8))
    y, _ = torch_twin(ours, torch.nn.Conv2d(**kwargs, padding="same"), x)
    assert y.shape[2:] == x.shape[2:]


@st.composite
def conv_transpose_config(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(
        draw(st.integers(0, (d * (k - 1)) // 2)) for d, k in zip(dilation, kernel, strict=True)
    )
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return dict(
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        bias=draw(st.booleans()),
        dilation=dilation,
    ), (n, c_in, h, w)


@settings(max_examples=40)
@given(conv_transpose_config(), st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(torch_twin, config, seed) -> None:
    kwargs, shape = config
    ours = scratch.ConvTranspose2d(**kwargs, rng=seed)
    x = np.random.default_rng(seed).standard_normal(shape)
    torch_twin(ours, torch.nn.ConvTranspose2d(**kwargs), x, seed)
    assert ours.weight.shape == (
        kwargs["in_channels"],
        kwargs["out_channels"] // kwargs["groups"],
        *kwargs["kernel_size"],
    )


def test_conv_transpose_restores_the_shape_not_the_values() -> None:
    conv = scratch.Conv2d(1, 1, 3, stride=2, padding=1, rng=0)
    up = scratch.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8))
    restored = up(conv(x))
    assert restored.shape == x.shape
    assert not np.allclose(restored, x)


@pytest.mark.parametrize(
    ("layer", "kwargs"),
    [(scratch.Conv2d, {}), (scratch.ConvTranspose2d, {})],
    ids=["conv", "conv-transpose"],
)
def test_default_init_uses_torch_bound(layer, kwargs) -> None:
    ours = layer(8, 6, (3, 2), rng=0)
    fan_in = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(ours.weight.shape))[0]
    bound = 1.0 / math.sqrt(fan_in)
    assert np.abs(ours.weight.data).max() <= bound
    assert np.abs(ours.weight.data).max() > 0.9 * bound
    assert np.abs(ours.bias.data).max() <= bound


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: scratch.Conv2d(3, 4, 3, groups=2), "in_channels=3 must be divisible by groups=2"),
        (lambda: scratch.Conv2d(4, 3, 3, groups=2), "out_channels=3 must be divisible"),
        (lambda: scratch.Conv2d(0, 3, 3), "in_channels must be a positive integer"),
        (lambda: scratch.Conv2d(2, 3, 0), "kernel_size must be an integer >= 1"),
        (lambda: scratch.Conv2d(2, 3, 3, stride=0), "stride must be an integer >= 1"),
        (lambda: scratch.Conv2d(2, 3, 3, padding=-1), "padding must be an integer >= 0"),
        (lambda: scratch.Conv2d(2, 3, 3, padding="full"), "'valid' or 'same'"),
        (lambda: scratch.Conv2d(2, 3, 3, stride=2, padding="same"), "needs stride 1"),
        (lambda: scratch.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: scratch.ConvTranspose2d(2, 3, 3, groups=2), "divisible by groups"),
    ],
    ids=[
        "cin-groups",
        "cout-groups",
        "zero-channels",
        "zero-kernel",
        "zero-stride",
        "negative-padding",
        "padding-name",
        "same-strided",
        "output-padding",
        "transpose-groups",
    ],
)
def test_bad_configurations_raise(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("layer", "x", "match"),
    [
        (scratch.Conv2d(3, 4, 3), np.zeros((1, 2, 5, 5)), "expects 3 channels"),
        (scratch.Conv2d(3, 4, 3), np.zeros((3, 5, 5)), "4 dimensions"),
        (scratch.Conv2d(3, 4, 5), np.zeros((1, 3, 4, 9)), "output size"),
        (scratch.Conv2d(3, 4, 3, dilation=3), np.zeros((1, 3, 6, 6)), "output size"),
        (scratch.ConvTranspose2d(3, 4, 3), np.zeros((1, 4, 5, 5)), "expects 3 channels"),
        (scratch.ConvTranspose2d(3, 4, 1, padding=1), np.zeros((1, 3, 2, 2)), "output size"),
    ],
    ids=["channels", "ndim", "too-small", "dilated-too-small", "t-channels", "t-too-small"],
)
def test_bad_inputs_raise(layer, x, match) -> None:
    with pytest.raises(ValueError, match=match):
        layer(x)


def test_backward_before_forward_raises() -> None:
    with pytest.raises(ValueError, match="before forward"):
        scratch.Conv2d(1, 1, 1).backward(np.zeros((1, 1, 1, 1)))
