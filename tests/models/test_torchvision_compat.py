"""Parameter names, shapes and outputs identical to torchvision's (weights=None, no download);
MACs and parameters equal to torchvision's weight metadata (read, not downloaded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import segmentation

from cnnlab.models import create_model


@dataclass(frozen=True)
class Twin:
    """Our registry name's torchvision builder and the options that make the two equal."""

    builder: Any
    ours: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)
    # options under which the published weights (and their metadata) were made
    weights_ours: dict[str, Any] = field(default_factory=dict)


TV = torchvision.models
AUX = {"aux_logits": True}
FIRST_WAVE = [
    "alexnet",
    *[f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")],
    *[f"resnet{d}" for d in (18, 34, 50, 101, 152)],
    *[f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
]
SECOND_WAVE_PLAIN = [
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    *[f"densenet{d}" for d in (121, 161, 169, 201)],
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    *[f"efficientnet_b{i}" for i in range(8)],
]
DEEPLABS = ["deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large"]
TWINS: dict[str, Twin] = {name: Twin(getattr(TV, name)) for name in FIRST_WAVE + SECOND_WAVE_PLAIN}
TWINS["googlenet"] = Twin(TV.googlenet, AUX, {**AUX, "init_weights": False})
TWINS["inception_v3"] = Twin(TV.inception_v3, AUX, {**AUX, "init_weights": False}, AUX)
for _name in DEEPLABS:
    _aux = {"aux_loss": True}
    TWINS[_name] = Twin(
        getattr(segmentation, _name), _aux, {**_aux, "weights_backbone": None}, _aux
    )
SECOND_WAVE = [name for name in TWINS if name not in FIRST_WAVE]


def _pair(name: str, num_classes: int = 10) -> tuple[nn.Module, nn.Module]:
    """Ours and torchvision's, both on the meta device (no memory, no initialisation)."""
    twin = TWINS[name]
    with torch.device("meta"):
        ours = create_model(name, num_classes=num_classes, **twin.ours)
        theirs = twin.builder(weights=None, num_classes=num_classes, **twin.theirs)
    return ours, theirs


def _norms(model: nn.Module) -> list[tuple[str, float, float | None]]:
    return [
        (type(m).__name__, m.eps, m.momentum)
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]


@pytest.mark.parametrize("name", list(TWINS))
def test_state_dict_names_and_shapes_match_torchvision(name: str) -> None:
    ours, theirs = _pair(name)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert {k: v.shape for k, v in ours_sd.items()} == {k: v.shape for k, v in theirs_sd.items()}
    ours.load_state_dict(theirs_sd, strict=True)
    # Same batch-norm settings too (MobileNet v3 and EfficientNet B5-B7: eps 1e-3, momentum 0.01).
    assert _norms(ours) == _norms(theirs)


def _load_theirs(name: str, **extra: Any) -> tuple[nn.Module, nn.Module]:
    """torchvision's model with its random initialisation, and ours carrying its tensors."""
    twin = TWINS[name]
    torch.manual_seed(0)
    theirs = twin.builder(weights=None, num_classes=10, **twin.theirs, **extra)
    # Skip our own random initialisation (VGG's 100M-weight fc6 is slow to fill): build on the
    # meta device and take torchvision's tensors (strict; names/shapes are tested above).
    with torch.device("meta"):
        ours = create_model(name, num_classes=10, **twin.ours, **extra)
    ours.load_state_dict(theirs.state_dict(), assign=True, strict=True)
    return ours, theirs


# One of each structure: plain features, BN features, basic block, bottleneck, shuffle unit,
# grouped bottleneck, inception modules (v1, v3), dense blocks, inverted residuals (v2, v3 with
# SE and h-swish, MBConv with SiLU), DeepLab's ASPP with the auxiliary head.
@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("alexnet", 64),
        ("vgg11_bn", 64),
        ("resnet18", 64),
        ("resnet50", 64),
        ("shufflenet_v2_x0_5", 64),
        ("resnext50_32x4d", 64),
        ("googlenet", 64),
        ("inception_v3", 80),
        ("densenet121", 64),
        ("mobilenet_v2", 64),
        ("mobilenet_v3_small", 64),
        ("efficientnet_b0", 64),
        ("deeplabv3_mobilenet_v3_large", 64),
    ],
)
def test_torchvision_weights_give_identical_outputs(name: str, side: int) -> None:
    ours, theirs = _load_theirs(name)
    ours.eval()
    theirs.eval()
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        got, want = ours(x), theirs(x)
    if isinstance(want, dict):  # segmentation: {"out", "aux"}, as torchvision
        assert list(got) == list(want)
        for key in want:
            assert torch.equal(got[key], want[key]), key
    else:
        assert torch.equal(got, want)


def test_googlenet_training_outputs_with_aux_heads_match_torchvision() -> None:
    # Training mode with auxiliary heads: the same named tuple (logits, aux2, aux1), and with the
    # same seed the same dropout masks, so identical values.
    ours, theirs = _load_theirs("googlenet")
    ours.train()
    theirs.train()
    x = torch.randn(2, 3, 64, 64)
    torch.manual_seed(1)
    got = ours(x)
    torch.manual_seed(1)
    want = theirs(x)
    assert type(got).__name__ == type(want).__name__ == "GoogLeNetOutputs"
    assert got._fields == want._fields
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)


def _weights(name: str) -> Any:
    return torchvision.models.get_model_weights(name).DEFAULT


@pytest.mark.parametrize("name", SECOND_WAVE)
def test_macs_and_parameters_match_torchvision_metadata(
    name: str, zoo_summary: Callable[..., Any]
) -> None:
    # torchvision's metadata (read, not downloaded): "_ops" are GMACs of conv and linear layers
    # at the weights' input size (crop size; resize size for segmentation), "num_params" the
    # parameters of the published model (DeepLab and Inception v3 with their auxiliary heads).
    weights = _weights(name)
    size = (
        weights.transforms.keywords.get("crop_size") or weights.transforms.keywords["resize_size"]
    )
    side = size[0] if isinstance(size, (list, tuple)) else size
    report = zoo_summary(name, (3, side, side), **TWINS[name].weights_ours)
    assert not report.partial, report.uncounted
    assert report.total_params == weights.meta["num_params"]
    assert abs(report.total_macs / 1e9 - weights.meta["_ops"]) <= 0.0005


def test_paper_layout_loads_torchvision_weights_but_strides_the_1x1() -> None:
    torch.manual_seed(0)
    theirs = TV.resnet50(weights=None).eval()
    paper = create_model("resnet50", stride_in_1x1=True).eval()
    paper.load_state_dict(theirs.state_dict())  # same names and shapes
    first = paper.layer2[0]
    assert first.conv1.stride == (2, 2) and first.conv2.stride == (1, 1)
    assert theirs.layer2[0].conv1.stride == (1, 1) and theirs.layer2[0].conv2.stride == (2, 2)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(paper(x), theirs(x))  # a different network, same weights


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("mobilenet_v2", {"width_mult": 0.75}),
        ("mobilenet_v2", {"width_mult": 1.4}),
        ("mobilenet_v3_large", {"reduced_tail": True, "dilated": True}),
        ("mobilenet_v3_small", {"width_mult": 0.75, "reduced_tail": True}),
        ("googlenet", {"aux_logits": False}),
        ("inception_v3", {"aux_logits": False}),
    ],
    ids=["v2-0.75", "v2-1.4", "v3l-tail-dilated", "v3s-0.75-tail", "googlenet-no-aux", "v3-no-aux"],
)
def test_options_map_onto_torchvisions(name: str, options: dict[str, Any]) -> None:
    twin = TWINS[name]
    theirs_opts = {**twin.theirs, **options}
    with torch.device("meta"):
        ours = create_model(name, num_classes=10, **options)
        theirs = twin.builder(weights=None, num_classes=10, **theirs_opts)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert {k: v.shape for k, v in ours_sd.items()} == {k: v.shape for k, v in theirs_sd.items()}
    if "dilated" in options:
        dilations = [m.dilation for m in ours.modules() if isinstance(m, nn.Conv2d)]
        assert dilations == [m.dilation for m in theirs.modules() if isinstance(m, nn.Conv2d)]


def test_googlenet_transform_input_matches_torchvision() -> None:
    # Re-normalising ImageNet-normalised input for the original Google weights, as torchvision.
    ours, theirs = _load_theirs("googlenet", transform_input=True)
    ours.eval()
    theirs.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
    with pytest.raises(ValueError, match="transform_input needs in_chans=3"):
        create_model("googlenet", in_chans=1, transform_input=True)
