"""U-Net: Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
Segmentation" (MICCAI 2015).

The notes: an encoder-decoder. The contracting path halves the resolution four times while
doubling the channels; the expanding path upsamples (2x2 up-convolution, halving the channels)
and *concatenates* the encoder's high-resolution features of the same level, so the decoder can
recover detail, and keeps many channels so context reaches the high-resolution layers. There are
no fully connected layers and only valid convolutions, so every output pixel has its full context
in the input: a 572x572 tile gives a 388x388 map; borders are predicted by mirror-padding the
image (overlap-tile), and training data is augmented with elastic deformations.

``padding="valid"`` is the paper (inputs must make every 2x2 pooling see an even size:
H = 16k + 124, k >= 4, e.g. 188 or 572; the output is H - 184). ``padding="same"`` pads every
3x3 convolution by 1, so the output matches the input (H a multiple of 16).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers import ConvNormAct
from cnnlab.models._registry import register_model

PAPER = "Ronneberger, Fischer & Brox, MICCAI 2015"

PADDINGS = {"valid": 0, "same": 1}
DEPTH = 4  # poolings in the contracting path


def _double_conv(cin: int, cout: int, pad: int, batch_norm: bool) -> nn.Sequential:
    return nn.Sequential(
        *ConvNormAct(cin, cout, 3, padding=pad, norm=batch_norm, bias=True),
        *ConvNormAct(cout, cout, 3, padding=pad, norm=batch_norm, bias=True),
    )


def _center_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top : top + h, left : left + w]


def unet_output_size(size: int, padding: str = "valid") -> int:
    """Output side of U-Net for an input side ``size``; ``ValueError`` if it does not tile.

    Example:
        >>> unet_output_size(572)
        388
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {sorted(PADDINGS)}, got {padding!r}")
    shrink = 4 * (1 - PADDINGS[padding])  # two 3x3 convolutions per level
    s = size
    ok = True
    for _ in range(DEPTH):
        s -= shrink
        ok &= s > 0 and s % 2 == 0
        s //= 2
    s -= shrink
    ok &= s > 0
    for _ in range(DEPTH):
        s = 2 * s - shrink
    if not ok or s <= 0:
        if padding == "same":
            allowed = "a multiple of 16"
        else:
            allowed = "16k + 124 with k >= 4 (188, 204, ..., 572, ...)"
        raise ValueError(f"U-Net ({padding}) cannot take an input of side {size}; use {allowed}")
    return s


class UNet(nn.Module):
    """Contracting path (64-128-256-512-1024), expanding path with 2x2 up-convs and
    concatenated skips, 1x1 convolution to class scores.

    Args:
        num_classes: output channels (2 in the paper: cell / background).
        in_chans: input channels (1 in the paper: grey-scale microscopy).
        padding: ``"valid"`` (the paper) or ``"same"``.
        base_channels: channels of the first level (64); level i has ``base * 2**i``.
        batch_norm: batch norm after every 3x3 convolution (not in the paper).

    Shape:
        input (N, in_chans, H, W); output (N, num_classes, H', W') with
        H' = :func:`unet_output_size` (H) (H - 184 for valid, H for same).
    """

    def __init__(
        self,
        num_classes: int = 2,
        in_chans: int = 1,
        padding: str = "valid",
        base_channels: int = 64,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {sorted(PADDINGS)}, got {padding!r}")
        if base_channels <= 0:
            raise ValueError(f"base_channels must be positive, got {base_channels}")
        pad = PADDINGS[padding]
        self.padding = padding
        widths = [base_channels * 2**i for i in range(DEPTH + 1)]
        self.pool = nn.MaxPool2d(2)
        self.encoder = nn.ModuleList()
        cin = in_chans
        for w in widths:
            self.encoder.append(_double_conv(cin, w, pad, batch_norm))
            cin = w
        self.upconvs = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.upconvs.append(nn.ConvTranspose2d(2 * w, w, 2, stride=2))
            self.decoder.append(_double_conv(2 * w, w, pad, batch_norm))
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        self.num_classes = num_classes
        # The paper: Gaussian weights with std sqrt(2 / N), N = inputs of one neuron (He init).
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unet_output_size(x.shape[-2], self.padding)
        unet_output_size(x.shape[-1], self.padding)
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, block in zip(self.upconvs, self.decoder, strict=True):
            x = up(x)
            skip = _center_crop(skips.pop(), x.shape[-2], x.shape[-1])
            x = block(torch.cat([skip, x], dim=1))
        return self.head(x)


@register_model(family="unet", task="segmentation", default_input_size=(1, 572, 572), paper=PAPER)
def unet(
    num_classes: int = 2,
    in_chans: int = 1,
    padding: str = "valid",
    base_channels: int = 64,
    batch_norm: bool = False,
) -> UNet:
    """U-Net (31.0M parameters): 572x572 -> 388x388 with ``padding="valid"``."""
    return UNet(num_classes, in_chans, padding, base_channels, batch_norm)
