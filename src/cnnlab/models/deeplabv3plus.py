"""DeepLab v3+: Chen, Zhu, Papandreou, Schroff & Adam, "Encoder-Decoder with Atrous Separable
Convolution for Semantic Image Segmentation" (ECCV 2018).

DeepLab v3 upsamples its 1/8 or 1/16 resolution logits 8x or 16x in one bilinear step, which
blurs object boundaries. v3+ adds a small decoder: the ASPP output (output stride 16, rates 6,
12, 18) is upsampled 4x and concatenated with the backbone's stride-4 *low-level* features,
first projected to 48 channels by a 1x1 convolution so that they do not outweigh the 256
semantic channels; two 3x3 convolutions (256 channels) refine the result, a 1x1 convolution
gives the logits, and a last 4x bilinear upsampling returns to the input size (the paper's
Fig. 2 and Table 1-2 choices).

Here with torchvision's ResNet-50 as the encoder (strides of the last stage replaced by dilation
2: output stride 16; or of the last two for output stride 8, with the rates doubled). As the
authors' code, the upsampling is bilinear with ``align_corners=True`` and the natural input
sides are 16k + 1 (513 in the paper): then the stride-16, stride-4 and input grids share their
first and last pixels and the decoder concatenates exactly aligned maps (at a side like 512, or
with ``align_corners=False``, they are not; ``cnnlab.analysis.summary`` notes the misaligned
concatenation). The
reference implementation people use, segmentation_models_pytorch's ``DeepLabV3Plus``, differs in
ways ``tests/models/test_deeplab.py`` measures and ``docs/architectures_second_wave.md`` lists:
separable convolutions in ASPP and decoder, rates 12/24/36 by default, an extra separable 3x3
after ASPP, one 3x3 in the decoder instead of two, ``align_corners=True`` upsampling, and a last
stage dilated from its first block on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import one_of
from cnnlab.layers.aspp import ASPP
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.models._registry import register_model
from cnnlab.models.feature_extractor import FeatureExtractor
from cnnlab.models.resnet import build_resnet

PAPER = "Chen, Zhu, Papandreou, Schroff & Adam, ECCV 2018"

# Output stride -> (stages 2-4 dilated, ASPP rates): the paper's Sec. 4 settings.
OUTPUT_STRIDES: dict[int, tuple[tuple[bool, bool, bool], tuple[int, int, int]]] = {
    16: ((False, False, True), (6, 12, 18)),
    8: ((False, True, True), (12, 24, 36)),
}


class DeepLabV3PlusDecoder(nn.Module):
    """Low-level projection to 48 channels, concatenation, two 3x3 conv-BN-ReLU (256).

    Shape:
        inputs: ASPP output (N, 256, H/16, W/16) and low-level features (N, C_low, H/4, W/4);
        output (N, 256, H/4, W/4).
    """

    def __init__(self, low_channels: int, aspp_channels: int = 256, low_out: int = 48) -> None:
        super().__init__()
        self.project = ConvNormAct(low_channels, low_out, 1)
        self.fuse = nn.Sequential(
            ConvNormAct(aspp_channels + low_out, 256, 3), ConvNormAct(256, 256, 3)
        )

    def forward(self, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        low = self.project(low)
        high = F.interpolate(high, size=low.shape[-2:], mode="bilinear", align_corners=True)
        return self.fuse(torch.cat([high, low], 1))


class DeepLabV3Plus(nn.Module):
    """ResNet-50 encoder, ASPP, decoder with stride-4 features, 1x1 classifier, 4x upsampling.

    Args:
        num_classes: classes including background (21 for PASCAL VOC).
        in_chans: input channels.
        output_stride: 16 (the paper's default) or 8.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes, H, W). Training mode needs N >= 2
        (batch norm in ASPP's image pooling branch).
    """

    def __init__(self, num_classes: int = 21, in_chans: int = 3, output_stride: int = 16) -> None:
        super().__init__()
        dilate, rates = OUTPUT_STRIDES[one_of("output_stride", output_stride, OUTPUT_STRIDES)]
        resnet = build_resnet(50, in_chans=in_chans, replace_stride_with_dilation=dilate)
        self.backbone = FeatureExtractor(resnet, {"layer1": "low", "layer4": "out"})
        self.aspp = ASPP(2048, rates)
        self.decoder = DeepLabV3PlusDecoder(256)
        self.classifier = nn.Conv2d(256, num_classes, 1)
        self.output_stride = output_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        out = self.decoder(self.aspp(features["out"]), features["low"])
        out = self.classifier(out)
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=True)


@register_model(
    family="deeplab", task="segmentation", default_input_size=(3, 513, 513), paper=PAPER
)
def deeplabv3plus_resnet50(
    num_classes: int = 21, in_chans: int = 3, output_stride: int = 16
) -> DeepLabV3Plus:
    """DeepLab v3+ with a ResNet-50 encoder (output stride 16, ASPP rates 6/12/18)."""
    return DeepLabV3Plus(num_classes, in_chans, output_stride)
