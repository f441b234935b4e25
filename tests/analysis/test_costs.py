"""Parameters and MACs against torchvision's published metadata, fvcore, and hand arithmetic."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import get_model_weights

from cnnlab.analysis import summary

TORCHVISION = [
    "alexnet",
    "vgg16",
    "resnet50",
    "mobilenet_v2",
    "shufflenet_v2_x1_0",
    "googlenet",
    "densenet121",
]
# GoogLeNet's published weights have no auxiliary heads.
OPTIONS = {"googlenet": {"aux_logits": False, "init_weights": False}}


def _meta_model(name: str) -> nn.Module:
    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", TORCHVISION)
def test_macs_and_params_match_torchvision_metadata(name: str) -> None:
    meta = get_model_weights(name).DEFAULT.meta
    model = _meta_model(name)
    report = summary(model, (3, 224, 224))
    # torchvision's "_ops" is GFLOPS in the papers' sense: multiply-accumulates, 3 decimals.
    assert round(report.total_macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)
    assert report.total_params == meta["num_params"] == sum(p.numel() for p in model.parameters())
    assert not report.partial


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("efficientnet_b0", 224),  # squeeze-excitation, SiLU, stochastic depth
        ("mobilenet_v3_large", 224),  # hard-swish, SE through expand
        ("convnext_tiny", 224),  # channels-last permutes, LayerNorm, Linear on 4-D tensors
        ("vit_b_16", 224),  # attention
        ("swin_t", 224),  # shifted windows: rolls, masks, padding
        ("regnet_y_400mf", 224),  # group convs + SE
        ("inception_v3", 299),  # branches, concatenation
        ("squeezenet1_0", 224),
    ],
    ids=lambda v: str(v),
)
def test_macs_match_torchvision_metadata_beyond_the_seven(name: str, size: int) -> None:
    meta = get_model_weights(name).DEFAULT.meta
    try:
        model = _meta_model(name)
    except NotImplementedError:  # RegNet computes its widths with real tensors
        model = torchvision.models.get_model(name, weights=None)
    report = summary(model, (3, size, size))
    assert round(report.total_macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)
    assert not report.partial


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCHVISION)
def test_conv_and_linear_macs_equal_fvcore(name: str) -> None:
    from fvcore.nn import FlopCountAnalysis

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None, **OPTIONS.get(name, {})).eval()
    size = (3, 64, 64)
    analysis = FlopCountAnalysis(model, torch.zeros(1, *size))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    by_op = analysis.by_operator()  # fvcore counts one "flop" per multiply-accumulate
    expected = by_op["conv"] + by_op.get("linear", 0) + by_op.get("addmm", 0)
    report = summary(model, size)
    assert report.total_macs == expected
    assert report.total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("stride", "padding", "groups"),
    [(1, 0, 1), (2, 1, 1), (2, 1, 2), (3, 0, 4)],
    ids=["s1", "s2-p1", "s2-p1-g2", "s3-g4"],
)
def test_transposed_conv_counted_at_input_resolution(
    stride: int, padding: int, groups: int
) -> None:
    from fvcore.nn import FlopCountAnalysis

    model = nn.ConvTranspose2d(8, 12, 4, stride=stride, padding=padding, groups=groups)
    size = (8, 7, 5)
    # Each input pixel is scattered once: C_in * H_in * W_in * (C_out / g) * kh * kw.
    by_hand = 8 * 7 * 5 * (12 // groups) * 4 * 4
    fv = FlopCountAnalysis(model, torch.zeros(1, *size)).by_operator()["conv"]
    report = summary(model, size)
    assert report.total_macs == by_hand == fv


def test_notes_formula_with_bias_counting() -> None:
    # The notes: a conv layer with n filters of h x w x c has n(hwc + 1) parameters and
    # costs H'W'n(hwc + 1) when the bias addition counts as one multiply-accumulate.
    c, n, h, w = 16, 32, 3, 5
    layer = nn.Conv2d(c, n, (h, w), stride=2)
    size = (c, 31, 29)
    out_h, out_w = (31 - h) // 2 + 1, (29 - w) // 2 + 1
    with_bias = summary(layer, size, count_bias=True)
    without = summary(layer, size)
    assert with_bias.total_params == n * (h * w * c + 1)
    assert with_bias.total_macs == out_h * out_w * n * (h * w * c + 1)
    assert without.total_macs == out_h * out_w * n * h * w * c
    assert without.total_flops == 2 * without.total_macs + out_h * out_w * n


def test_depthwise_separable_and_group_conv_params() -> None:
    # The notes (MobileNet): 16 -> 32 channels, 3x3 depthwise + 1x1 pointwise = 656 params.
    separable = nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.Conv2d(16, 32, 1, bias=False)
    )
    assert summary(separable, (16, 8, 8)).total_params == 3 * 3 * 16 + 16 * 32 == 656
    # The notes: 256 -> 256 channels, 3x3: group conv with g = 8 has 1/8 of the parameters.
    dense = summary(nn.Conv2d(256, 256, 3, bias=False), (256, 9, 9))
    grouped = summary(nn.Conv2d(256, 256, 3, groups=8, bias=False), (256, 9, 9))
    assert dense.total_params == 256 * 3 * 3 * 256 == 8 * grouped.total_params
    assert dense.total_macs == 8 * grouped.total_macs


def test_elementwise_flops_follow_the_stated_convention() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)
    )
    report = summary(model, (3, 10, 10))
    conv, bn, relu, pool = report.rows
    assert conv.macs == 4 * 8 * 8 * 3 * 9 and conv.flops == 2 * conv.macs
    assert bn.flops == 2 * 4 * 8 * 8  # eval: folded scale and shift
    assert relu.flops == 4 * 8 * 8
    assert pool.flops == (2 * 2 - 1) * 4 * 4 * 4  # comparisons per output
    # training: statistics too, plus the one addition of num_batches_tracked += 1
    assert summary(model, (3, 10, 10), mode="train")["1"].flops == 4 * 4 * 8 * 8 + 1


def test_matmul_and_attention_count_macs() -> None:
    class Attention(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q = x.flatten(2).transpose(1, 2)  # (1, L, C)
            return torch.nn.functional.scaled_dot_product_attention(q, q, q)

    report = summary(Attention(), (8, 4, 5))
    length, dim = 20, 8
    assert report.total_macs == 2 * length * length * dim  # QK^T and AV
