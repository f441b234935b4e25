"""Parameter counts and multiply-adds against the numbers the papers publish.

Parameters are counted on the meta device (no memory, no initialisation). MACs are counted by
fvcore, an independent tracer (see ``conftest.fvcore_macs``), for one 224x224 image; like the
papers' tables they include only convolutions and fully connected layers. "FLOPs" in the
ResNet, ShuffleNet and SENet papers are multiply-adds, as MobileNet's "mult-adds" are.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision
from torch import nn

from cnnlab.models import create_model

IMAGENET = (3, 224, 224)


def _ids(cases: list[tuple]) -> list[str]:
    """Readable ids: ``mobilenet_v1-width_mult0.5-160``."""
    out = []
    for name, kwargs, *rest in cases:
        parts = [name, *(f"{k}{v}" for k, v in kwargs.items())]
        if len(rest) == 2 and rest[0] != IMAGENET:
            parts.append(str(rest[0][-1]))
        out.append("-".join(parts))
    return out


def _meta(name: str, **kwargs: object) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, **kwargs)


def _close(value: float, published: float, rel: float = 0.03) -> bool:
    return abs(value - published) <= rel * published


PARAM_CASES = [
    # Krizhevsky et al. 2012, abstract: "60 million parameters" (torchvision's variant: 61.1M).
    ("alexnet", {}, 60),
    # Simonyan & Zisserman 2015, Table 2: A 133, B 133, D 138, E 144 million.
    ("vgg11", {}, 133),
    ("vgg13", {}, 133),
    ("vgg16", {}, 138),
    ("vgg19", {}, 144),
    # Howard et al. 2017, Table 6 (width multiplier): 4.2, 2.6, 1.3 million.
    ("mobilenet_v1", {"width_mult": 1.0}, 4.2),
    ("mobilenet_v1", {"width_mult": 0.75}, 2.6),
    ("mobilenet_v1", {"width_mult": 0.5}, 1.3),
    # Hu et al. 2018, Sec. 4: ResNet-50's ~25M plus ~2.5M for the SE blocks = 28.1M.
    ("se_resnet50", {}, 28.1),
]


@pytest.mark.parametrize(("name", "kwargs", "millions"), PARAM_CASES, ids=_ids(PARAM_CASES))
def test_parameter_counts(
    name: str, kwargs: dict, millions: float, params: Callable[[nn.Module], int]
) -> None:
    count = params(_meta(name, **kwargs))
    assert _close(count / 1e6, millions), f"{name} {kwargs}: {count / 1e6:.3f}M vs {millions}M"


@pytest.mark.parametrize("suffix", ["0_5", "1_0", "1_5", "2_0"])
def test_shufflenet_v2_parameters_match_torchvision_metadata(
    suffix: str, params: Callable[[nn.Module], int]
) -> None:
    # torchvision's weight metadata (read, not downloaded): 1,366,792 ... 7,393,996 parameters.
    enum = getattr(torchvision.models, f"ShuffleNet_V2_X{suffix}_Weights")
    assert params(_meta(f"shufflenet_v2_x{suffix}")) == enum.IMAGENET1K_V1.meta["num_params"]


def test_mobilenet_quarter_width_parameters_round_to_table(
    params: Callable[[nn.Module], int],
) -> None:
    # Table 6 gives 0.25 MobileNet-224 as "0.5" million, one significant digit (we have 0.47M).
    assert round(params(_meta("mobilenet_v1", width_mult=0.25)) / 1e6, 1) == 0.5


def test_vgg16_parameters_sit_in_fc6(params: Callable[[nn.Module], int]) -> None:
    # The notes: most of VGG's parameters come from the first fully connected layer.
    model = _meta("vgg16")
    fc6 = model.classifier[0]
    assert fc6.weight.numel() + fc6.bias.numel() == 7 * 7 * 512 * 4096 + 4096
    assert (7 * 7 * 512 * 4096 + 4096) / params(model) > 0.74


def test_se_block_parameters_follow_the_formula(params: Callable[[nn.Module], int]) -> None:
    # Hu et al. Sec. 4: the SE blocks add 2/r * sum_s N_s * C_s^2 weights (plus C/r + C biases)
    # over stages s with N_s blocks of C_s output channels; r = 16.
    r, stages = 16, [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    extra = sum(n * (2 * c * c // r + c // r + c) for n, c in stages)
    assert params(_meta("se_resnet50")) - params(_meta("resnet50")) == extra
    assert _close(sum(n * 2 * c * c / r for n, c in stages) / 1e6, 2.5)


def test_fcn_vgg16_parameters(params: Callable[[nn.Module], int]) -> None:
    # Long et al. 2015, Table 1: FCN-VGG16 has 134M parameters (the convolutionalised VGG-16
    # with its 21-way score layer; the upsampling layers are not counted there).
    for name in ("fcn32s", "fcn16s", "fcn8s"):
        model = _meta(name)
        ups = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.ConvTranspose2d))
        assert _close((params(model) - ups) / 1e6, 134), name


def test_unet_parameters_from_figure_1(params: Callable[[nn.Module], int]) -> None:
    # Ronneberger et al. 2015, Fig. 1: two 3x3 convs per level (64 ... 1024 channels), 2x2
    # up-convs halving the channels, a 1x1 conv to 2 classes; every conv has a bias.
    def conv(cin: int, cout: int, k: int) -> int:
        return k * k * cin * cout + cout

    widths = [64, 128, 256, 512, 1024]
    total, cin = 0, 1
    for w in widths:
        total += conv(cin, w, 3) + conv(w, w, 3)
        cin = w
    for w in reversed(widths[:-1]):
        total += conv(2 * w, w, 2) + conv(2 * w, w, 3) + conv(w, w, 3)
    total += conv(64, 2, 1)
    assert params(_meta("unet")) == total
    assert _close(total / 1e6, 31.0)


def test_fvcore_counts_grouped_conv(macs: Callable[[nn.Module, tuple], int]) -> None:
    # The reference's own check: a depthwise 3x3 conv on 8x6x6 costs 9 * 8 * 36 MACs, a
    # 4-group 1x1 conv 8 -> 12 costs (8 / 4) * 12 * 36.
    assert macs(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (8, 6, 6)) == 9 * 8 * 36
    assert macs(nn.Conv2d(8, 12, 1, groups=4, bias=False), (8, 6, 6)) == 2 * 12 * 36


MAC_CASES = [
    # Howard et al. 2017, Table 6 (width) and Table 7 (resolution): millions of mult-adds.
    ("mobilenet_v1", {"width_mult": 1.0}, IMAGENET, 569),
    ("mobilenet_v1", {"width_mult": 0.75}, IMAGENET, 325),
    ("mobilenet_v1", {"width_mult": 0.5}, IMAGENET, 149),
    ("mobilenet_v1", {"width_mult": 0.25}, IMAGENET, 41),
    ("mobilenet_v1", {"width_mult": 1.0}, (3, 160, 160), 290),
    # Zhang et al. 2018 (ShuffleNet v1), Table 2: "ShuffleNet 1x" 140 MFLOPs for every g
    # (Table 1 itemises 137 for g=3 and g=8); 0.5x 38 and 0.25x 13 MFLOPs for g=3.
    ("shufflenet_v1", {"groups": 3}, IMAGENET, 140),
    ("shufflenet_v1", {"groups": 8}, IMAGENET, 140),
    ("shufflenet_v1", {"groups": 3, "width_mult": 0.5}, IMAGENET, 38),
    ("shufflenet_v1", {"groups": 3, "width_mult": 0.25}, IMAGENET, 13),
    # Ma et al. 2018 (ShuffleNet v2), Table 5: 41, 146, 299, 591 MFLOPs.
    ("shufflenet_v2_x0_5", {}, IMAGENET, 41),
    ("shufflenet_v2_x1_0", {}, IMAGENET, 146),
    ("shufflenet_v2_x1_5", {}, IMAGENET, 299),
    ("shufflenet_v2_x2_0", {}, IMAGENET, 591),
    # He et al. 2016, Table 1: 1.8 and 3.8 x 10^9 FLOPs (stride on the 1x1, as the paper).
    ("resnet18", {}, IMAGENET, 1800),
    ("resnet50", {"stride_in_1x1": True}, IMAGENET, 3800),
    # Hu et al. 2018, Table 2: SE-ResNet-50 3.87 GFLOPs (the Caffe layout, stride on 1x1).
    ("se_resnet50", {"stride_in_1x1": True}, IMAGENET, 3870),
]


@pytest.mark.parametrize(("name", "kwargs", "size", "millions"), MAC_CASES, ids=_ids(MAC_CASES))
def test_macs_match_papers(
    name: str,
    kwargs: dict,
    size: tuple[int, int, int],
    millions: float,
    macs: Callable[[nn.Module, tuple], int],
) -> None:
    count = macs(create_model(name, **kwargs), size)
    assert _close(count / 1e6, millions), f"{name} {kwargs}: {count / 1e6:.1f}M vs {millions}M"


def test_torchvision_layout_macs_match_torchvision_metadata(
    macs: Callable[[nn.Module, tuple], int],
) -> None:
    # Stride on the 3x3 costs more: torchvision's own metadata (read, not downloaded) says
    # 4.09 GMACs for its ResNet-50, against the paper's 3.8 G for the stride-on-1x1 layout.
    published = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["_ops"]
    assert abs(macs(create_model("resnet50"), IMAGENET) / 1e9 - published) < 0.01


def _neurons(model: nn.Module, size: tuple[int, int, int]) -> int:
    """Outputs of every conv and FC layer for one image (the paper's "neurons")."""
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel()

    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    handles = [m.register_forward_hook(hook) for m in layers]
    with torch.device("meta"):
        model.eval()(torch.empty(1, *size))
    for h in handles:
        h.remove()
    return total


def test_alexnet_neurons_per_layout() -> None:
    # Docs error 5. Krizhevsky et al. 2012, abstract: "650,000 neurons". That is the paper's
    # two-GPU layout (Fig. 2: 96/256/384/384/256 channels, 227x227 input); built here from the
    # figure, independently of the zoo. torchvision's single-GPU layout (ours) has fewer.
    with torch.device("meta"):
        paper = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4),  # 55x55
            nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2),  # 27x27, each GPU sees its own half
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1),  # 13x13
            nn.Conv2d(384, 384, 3, padding=1, groups=2),
            nn.Conv2d(384, 256, 3, padding=1, groups=2),
            nn.MaxPool2d(3, 2),
            nn.Flatten(),
            nn.Linear(256 * 6 * 6, 4096),
            nn.Linear(4096, 4096),
            nn.Linear(4096, 1000),
        )
        ours = create_model("alexnet")
    by_hand = 96 * 55 * 55 + 256 * 27 * 27 + 384 * 169 + 384 * 169 + 256 * 169 + 4096 * 2 + 1000
    assert _neurons(paper, (3, 227, 227)) == by_hand == 659_272
    assert _close(by_hand, 650_000)
    assert _neurons(ours, (3, 224, 224)) == 494_184
