"""The inverted residual block with a linear bottleneck (Sandler et al., "MobileNetV2", CVPR 2018).

A ResNet bottleneck is wide -> narrow -> wide; MobileNet v2's block is the opposite, narrow ->
wide -> narrow: a 1x1 convolution *expands* the channels t times (t = 6), a 3x3 depthwise
convolution filters the wide representation cheaply, and a 1x1 convolution *projects* back to a
few channels. Two choices answer the notes' questions:

* **Linear bottleneck.** The projection has no ReLU. The narrow output is a low-dimensional
  embedding, and a ReLU there would zero part of it for good (the paper's Fig. 1: ReLU on a
  low-dimensional manifold loses information that it keeps in high dimensions).
* **Why the shortcut?** As in ResNet (where the residual connection comes from: He et al. 2016),
  it eases gradient flow through deep stacks; here it joins the *narrow* ends, so it costs little
  memory. It is used when the block keeps its resolution and width (stride 1, C_in = C_out).

MobileNet v3 (Howard et al. 2019) puts a squeeze-and-excitation block (hard-sigmoid gate) after
the depthwise convolution and uses h-swish in the later blocks; EfficientNet's MBConv is the same
block with SiLU, SE and stochastic depth on the residual.

Layouts (``layout``), for torchvision's parameter names: ``"v2"`` -- ``conv`` = [expand, depthwise,
projection conv, projection BN] (torchvision's MobileNetV2); ``"v3"`` -- ``block`` = [expand,
depthwise, SE, projection] with the projection a :class:`ConvNormAct` (torchvision's MobileNetV3
and EfficientNet).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchvision.ops import StochasticDepth

from cnnlab.core.validate import one_of
from cnnlab.layers.conv_norm_act import ConvNormAct

LAYOUTS = {"v2": "conv", "v3": "block"}  # layout -> name of the Sequential holding the layers


class InvertedResidual(nn.Module):
    """1x1 expand -> kxk depthwise -> [SE] -> 1x1 linear projection, plus the shortcut.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: stride of the depthwise convolution (1 or 2).
        hidden_channels: expanded width (``in_channels * t``); no expansion layer if equal to
            ``in_channels``.
        kernel_size: depthwise kernel (3 or 5).
        dilation: depthwise dilation; a dilated block keeps stride 1 (DeepLab's backbones).
        act: activation after the expansion and the depthwise convolution.
        se_layer: factory ``channels -> module`` for the attention after the depthwise
            convolution, or ``None``.
        norm_layer: norm constructor (default ``nn.BatchNorm2d``).
        drop_path: stochastic-depth probability of the residual branch (EfficientNet).
        layout: ``"v2"`` or ``"v3"`` (parameter names, see the module docstring).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        hidden_channels: int,
        kernel_size: int = 3,
        dilation: int = 1,
        act: str = "relu6",
        se_layer: Callable[[int], nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
        drop_path: float = 0.0,
        layout: str = "v3",
    ) -> None:
        super().__init__()
        one_of("stride", stride, (1, 2))
        one_of("layout", layout, LAYOUTS)
        self.use_res_connect = stride == 1 and in_channels == out_channels
        norm = {"norm_layer": norm_layer}
        layers: list[nn.Module] = []
        if hidden_channels != in_channels:
            layers.append(ConvNormAct(in_channels, hidden_channels, 1, act=act, **norm))
        layers.append(
            ConvNormAct(
                hidden_channels,
                hidden_channels,
                kernel_size,
                stride=1 if dilation > 1 else stride,
                dilation=dilation,
                groups=hidden_channels,
                act=act,
                **norm,
            )
        )
        if se_layer is not None:
            layers.append(se_layer(hidden_channels))
        projection = ConvNormAct(hidden_channels, out_channels, 1, act=None, **norm)  # linear
        layers.extend(projection if layout == "v2" else [projection])
        self._body = LAYOUTS[layout]
        self.add_module(self._body, nn.Sequential(*layers))
        self.stochastic_depth = StochasticDepth(drop_path, "row")
        self.out_channels = out_channels
        self.stride = stride  # nominal: a dilated block reports 2 and keeps the resolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.get_submodule(self._body)(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out
