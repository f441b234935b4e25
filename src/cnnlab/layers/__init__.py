"""PyTorch building blocks the model zoo shares.

* :class:`ConvNormAct` -- convolution, optional norm, optional activation (torchvision's
  ``Conv2dNormActivation``; ``nn.Sequential(*ConvNormAct(...))`` splices it into flat layouts).
* :class:`DepthwiseSeparableConv` -- MobileNet's depthwise 3x3 then pointwise 1x1.
* :func:`channel_shuffle` / :class:`ChannelShuffle` -- ShuffleNet's group-mixing permutation.
* :class:`SqueezeExcite` -- SENet's channel recalibration (torchvision's ``SqueezeExcitation``),
  with MobileNet v3's hard-sigmoid gate and EfficientNet's SiLU as options.
"""

from cnnlab.layers.activations import ACTIVATIONS, make_activation
from cnnlab.layers.channel_shuffle import ChannelShuffle, channel_shuffle
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.layers.depthwise_separable import DepthwiseSeparableConv
from cnnlab.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "ACTIVATIONS",
    "ChannelShuffle",
    "ConvNormAct",
    "DepthwiseSeparableConv",
    "SqueezeExcite",
    "channel_shuffle",
    "make_activation",
]
