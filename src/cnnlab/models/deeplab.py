"""DeepLab v3: Chen, Papandreou, Schroff & Adam, "Rethinking Atrous Convolution for Semantic
Image Segmentation" (arXiv 1706.05587, 2017).

The DeepLab series (the notes' section): v1 and v2 (2015-2016) put *atrous* (dilated)
convolutions into a classification backbone so that it keeps a dense feature map (output stride
8 instead of 32) without shrinking the receptive field, and refine the result with a CRF; v2
adds ASPP, parallel atrous convolutions at several rates. v3 drops the CRF, puts batch norm into
ASPP and adds an image-pooling branch (:class:`cnnlab.layers.ASPP`), because a 3x3 atrous
convolution with a rate close to the map size degenerates into a 1x1 one (most taps fall into
the padding). v3+ (:mod:`cnnlab.models.deeplabv3plus`) adds a decoder.

Here, as in torchvision: ResNet-50/101 with the strides of its last two stages replaced by
dilation (output stride 8; ASPP rates 12, 24, 36), or MobileNet v3 Large with its last stage
dilated (output stride 16; ``reduced_tail`` off as torchvision). The logits are bilinearly
upsampled to the input size. ``aux_loss=True`` adds torchvision's auxiliary FCN head on the
previous stage and the model returns ``{"out": ..., "aux": ...}``; without it, a tensor.
Parameter names are torchvision's, so its ``deeplabv3_*`` weights load unchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.layers.aspp import ASPP
from cnnlab.layers.inverted_residual import InvertedResidual
from cnnlab.models._registry import register_model
from cnnlab.models.feature_extractor import FeatureExtractor
from cnnlab.models.mobilenet_v3 import MobileNetV3
from cnnlab.models.resnet import build_resnet

PAPER = "Chen, Papandreou, Schroff & Adam, arXiv 1706.05587 (2017)"


class DeepLabHead(nn.Sequential):
    """ASPP, 3x3 conv-BN-ReLU, 1x1 conv to the classes."""

    def __init__(
        self, in_channels: int, num_classes: int, atrous_rates: tuple[int, ...] = (12, 24, 36)
    ) -> None:
        super().__init__(
            ASPP(in_channels, atrous_rates),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


class FCNHead(nn.Sequential):
    """torchvision's auxiliary head: 3x3 conv to C/4, BN, ReLU, dropout 0.1, 1x1 conv."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        inter = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter, num_classes, 1),
        )


class DeepLabV3(nn.Module):
    """Backbone features -> head -> bilinear upsampling to the input size.

    Args:
        backbone: returns an ordered dict with ``"out"`` (and ``"aux"`` with an aux head).
        classifier: the DeepLab head on ``"out"``.
        aux_classifier: optional head on ``"aux"`` (an auxiliary loss in training).

    Shape:
        input (N, C, H, W); output (N, num_classes, H, W), or ``{"out": ..., "aux": ...}`` of
        that shape with an auxiliary head.
    """

    def __init__(
        self, backbone: nn.Module, classifier: nn.Module, aux_classifier: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor | OrderedDict[str, torch.Tensor]:
        size = x.shape[-2:]
        features = self.backbone(x)
        out = self.classifier(features["out"])
        out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        if self.aux_classifier is None:
            return out
        aux = self.aux_classifier(features["aux"])
        aux = F.interpolate(aux, size=size, mode="bilinear", align_corners=False)
        return OrderedDict([("out", out), ("aux", aux)])


def _resnet(depth: int, num_classes: int, in_chans: int, aux_loss: bool) -> DeepLabV3:
    resnet = build_resnet(
        depth, in_chans=in_chans, replace_stride_with_dilation=(False, True, True)
    )
    layers = {"layer4": "out", **({"layer3": "aux"} if aux_loss else {})}
    aux = FCNHead(1024, num_classes) if aux_loss else None
    return DeepLabV3(FeatureExtractor(resnet, layers), DeepLabHead(2048, num_classes), aux)


@register_model(
    family="deeplab", task="segmentation", default_input_size=(3, 520, 520), paper=PAPER
)
def deeplabv3_resnet50(
    num_classes: int = 21, in_chans: int = 3, aux_loss: bool = False
) -> DeepLabV3:
    """DeepLab v3, dilated ResNet-50 backbone (output stride 8; 39.6M parameters)."""
    return _resnet(50, num_classes, in_chans, aux_loss)


@register_model(
    family="deeplab", task="segmentation", default_input_size=(3, 520, 520), paper=PAPER
)
def deeplabv3_resnet101(
    num_classes: int = 21, in_chans: int = 3, aux_loss: bool = False
) -> DeepLabV3:
    """DeepLab v3, dilated ResNet-101 backbone (output stride 8; 58.6M parameters)."""
    return _resnet(101, num_classes, in_chans, aux_loss)


@register_model(
    family="deeplab", task="segmentation", default_input_size=(3, 520, 520), paper=PAPER
)
def deeplabv3_mobilenet_v3_large(
    num_classes: int = 21, in_chans: int = 3, aux_loss: bool = False
) -> DeepLabV3:
    """DeepLab v3, MobileNet v3 Large backbone with a dilated last stage (output stride 16)."""
    features = MobileNetV3("large", in_chans=in_chans, dilated=True).features
    strided = [
        i for i, b in enumerate(features) if isinstance(b, InvertedResidual) and b.stride > 1
    ]
    stages = [0, *strided, len(features) - 1]
    out_pos, aux_pos = stages[-1], stages[-4]  # output stride 16 and 8 (torchvision's choice)
    layers = {str(out_pos): "out", **({str(aux_pos): "aux"} if aux_loss else {})}
    head = DeepLabHead(features[out_pos].out_channels, num_classes)
    aux = FCNHead(features[aux_pos].out_channels, num_classes) if aux_loss else None
    return DeepLabV3(FeatureExtractor(features, layers), head, aux)
