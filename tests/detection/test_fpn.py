"""FeaturePyramidNetwork and resnet_fpn_backbone against torchvision's (state dicts, outputs)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone as tv_backbone
from torchvision.ops import FeaturePyramidNetwork as TvFPN
from torchvision.ops import FrozenBatchNorm2d
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

from cnnlab.detection import FeaturePyramidNetwork, resnet_fpn_backbone

CHANNELS = [8, 16, 32]
EXTRA = {
    "pool": lambda: LastLevelMaxPool(),
    "p6p7": lambda: LastLevelP6P7(6, 6),
    None: lambda: None,
}


def _maps() -> OrderedDict[str, torch.Tensor]:
    # Finest first; odd sizes check that the top-down path upsamples to the lateral's size.
    return OrderedDict(
        [
            ("c3", torch.randn(2, 8, 33, 31)),
            ("c4", torch.randn(2, 16, 17, 16)),
            ("c5", torch.randn(2, 32, 9, 8)),
        ]
    )


@pytest.mark.parametrize("extra", ["pool", "p6p7", None], ids=str)
def test_fpn_matches_torchvision(extra: str | None) -> None:
    torch.manual_seed(0)
    theirs = TvFPN(CHANNELS, 6, extra_blocks=EXTRA[extra]())
    ours = FeaturePyramidNetwork(CHANNELS, 6, extra_blocks=extra)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = _maps()
    got, want = ours(x), theirs(x)
    assert list(got) == list(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


def test_top_down_path_by_hand() -> None:
    # Lin et al. 2017, Fig. 3: P5 = 3x3(1x1(C5)); M4 = 1x1(C4) + up2(1x1(C5)); P4 = 3x3(M4).
    torch.manual_seed(0)
    fpn = FeaturePyramidNetwork([4, 8], 5, extra_blocks=None)
    c4, c5 = torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)
    lateral4, lateral5 = fpn.inner_blocks[0](c4), fpn.inner_blocks[1](c5)
    up = lateral5.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # nearest 2x
    out = fpn(OrderedDict([("c4", c4), ("c5", c5)]))
    torch.testing.assert_close(out["c5"], fpn.layer_blocks[1](lateral5))
    torch.testing.assert_close(out["c4"], fpn.layer_blocks[0](lateral4 + up))


@pytest.mark.parametrize(
    ("name", "layers", "extra", "trainable"),
    [("resnet18", (1, 2, 3, 4), "pool", 5), ("resnet18", (2, 3, 4), "p6p7", 3)],
    ids=["resnet18-pool-5", "resnet18-p6p7-3"],
)
def test_resnet_fpn_backbone_matches_torchvision(
    name: str, layers: tuple[int, ...], extra: str, trainable: int
) -> None:
    # torchvision's recipe with batch norm instead of its default frozen one (we train from
    # scratch): same state dict, same frozen parameters, same outputs.
    torch.manual_seed(0)
    extra_block = LastLevelMaxPool() if extra == "pool" else LastLevelP6P7(256, 256)
    theirs = tv_backbone(
        backbone_name=name,
        weights=None,
        norm_layer=nn.BatchNorm2d,
        trainable_layers=trainable,
        returned_layers=list(layers),
        extra_blocks=extra_block,
    ).eval()
    ours = resnet_fpn_backbone(
        name, returned_layers=layers, extra_blocks=extra, trainable_layers=trainable
    ).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    trainable_names = [n for n, p in ours.named_parameters() if p.requires_grad]
    assert trainable_names == [n for n, p in theirs.named_parameters() if p.requires_grad]
    assert ours.out_channels == theirs.out_channels == 256
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        got, want = ours(x), theirs(x)
    assert list(got) == list(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


def test_any_registry_resnet_and_frozen_batch_norm() -> None:
    with torch.device("meta"):
        backbone = resnet_fpn_backbone(
            "resnext50_32x4d", norm_layer=FrozenBatchNorm2d, trainable_layers=0
        )
        out = backbone(torch.empty(1, 3, 96, 96))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in backbone.modules())
    assert not any(p.requires_grad for p in backbone.body.parameters())
    assert [tuple(v.shape) for v in out.values()] == [
        (1, 256, 24, 24), (1, 256, 12, 12), (1, 256, 6, 6), (1, 256, 3, 3), (1, 256, 2, 2)
    ]  # fmt: skip
    assert list(out) == ["0", "1", "2", "3", "pool"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "densenet121"}, "needs a registry ResNet, got 'densenet121'"),
        ({"name": "resnet5O"}, "did you mean resnet50"),
        ({"name": "resnet18", "returned_layers": (0, 2)}, "returned_layers must be one of"),
        ({"name": "resnet18", "returned_layers": (3, 2)}, "distinct stages 1-4 in order"),
        ({"name": "resnet18", "trainable_layers": 6}, "trainable_layers must be one of"),
        ({"name": "resnet18", "extra_blocks": "p7"}, "extra_blocks must be one of"),
    ],
    ids=["not-resnet", "typo", "layer-0", "order", "trainable", "extra"],
)
def test_bad_options_raise_value_error(kwargs: dict, message: str) -> None:
    with torch.device("meta"), pytest.raises(ValueError, match=message):
        resnet_fpn_backbone(**kwargs)


def test_fpn_rejects_a_wrong_number_of_maps() -> None:
    fpn = FeaturePyramidNetwork([4, 8], 5)
    with pytest.raises(ValueError, match="built for 2 maps, got 1"):
        fpn(OrderedDict([("c5", torch.randn(1, 8, 4, 4))]))
