"""FCN: Long, Shelhamer & Darrell, "Fully Convolutional Networks for Semantic Segmentation"
(CVPR 2015).

The notes sum it up in one sentence: FCN replaces the classifier's fully connected layers with
convolutions, so the network outputs a heat map instead of a class, and upsamples it back to the
input size. Three techniques: *convolutionalisation* (VGG-16's fc6 becomes a 7x7 convolution and
fc7 a 1x1 convolution, carrying the same weights), *upsampling* by transposed convolution
("deconvolution"; initialised to bilinear interpolation and learnable), and *skip layers*: the
32x-upsampled prediction of pool5 is coarse, so FCN-16s adds a prediction from pool4 and FCN-8s
one from pool3, each fused (summed) at its resolution before the final upsampling.

Like the reference Caffe models, conv1_1 pads by 100 pixels so that inputs of any size survive
fc6's 7x7 window, and every crop offset that re-aligns a map with another (19 for FCN-32s; 5, 27
for FCN-16s; 5, 9, 31 for FCN-8s) is derived from the layers' coordinate maps, as Caffe's
``coord_map`` does (with :class:`cnnlab.core.receptive_field.AxisField`, whose ``start`` is
that offset). As in Caffe, max pooling rounds its output size up (``ceil_mode``), which
keeps enough margin for the crop at every input size. The output is cropped to the input size.
"""

from __future__ import annotations

from fractions import Fraction

import torch
from torch import nn

from cnnlab.core.receptive_field import AxisField
from cnnlab.models._registry import register_model
from cnnlab.models.vgg import CONFIGS, VGG, make_features

PAPER = "Long, Shelhamer & Darrell, CVPR 2015"

VGG16_POOL3, VGG16_POOL4 = 16, 23  # indices of pool3 and pool4 in VGG-16's ``features``
STRIDES = {"32s": 32, "16s": 16, "8s": 8}


def crop_offset(field: AxisField, target: AxisField) -> int:
    """The index of ``field``'s map that lands on index 0 of ``target``'s map.

    Both are receptive fields (:class:`~cnnlab.core.receptive_field.AxisField`) measured in
    the input's coordinates; their ``start`` is the centre of position 0's window, exactly
    Caffe's ``coord_map`` offset, and their ``jump`` its scale.

    Raises:
        ValueError: the maps have different jumps, or are not aligned on whole positions.
    """
    if field.jump != target.jump:
        raise ValueError(f"cannot align maps of jumps {field.jump} and {target.jump}")
    shift = Fraction(target.start - field.start) / Fraction(field.jump)  # ints or Fractions
    if shift.denominator != 1 or shift < 0:
        raise ValueError(f"maps are not aligned on whole pixels (shift {shift})")
    return int(shift)


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weight (channels, channels, k, k) of a transposed conv doing per-channel bilinear
    upsampling (Caffe FCN's ``upsample_filt``; zero between different channels)."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float64)
    filt1d = 1 - (og - center).abs() / factor
    filt = (filt1d[:, None] * filt1d[None, :]).float()
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    weight[range(channels), range(channels)] = filt
    return weight


def bilinear_upsampling(channels: int, factor: int) -> nn.ConvTranspose2d:
    """Transposed conv (kernel 2 * factor, stride factor, no bias) initialised to bilinear
    interpolation; output pixel ``o + factor // 2`` equals bilinear ``o`` away from the borders."""
    up = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, bias=False)
    with torch.no_grad():
        up.weight.copy_(bilinear_kernel(channels, 2 * factor))
    return up


def _crop(x: torch.Tensor, offset: int, like: torch.Tensor) -> torch.Tensor:
    h, w = like.shape[-2:]
    if x.shape[-2] < offset + h or x.shape[-1] < offset + w:
        raise ValueError(
            f"FCN: a {tuple(x.shape[-2:])} map cannot be cropped at offset {offset} to {(h, w)}"
        )
    return x[..., offset : offset + h, offset : offset + w]


class FCN(nn.Module):
    """VGG-16 backbone, fc6/fc7 as convolutions, score layers, bilinear-initialised upsampling.

    Args:
        variant: ``"32s"``, ``"16s"`` or ``"8s"`` (the output stride before the last upsampling).
        num_classes: classes including background (21 for PASCAL VOC).
        in_chans: input channels.
        pad: zero padding of conv1_1 (100 in the reference models).
        dropout: dropout after fc6 and fc7.

    Attributes:
        features: VGG-16's ``features`` (same names, so ``VGG.features`` weights load).
        fc6, fc7: conv 7x7 512 -> 4096 and 1x1 4096 -> 4096, each + ReLU + dropout;
            :meth:`load_vgg16` copies VGG-16's fully connected weights into them.
        offsets: the crop offsets, e.g. ``{"score": 31, "score_pool4": 5, "score_pool3": 9}``.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes, H, W) per-pixel logits.
    """

    def __init__(
        self,
        variant: str = "8s",
        num_classes: int = 21,
        in_chans: int = 3,
        pad: int = 100,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if variant not in STRIDES:
            raise ValueError(f"variant must be one of {sorted(STRIDES)}, got {variant!r}")
        if pad < 0:
            raise ValueError(f"pad must be >= 0, got {pad}")
        self.variant = variant
        self.features = make_features(CONFIGS["D"], in_chans, batch_norm=False)
        self.features[0].padding = (pad, pad)
        for m in self.features:
            if isinstance(m, nn.MaxPool2d):
                m.ceil_mode = True  # Caffe's pooling rounds up; the crop offsets rely on it
        self.fc6 = nn.Sequential(nn.Conv2d(512, 4096, 7), nn.ReLU(True), nn.Dropout(dropout))
        self.fc7 = nn.Sequential(nn.Conv2d(4096, 4096, 1), nn.ReLU(True), nn.Dropout(dropout))
        self.score_fr = nn.Conv2d(4096, num_classes, 1)
        # Receptive fields (start = Caffe's coord_map offset) of pool3, pool4 and score_fr; the
        # other 3x3 convolutions pad by 1 and move nothing.
        pool3 = AxisField().conv(3, 1, pad).conv(2, 2).conv(2, 2).conv(2, 2)
        pool4 = pool3.conv(2, 2)
        score = pool4.conv(2, 2).conv(7)
        stride = STRIDES[variant]
        self.offsets: dict[str, int] = {}
        if stride <= 16:
            self.score_pool4 = nn.Conv2d(512, num_classes, 1)
            self.upscore2 = bilinear_upsampling(num_classes, 2)
            score = score.transposed(4, 2)
            self.offsets["score_pool4"] = crop_offset(pool4, score)
        if stride == 8:
            self.score_pool3 = nn.Conv2d(256, num_classes, 1)
            self.upscore_pool4 = bilinear_upsampling(num_classes, 2)
            score = score.transposed(4, 2)
            self.offsets["score_pool3"] = crop_offset(pool3, score)
        self.upscore = bilinear_upsampling(num_classes, stride)
        score = score.transposed(2 * stride, stride)
        self.offsets["score"] = crop_offset(score, AxisField())
        self.num_classes = num_classes
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        for seq in (self.fc6, self.fc7):
            nn.init.normal_(seq[0].weight, 0, 0.01)
            nn.init.zeros_(seq[0].bias)
        # The reference models start the score layers at zero.
        for name in ("score_fr", "score_pool4", "score_pool3"):
            layer = getattr(self, name, None)
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    @torch.no_grad()
    def load_vgg16(self, vgg: VGG) -> None:
        """Convolutionalise a VGG-16: copy its conv layers and reshape fc6/fc7 into 7x7 / 1x1
        convolutions, as the paper initialises FCN from the ImageNet classifier."""
        self.features.load_state_dict(vgg.features.state_dict())
        for fc, conv in ((vgg.classifier[0], self.fc6[0]), (vgg.classifier[3], self.fc7[0])):
            conv.weight.copy_(fc.weight.view_as(conv.weight))
            conv.bias.copy_(fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips: dict[int, torch.Tensor] = {}
        h = x
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in (VGG16_POOL3, VGG16_POOL4):
                skips[i] = h
        h = self.score_fr(self.fc7(self.fc6(h)))
        if "score_pool4" in self.offsets:
            h = self.upscore2(h)
            s4 = self.score_pool4(skips[VGG16_POOL4])
            h = h + _crop(s4, self.offsets["score_pool4"], h)
        if "score_pool3" in self.offsets:
            h = self.upscore_pool4(h)
            s3 = self.score_pool3(skips[VGG16_POOL3])
            h = h + _crop(s3, self.offsets["score_pool3"], h)
        return _crop(self.upscore(h), self.offsets["score"], x)


@register_model(family="fcn", task="segmentation", paper=PAPER)
def fcn32s(num_classes: int = 21, in_chans: int = 3, pad: int = 100) -> FCN:
    """FCN-32s: pool5 scores upsampled 32x."""
    return FCN("32s", num_classes, in_chans, pad=pad)


@register_model(family="fcn", task="segmentation", paper=PAPER)
def fcn16s(num_classes: int = 21, in_chans: int = 3, pad: int = 100) -> FCN:
    """FCN-16s: pool5 scores upsampled 2x, fused with pool4 scores, upsampled 16x."""
    return FCN("16s", num_classes, in_chans, pad=pad)


@register_model(family="fcn", task="segmentation", paper=PAPER)
def fcn8s(num_classes: int = 21, in_chans: int = 3, pad: int = 100) -> FCN:
    """FCN-8s: as FCN-16s, then fused with pool3 scores and upsampled 8x."""
    return FCN("8s", num_classes, in_chans, pad=pad)
