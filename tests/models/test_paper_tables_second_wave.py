"""The second wave's parameters and multiply-adds against the papers' numbers (within 3%).

Counted by ``cnnlab.analysis.summary`` on the meta device at each paper's input size (conv and
linear multiply-adds, as the papers' "FLOPs" and "mult-adds"); ``summary`` itself equals
torchvision's metadata for every torchvision twin (``test_torchvision_compat.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from cnnlab.models import create_model, model_info


def _report(zoo_summary: Callable[..., Any], name: str, side: int | None = None) -> Any:
    size = model_info(name).default_input_size if side is None else (3, side, side)
    report = zoo_summary(name, size)
    assert not report.partial, report.uncounted
    return report


def _close(value: float, published: float, rel: float = 0.03) -> bool:
    return abs(value - published) <= rel * published


# (name, input side, published millions of parameters, published GMACs or None, tolerance)
CASES = [
    # Xie et al. 2017 (ResNeXt), Table 1: ResNeXt-50 (32x4d) 25.0M, 4.2 x 10^9 FLOPs.
    ("resnext50_32x4d", 224, 25.0, 4.2, 0.03),
    # Szegedy et al. 2015 (GoogLeNet), Table 1 summed: 6.8M parameters ("6,798K"); Sec. 5:
    # "1.5 billion multiply-adds". torchvision's "5x5" branch is 3x3 (6.62M, 2.6% fewer).
    ("googlenet", 224, 6.8, 1.5, 0.03),
    # Chollet 2017 (Xception), Table 3: Inception V3 23,626,728 parameters without the
    # auxiliary head (the issue's 23.8M is torchvision's count, with BN statistics' layout).
    ("inception_v3", 299, 23.63, None, 0.03),
    # timm's model cards for the ports of the TensorFlow weights: Inception-v4 42.7M params,
    # 12.3 GMACs; Inception-ResNet-v2 55.8M, 13.2 GMACs (the issue quotes ~42M / ~55M).
    ("inception_v4", 299, 42.7, 12.3, 0.03),
    ("inception_resnet_v2", 299, 55.8, 13.2, 0.03),
    # Huang et al. 2017 (DenseNet), the ImageNet models' sizes (Fig. 3 / the authors' table):
    # DenseNet-121 8.0M, -169 14.1M, -201 20.0M parameters.
    ("densenet121", 224, 8.0, None, 0.03),
    ("densenet169", 224, 14.1, None, 0.03),
    ("densenet201", 224, 20.0, None, 0.03),
    # Chollet 2017, Table 3: Xception 22,855,952 parameters.
    ("xception", 299, 22.855952, None, 0.0),
    # Sandler et al. 2018 (MobileNetV2), Table 4: 3.4M parameters, 300M multiply-adds
    # (torchvision's has 3.5M: 3% more; the issue allows 5% for the parameters).
    ("mobilenet_v2", 224, 3.4, None, 0.05),
    ("mobilenet_v2", 224, None, 0.300, 0.03),
    # Howard et al. 2019 (MobileNetV3), Tables 3-4: Large 5.4M / 219M, Small 2.5M / 56M.
    ("mobilenet_v3_large", 224, 5.4, 0.219, 0.03),
    ("mobilenet_v3_small", 224, 2.5, 0.056, 0.03),
    # Tan & Le 2019 (EfficientNet), Table 2: B0 5.3M / 0.39B FLOPs ... B7 66M / 37B, at the
    # resolutions of the released code (224, 240, 260, 300, 380, 456, 528, 600).
    ("efficientnet_b0", 224, 5.3, 0.39, 0.03),
    ("efficientnet_b1", 240, 7.8, 0.70, 0.03),
    ("efficientnet_b2", 260, 9.2, 1.0, 0.03),
    ("efficientnet_b3", 300, 12.0, 1.8, 0.03),
    ("efficientnet_b6", 528, 43.0, 19.0, 0.03),
    ("efficientnet_b7", 600, 66.0, 37.0, 0.03),
    # B4 and B5: parameters within 3%, but 4.39G and 10.27G multiply-adds against the table's
    # 4.2 and 9.9 (4.6% and 3.7% more; torchvision's metadata says the same 4.394 and 10.266,
    # so the table's FLOPs for these two are lower than their networks' count).
    ("efficientnet_b4", 380, 19.0, 4.2, 0.05),
    ("efficientnet_b5", 456, 30.0, 9.9, 0.05),
    # Li et al. 2019 (SKNet), Table 2: SKNet-50 27.5M parameters, 4.47 GFLOPs.
    ("skresnext50_32x4d", 224, 27.5, 4.47, 0.03),
    # Cao et al. 2019 (GCNet), ablation of ratio and stages: GC-ResNet-50 (r16, c3-c5) 28.08M.
    ("gc_resnet50", 224, 28.08, None, 0.003),
    # Chen et al. 2019 (Octave Convolution), ResNet-50 with alpha = 0.5: 2.4 GFLOPs.
    ("oct_resnet50", 224, None, 2.4, 0.03),
    # Sun et al. 2018 (IGCV3), ImageNet table: IGCV3-D (1.0) 3.5M parameters, 318M MAdds.
    ("igcv3", 224, 3.5, 0.318, 0.03),
]


def _id(case: tuple) -> str:
    name, _, params, macs, _ = case
    return name + ("" if params is None else "-params") + ("" if macs is None else "-macs")


@pytest.mark.parametrize(("name", "side", "params", "gmacs", "rel"), CASES, ids=map(_id, CASES))
def test_parameters_and_macs_match_the_papers(
    name: str,
    side: int,
    params: float | None,
    gmacs: float | None,
    rel: float,
    zoo_summary: Callable[..., Any],
) -> None:
    report = _report(zoo_summary, name, side)
    if params is not None:
        got = report.total_params / 1e6
        assert _close(got, params, rel) or got == params, f"{name}: {got:.3f}M vs {params}M"
    if gmacs is not None:
        got = report.total_macs / 1e9
        assert _close(got, gmacs, rel), f"{name}: {got:.3f} GMACs vs {gmacs}"


def test_octave_resnet50_has_exactly_resnet50s_parameters() -> None:
    # Chen et al. 2019: octave convolution splits each kernel into four blocks, adding nothing.
    with torch.device("meta"):
        octave = create_model("oct_resnet50")
        plain = create_model("resnet50")
    assert sum(p.numel() for p in octave.parameters()) == sum(p.numel() for p in plain.parameters())


SECOND_WAVE_OTHERS = [
    "skresnet18",
    "skresnet34",
    "deeplabv3plus_resnet50",
]


@pytest.mark.parametrize("name", SECOND_WAVE_OTHERS)
def test_summary_is_complete_and_aligned(name: str, zoo_summary: Callable[..., Any]) -> None:
    # The models not counted above: summary knows every op (no "partial") and follows the
    # receptive field through them without approximations (no notes).
    report = _report(zoo_summary, name)
    assert report.receptive_field is not None
    assert report.notes == []
