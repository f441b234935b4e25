"""MobileNet v2/v3 and EfficientNet: the linear bottleneck, h-swish, layer counts, compound
scaling and stochastic depth, each against an independent construction."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.ops import StochasticDepth

from cnnlab.layers import ConvNormAct, InvertedResidual
from cnnlab.models import create_model
from cnnlab.models.efficientnet import ALPHA, BETA, GAMMA, SCALING


def _meta(name: str, **kwargs: object) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, **kwargs)


def test_mobilenet_v2_bottleneck_is_linear() -> None:
    # Sandler et al. 2018, Sec. 3.2: no non-linearity after the projection. A block's output can
    # be negative; MobileNet v1's separable block (ReLU after the pointwise conv) cannot.
    torch.manual_seed(0)
    v2 = create_model("mobilenet_v2", num_classes=10).eval()
    v1 = create_model("mobilenet_v1", num_classes=10).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        stem = v2.features[0](x)
        block = v2.features[2]  # 16 -> 24, expansion 6, stride 2: no shortcut
        assert isinstance(block, InvertedResidual) and not block.use_res_connect
        out = block(v2.features[1](stem))
        v1_out = v1.features[1](v1.features[0](x))
    assert (out < 0).any() and (v1_out >= 0).all()
    # Structure: expand (ReLU6), depthwise (ReLU6), projection conv + BN and nothing after.
    layers = list(block.conv)
    assert isinstance(layers[-1], nn.BatchNorm2d) and isinstance(layers[-2], nn.Conv2d)
    assert sum(isinstance(m, nn.ReLU6) for m in block.modules()) == 2


@pytest.mark.parametrize(
    ("name", "convs", "fcs"),
    [("mobilenet_v1", 27, 1), ("mobilenet_v2", 52, 1)],
)
def test_layer_counts(name: str, convs: int, fcs: int) -> None:
    # The notes ask how many layers: v1 is 28 layers with weights (Howard et al. 2017, Sec. 3.2:
    # "MobileNet has 28 layers"); v2 has 1 + (2 + 16 x 3) + 1 = 52 convolutions and one FC.
    model = _meta(name)
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == convs
    assert sum(isinstance(m, nn.Linear) for m in model.modules()) == fcs


def test_h_swish_is_the_papers_formula() -> None:
    # Howard et al. 2019, Eq. 2: h-swish(x) = x * ReLU6(x + 3) / 6; the hard sigmoid is
    # ReLU6(x + 3) / 6. Checked on a grid through the breakpoints -3 and 3.
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    relu6 = torch.clamp(x + 3, 0, 6)
    torch.testing.assert_close(nn.Hardswish()(x), x * relu6 / 6, rtol=0, atol=1e-15)
    torch.testing.assert_close(nn.Hardsigmoid()(x), relu6 / 6, rtol=0, atol=1e-15)


# Howard et al. 2019, Table 1 (Large) and Table 2 (Small): (SE, NL) of each bottleneck.
LARGE = [(0, "RE")] * 3 + [(1, "RE")] * 3 + [(0, "HS")] * 4 + [(1, "HS")] * 5
SMALL = [(1, "RE"), (0, "RE"), (0, "RE")] + [(1, "HS")] * 8


@pytest.mark.parametrize(
    ("name", "table"), [("mobilenet_v3_large", LARGE), ("mobilenet_v3_small", SMALL)]
)
def test_mobilenet_v3_uses_h_swish_and_hard_sigmoid_gates_as_the_tables(
    name: str, table: list[tuple[int, str]]
) -> None:
    model = _meta(name)
    blocks = [m for m in model.features if isinstance(m, InvertedResidual)]
    assert len(blocks) == len(table)
    for block, (se, nl) in zip(blocks, table, strict=True):
        assert sum(isinstance(m, nn.Hardsigmoid) for m in block.modules()) == se
        # the activations after the expansion and the depthwise conv (the projection has none)
        acts = [type(layer[-1]) for layer in block.block if isinstance(layer, ConvNormAct)]
        expected = nn.Hardswish if nl == "HS" else nn.ReLU
        assert acts[-1] is nn.BatchNorm2d
        assert acts[:-1] and all(a is expected for a in acts[:-1])
    # stem and last conv use h-swish, and so does the head's hidden FC layer
    assert isinstance(model.features[0][2], nn.Hardswish)
    assert isinstance(model.features[-1][2], nn.Hardswish)
    assert isinstance(model.classifier[1], nn.Hardswish)


def test_compound_scaling_doubles_the_flops_per_step() -> None:
    # Tan & Le 2019, Eq. 3: alpha * beta^2 * gamma^2 ~ 2 with alpha 1.2, beta 1.1, gamma 1.15.
    assert (ALPHA, BETA, GAMMA) == (1.2, 1.1, 1.15)
    assert abs(ALPHA * BETA**2 * GAMMA**2 - 2) < 0.1  # 1.92


@pytest.mark.parametrize("variant", list(SCALING))
def test_scaled_widths_and_depths_equal_torchvisions_configs(variant: str) -> None:
    # Our stages come from B0's table and the (width, depth) multipliers through the rounding
    # rules; torchvision's B1-B7 are built from its own configuration. Same stem, stages, head.
    ours = _meta(f"efficientnet_{variant}")
    with torch.device("meta"):
        theirs = getattr(torchvision.models, f"efficientnet_{variant}")(weights=None)

    def layout(model: nn.Module) -> list[tuple[int, int]]:
        stages = list(model.features)[1:-1]
        shapes = [(len(s), s[0].out_channels) for s in stages]
        return [
            (1, model.features[0][0].out_channels),
            *shapes,
            (1, model.features[-1][0].out_channels),
        ]

    assert layout(ours) == layout(theirs)


def test_stochastic_depth_grows_linearly_with_the_block_index() -> None:
    # Huang et al. 2016 / torchvision: block i of n drops its residual with p = 0.2 * i / n.
    def probs(model: nn.Module) -> list[float]:
        return [m.p for m in model.modules() if isinstance(m, StochasticDepth)]

    ours = _meta("efficientnet_b0")
    with torch.device("meta"):
        theirs = torchvision.models.efficientnet_b0(weights=None)
    n = 16
    assert probs(ours) == probs(theirs) == [0.2 * i / n for i in range(n)]
