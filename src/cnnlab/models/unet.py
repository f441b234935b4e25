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

:func:`predict_tiled` is the paper's overlap-tile strategy (its Figure 2): the image is mirrored
at its borders by the network's margin (92 pixels for valid convolutions) and predicted tile by
tile, each output tile seeing its whole context. ``unet_small`` (16 base channels, same padding,
batch norm) is the default model of ``cnnlab train --task segmentation``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
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


@register_model(family="unet", task="segmentation", default_input_size=(1, 64, 64), paper=PAPER)
def unet_small(
    num_classes: int = 2,
    in_chans: int = 1,
    padding: str = "same",
    base_channels: int = 16,
    batch_norm: bool = True,
) -> UNet:
    """A small U-Net (16 base channels, 1.9M parameters, same padding, batch norm) for the
    64x64 digit scenes: the default model of ``cnnlab train --task segmentation``."""
    return UNet(num_classes, in_chans, padding, base_channels, batch_norm)


def unet_margin(padding: str = "valid") -> int:
    """Pixels the network loses on each side: 92 for valid convolutions (572 -> 388), 0 for same.

    Example:
        >>> unet_margin("valid")
        92
    """
    probe = {"valid": 572, "same": 64}[padding] if padding in PADDINGS else 572
    return (probe - unet_output_size(probe, padding)) // 2


def mirror_pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """Reflect-pad the last two dimensions; pads longer than the image mirror it repeatedly.

    The same extension as ``numpy.pad(mode="reflect")``: the edge pixel is not repeated, and a pad
    wider than the image reflects the reflection (period ``2 (n - 1)``); a side of one pixel
    repeats it.

    Shape:
        x (..., H, W) -> (..., top + H + bottom, left + W + right)
    """
    pads = [left, right, top, bottom]
    if min(pads) < 0:
        raise ValueError(
            f"pads must be >= 0, got top={top} bottom={bottom} left={left} right={right}"
        )
    lead = x.shape[:-2]
    x = x.reshape(-1, 1, *x.shape[-2:])
    while any(pads):
        h, w = x.shape[-2:]
        step = [min(p, n - 1) for p, n in zip(pads, (w, w, h, h), strict=True)]
        mode = "reflect"
        if not any(step):  # a side of one pixel: nothing to reflect, repeat it
            step, mode = pads, "replicate"
        x = F.pad(x, step, mode=mode)
        pads = [p - s for p, s in zip(pads, step, strict=True)]
    x = x.reshape(*lead, *x.shape[-2:])
    return x


def predict_tiled(model: nn.Module, image: torch.Tensor, out_tile: int) -> torch.Tensor:
    """U-Net's overlap-tile prediction of an image of any size (the paper's Figure 2).

    The image is mirror-padded (:func:`mirror_pad`) by the network's margin
    (:func:`unet_margin`) on every side, plus up to a whole tile at the bottom and right so
    that ``out_tile`` divides it; then each ``out_tile`` x ``out_tile`` block of the output is
    the model's output on the ``out_tile + 2 * margin`` window of the padded image around it, so
    every predicted pixel sees its full context (mirrored where the image ends). The model runs
    as it is (call ``model.eval()`` first) without gradients.

    Args:
        model: a :class:`UNet` (valid or same padding); a dict output's ``"out"`` is used.
        image: ``(C, H, W)`` or ``(N, C, H, W)``, any ``H, W >= 1``.
        out_tile: side of the output tiles: ``out_tile + 2 * margin`` must be an input side the
            network takes (valid: ``out_tile = 16k - 60``, e.g. 388 or 36; same: a multiple of 16).

    Returns:
        the scores ``(num_classes, H, W)`` or ``(N, num_classes, H, W)``: the input's size.

    Shape:
        image (N, C, H, W) -> (N, num_classes, H, W)
    """
    padding = getattr(model, "padding", None)
    if padding not in PADDINGS:
        raise ValueError(
            f"predict_tiled needs a U-Net (a model with padding 'valid' or 'same'), got "
            f"{type(model).__name__}"
        )
    if image.dim() not in (3, 4) or min(image.shape[-2:]) < 1:
        raise ValueError(f"image must be (C, H, W) or (N, C, H, W), got {tuple(image.shape)}")
    margin = unet_margin(padding)
    tile = int(out_tile)
    in_tile = tile + 2 * margin
    try:
        fits = tile > 0 and unet_output_size(in_tile, padding) == tile
    except ValueError:
        fits = False
    if not fits:
        allowed = "16k - 60 with k >= 4 (4, 20, 36, ..., 388)" if margin else "a multiple of 16"
        raise ValueError(f"out_tile must be {allowed} for a {padding} U-Net, got {out_tile!r}")
    x = image[None] if image.dim() == 3 else image
    h, w = x.shape[-2:]
    rows, cols = math.ceil(h / tile), math.ceil(w / tile)
    padded = mirror_pad(x, margin, rows * tile - h + margin, margin, cols * tile - w + margin)
    out = None
    with torch.no_grad():
        for i in range(rows):
            for j in range(cols):
                window = padded[..., i * tile : i * tile + in_tile, j * tile : j * tile + in_tile]
                y = model(window)
                y = y["out"] if isinstance(y, dict) else y
                if out is None:
                    out = y.new_empty((x.shape[0], y.shape[1], rows * tile, cols * tile))
                out[..., i * tile : (i + 1) * tile, j * tile : (j + 1) * tile] = y
    assert out is not None
    out = out[..., :h, :w]
    return out[0] if image.dim() == 3 else out
