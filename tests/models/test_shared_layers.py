"""cnnlab.layers against torch's own ops, naive loops and the notes' arithmetic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnlab.layers import (
    ChannelShuffle,
    ConvNormAct,
    DepthwiseSeparableConv,
    SqueezeExcite,
    channel_shuffle,
)


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 8], ids=lambda g: f"g{g}")
def test_channel_shuffle_matches_torch_and_loop(groups: int) -> None:
    torch.manual_seed(0)
    c = 24
    x = torch.randn(2, c, 3, 5)
    out = channel_shuffle(x, groups)
    torch.testing.assert_close(out, nn.ChannelShuffle(groups)(x), rtol=0, atol=0)
    # Naive loop: channel i * n + j of group i moves to position j * g + i.
    n = c // groups
    expected = torch.empty_like(x)
    for i in range(groups):
        for j in range(n):
            expected[:, j * groups + i] = x[:, i * n + j]
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(ChannelShuffle(groups)(x), out, rtol=0, atol=0)


@pytest.mark.parametrize("groups", [2, 3, 8], ids=lambda g: f"g{g}")
def test_channel_shuffle_lets_every_group_see_every_group(groups: int) -> None:
    # Tag each channel with the group it came from; after the shuffle every contiguous group
    # of the next group convolution must contain channels of all groups (the paper's Fig. 1c;
    # this needs at least g channels per group).
    c = 2 * groups * groups
    source_group = torch.arange(c).div(c // groups, rounding_mode="floor").float()
    x = source_group.view(1, c, 1, 1)
    out = channel_shuffle(x, groups).view(groups, c // groups)
    for k in range(groups):
        assert set(out[k].tolist()) == set(range(groups))


def test_channel_shuffle_rejects_bad_groups() -> None:
    with pytest.raises(ValueError, match="divisor of C=6, got 4"):
        channel_shuffle(torch.zeros(1, 6, 2, 2), 4)
    with pytest.raises(ValueError, match="got 0"):
        ChannelShuffle(0)


def test_depthwise_separable_notes_example() -> None:
    # The notes: 16 -> 32 channels with 3x3 kernels costs 3*3*16 + (1*1*16)*32 = 656 weights,
    # against 3*3*16*32 = 4608 for a standard convolution.
    block = DepthwiseSeparableConv(16, 32, norm=False, act=None)
    weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert weights == 656
    assert nn.Conv2d(16, 32, 3, bias=False).weight.numel() == 4608


def test_depthwise_separable_matches_functional_float64() -> None:
    torch.manual_seed(0)
    block = DepthwiseSeparableConv(6, 10, stride=2, norm=False, act="relu").double()
    x = torch.randn(2, 6, 9, 9, dtype=torch.float64)
    dw, pw = block.dw[0], block.pw[0]
    ref = F.relu(F.conv2d(x, dw.weight, dw.bias, stride=2, padding=1, groups=6))
    ref = F.relu(F.conv2d(ref, pw.weight, pw.bias))
    torch.testing.assert_close(block(x), ref, rtol=1e-12, atol=1e-12)
    assert block(x).shape == (2, 10, 5, 5)


def test_squeeze_excite_matches_formula_float64() -> None:
    torch.manual_seed(0)
    c, r = 32, 16
    se = SqueezeExcite(c, reduction=r).double()
    x = torch.randn(3, c, 5, 4, dtype=torch.float64)
    z = x.mean(dim=(2, 3))  # squeeze
    w1, b1 = se.fc1.weight.view(c // r, c), se.fc1.bias
    w2, b2 = se.fc2.weight.view(c, c // r), se.fc2.bias
    s = torch.sigmoid(F.linear(torch.relu(F.linear(z, w1, b1)), w2, b2))  # excitation
    torch.testing.assert_close(se(x), x * s[:, :, None, None], rtol=1e-12, atol=1e-12)
    # The paper's cost: 2 C^2 / r weights, plus C / r + C biases.
    assert sum(p.numel() for p in se.parameters()) == 2 * c * c // r + c // r + c


@pytest.mark.parametrize(
    ("k", "s", "d", "h"),
    [(3, 1, 1, 7), (3, 2, 1, 8), (5, 2, 1, 9), (3, 1, 2, 10), (1, 1, 1, 4)],
    ids=["k3-s1", "k3-s2", "k5-s2", "k3-d2", "k1"],
)
def test_conv_norm_act_default_padding_and_layout(k: int, s: int, d: int, h: int) -> None:
    block = ConvNormAct(3, 4, k, stride=s, dilation=d)
    pad = (k - 1) // 2 * d
    assert block(torch.randn(2, 3, h, h)).shape[-1] == (h + 2 * pad - d * (k - 1) - 1) // s + 1
    assert [type(m) for m in block] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert block[0].bias is None  # a bias before BN is redundant
    plain = ConvNormAct(3, 4, k, norm=False, act=None)
    assert [type(m) for m in plain] == [nn.Conv2d] and plain[0].bias is not None


def test_conv_norm_act_rejects_unknown_activation() -> None:
    with pytest.raises(ValueError, match=r"act must be one of .* got 'gelu'"):
        ConvNormAct(3, 4, act="gelu")


def test_conv_norm_act_and_squeeze_excite_are_torchvisions_blocks() -> None:
    # Reused, not re-written: same classes, so the same state-dict names ("0.weight",
    # "1.running_mean", "fc1.weight", ...) as torchvision's models that are built from them.
    block = ConvNormAct(8, 16, 3, stride=2, act="hardswish")
    assert isinstance(block, torchvision.ops.Conv2dNormActivation)
    theirs = torchvision.ops.Conv2dNormActivation(8, 16, 3, 2, activation_layer=nn.Hardswish)
    assert list(block.state_dict()) == list(theirs.state_dict())
    se = SqueezeExcite(32, hidden_channels=8, gate="hardsigmoid")
    assert isinstance(se, torchvision.ops.SqueezeExcitation)
    ref = torchvision.ops.SqueezeExcitation(32, 8, scale_activation=nn.Hardsigmoid)
    ref.load_state_dict(se.state_dict(), strict=True)
    x = torch.randn(2, 32, 5, 5)
    torch.testing.assert_close(se(x), ref(x), rtol=0, atol=0)
    assert isinstance(se.scale_activation, nn.Hardsigmoid)
