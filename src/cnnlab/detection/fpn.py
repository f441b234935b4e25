"""Feature Pyramid Network (Lin, Dollar, Girshick, He, Hariharan & Belongie, "Feature Pyramid
Networks for Object Detection", CVPR 2017).

A CNN's feature maps form a pyramid already -- high resolution but semantically weak near the
input, coarse but strong near the output -- and small objects need the first, recognition the
second. FPN gives *every* level both. **Lateral** 1x1 convolutions bring each backbone stage
(C2 ... C5, strides 4 ... 32) to the same width (256); the **top-down path** starts at the
coarsest level and, level by level, upsamples the running map 2x (nearest neighbour) and *adds*
the lateral map of the next finer stage; a 3x3 convolution on each sum reduces the aliasing of
the upsampling and gives the outputs P2 ... P5. Extra levels: Faster R-CNN's P6 is P5
subsampled by 2 (``"pool"``); RetinaNet's P6 and P7 are stride-2 3x3 convolutions (``"p6p7"``,
here from P5, as torchvision's RetinaNet).

:class:`FeaturePyramidNetwork` has the state dict and outputs of
``torchvision.ops.FeaturePyramidNetwork``; :func:`resnet_fpn_backbone` those of torchvision's
``resnet_fpn_backbone`` for any registry ResNet, except that batch norm stays trainable by
default (torchvision freezes it because it starts from pretrained weights; we train from
scratch).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import one_of, positive_int
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.models import create_model, list_models, model_info
from cnnlab.models.feature_extractor import FeatureExtractor
from cnnlab.models.resnet import ResNet


class LastLevelMaxPool(nn.Module):
    """P6 = P5 subsampled by 2 (a 1x1 max pool with stride 2), named ``"pool"``."""

    def forward(
        self, results: list[torch.Tensor], features: list[torch.Tensor], names: list[str]
    ) -> tuple[list[torch.Tensor], list[str]]:
        return [*results, F.max_pool2d(results[-1], 1, 2, 0)], [*names, "pool"]


class LastLevelP6P7(nn.Module):
    """RetinaNet's P6 = conv3x3/2(P5) and P7 = conv3x3/2(ReLU(P6)), named ``"p6"``, ``"p7"``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.p6 = nn.Conv2d(in_channels, out_channels, 3, 2, 1)
        self.p7 = nn.Conv2d(out_channels, out_channels, 3, 2, 1)
        for conv in (self.p6, self.p7):
            nn.init.kaiming_uniform_(conv.weight, a=1)
            nn.init.zeros_(conv.bias)

    def forward(
        self, results: list[torch.Tensor], features: list[torch.Tensor], names: list[str]
    ) -> tuple[list[torch.Tensor], list[str]]:
        p6 = self.p6(results[-1])
        p7 = self.p7(F.relu(p6))
        return [*results, p6, p7], [*names, "p6", "p7"]


EXTRA_BLOCKS: dict[str | None, Callable[[int], nn.Module | None]] = {
    "pool": lambda channels: LastLevelMaxPool(),
    "p6p7": lambda channels: LastLevelP6P7(channels, channels),
    None: lambda channels: None,
}


class FeaturePyramidNetwork(nn.Module):
    """Lateral 1x1 convs, top-down path (2x nearest upsampling + add), 3x3 output convs.

    Args:
        in_channels_list: channels of the input maps, finest first (C2, C3, C4, C5: 256, 512,
            1024, 2048 for ResNet-50).
        out_channels: channels of every output map (256 in the paper).
        extra_blocks: ``"pool"`` (P6 by subsampling), ``"p6p7"`` (RetinaNet) or ``None``.

    Attributes:
        inner_blocks: the lateral 1x1 convolutions (with bias), one per input.
        layer_blocks: the 3x3 output convolutions (with bias), one per input.

    Shape:
        input: an ordered dict of maps (N, C_i, H_i, W_i), finest first; output: an ordered dict
        with the same names, each (N, out_channels, H_i, W_i), then the extra levels.
    """

    def __init__(
        self,
        in_channels_list: Sequence[int],
        out_channels: int,
        extra_blocks: str | None = "pool",
    ) -> None:
        super().__init__()
        if not in_channels_list:
            raise ValueError("in_channels_list must hold at least one channel count, got []")
        for c in in_channels_list:
            positive_int("in_channels_list", c)
        positive_int("out_channels", out_channels)
        one_of("extra_blocks", extra_blocks, EXTRA_BLOCKS)
        self.inner_blocks = nn.ModuleList(
            ConvNormAct(c, out_channels, 1, padding=0, norm=False, act=None)
            for c in in_channels_list
        )
        self.layer_blocks = nn.ModuleList(
            ConvNormAct(out_channels, out_channels, 3, norm=False, act=None)
            for _ in in_channels_list
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.zeros_(m.bias)
        self.extra_blocks = EXTRA_BLOCKS[extra_blocks](out_channels)

    def forward(self, x: Mapping[str, torch.Tensor]) -> OrderedDict[str, torch.Tensor]:
        names, features = list(x.keys()), list(x.values())
        if len(features) != len(self.inner_blocks):
            raise ValueError(
                f"FeaturePyramidNetwork was built for {len(self.inner_blocks)} maps, "
                f"got {len(features)}: {names}"
            )
        last_inner = self.inner_blocks[-1](features[-1])
        results = [self.layer_blocks[-1](last_inner)]
        for idx in range(len(features) - 2, -1, -1):  # top-down, coarse to fine
            lateral = self.inner_blocks[idx](features[idx])
            top_down = F.interpolate(last_inner, size=lateral.shape[-2:], mode="nearest")
            last_inner = lateral + top_down
            results.insert(0, self.layer_blocks[idx](last_inner))
        if self.extra_blocks is not None:
            results, names = self.extra_blocks(results, features, names)
        return OrderedDict(zip(names, results, strict=True))


class BackboneWithFPN(nn.Module):
    """A backbone's intermediate maps (``body``) through a :class:`FeaturePyramidNetwork`.

    Attributes:
        body: returns the stages' maps as an ordered dict named ``"0"``, ``"1"``, ...
        fpn: the pyramid.
        out_channels: channels of every output map.

    Shape:
        input (N, C, H, W); output an ordered dict of (N, out_channels, H / s, W / s) maps,
        s = 4, 8, 16, 32 for ResNet stages 1-4, then the extra levels.
    """

    def __init__(self, body: nn.Module, fpn: FeaturePyramidNetwork, out_channels: int) -> None:
        super().__init__()
        self.body = body
        self.fpn = fpn
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.fpn(self.body(x))


TRAINABLE = ("layer4", "layer3", "layer2", "layer1", "conv1")  # from the top, as torchvision
RESNET_FAMILIES = ("resnet", "resnext", "wide_resnet", "senet", "gcnet", "sknet")


def resnet_fpn_backbone(
    name: str,
    *,
    returned_layers: Sequence[int] = (1, 2, 3, 4),
    extra_blocks: str | None = "pool",
    norm_layer: Callable[[int], nn.Module] = nn.BatchNorm2d,
    trainable_layers: int = 5,
    out_channels: int = 256,
    in_chans: int = 3,
) -> BackboneWithFPN:
    """Multi-scale features of a registry ResNet through an FPN (torchvision's recipe).

    Args:
        name: a registry model built on :class:`cnnlab.models.resnet.ResNet` (``resnet50``,
            ``resnext50_32x4d``, ``se_resnet50``, ``skresnet18``, ``gc_resnet50``, ...).
        returned_layers: which stages (1-4) feed the pyramid.
        extra_blocks: ``"pool"``, ``"p6p7"`` or ``None`` (see :class:`FeaturePyramidNetwork`).
        norm_layer: replaces every ``BatchNorm2d`` of the backbone when it is something else
            (e.g. ``torchvision.ops.FrozenBatchNorm2d`` for fine-tuning pretrained weights).
        trainable_layers: how many stages from the top keep ``requires_grad`` (0-5; 5 trains
            the stem too).
        out_channels: channels of the pyramid.
        in_chans: image channels (the stem's input).

    Returns:
        A :class:`BackboneWithFPN` whose forward returns an ordered dict ``{"0": P2, ...}``.

    Raises:
        ValueError: ``name`` is not a ResNet of the registry, or a bad option.
    """
    in_chans = positive_int("in_chans", in_chans)
    model = create_model(name, in_chans=in_chans) if name in list_models() else None
    if not isinstance(model, ResNet):
        model_info(name)  # unknown names: the registry's error with close matches
        resnets = [n for n in list_models() if model_info(n).family in RESNET_FAMILIES]
        raise ValueError(f"resnet_fpn_backbone needs a registry ResNet, got {name!r}: {resnets}")
    layers = list(returned_layers)
    for k in layers:
        one_of("returned_layers", k, (1, 2, 3, 4))
    if not layers or sorted(set(layers)) != layers:
        raise ValueError(f"returned_layers must be distinct stages 1-4 in order, got {layers}")
    one_of("trainable_layers", trainable_layers, range(6))
    if norm_layer is not nn.BatchNorm2d:
        _replace_batch_norm(model, norm_layer)
    train = list(TRAINABLE[:trainable_layers]) + (["bn1"] if trainable_layers == 5 else [])
    for param_name, param in model.named_parameters():
        if not any(param_name.startswith(prefix) for prefix in train):
            param.requires_grad_(False)
    body = FeatureExtractor(model, {f"layer{k}": str(i) for i, k in enumerate(layers)})
    channels = [64 * 2 ** (k - 1) * model.block.expansion for k in layers]
    fpn = FeaturePyramidNetwork(channels, out_channels, extra_blocks)
    return BackboneWithFPN(body, fpn, out_channels)


def _replace_batch_norm(model: nn.Module, norm_layer: Callable[[int], nn.Module]) -> None:
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, child_name, norm_layer(child.num_features))
