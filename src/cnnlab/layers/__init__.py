"""PyTorch building blocks the model zoo shares.

* :class:`ConvNormAct` -- convolution, optional batch norm, optional activation (an
  ``nn.Sequential``: ``nn.Sequential(*ConvNormAct(...))`` splices it into torchvision's layouts).
* :class:`DepthwiseSeparableConv` -- MobileNet's depthwise 3x3 then pointwise 1x1.
* :func:`channel_shuffle` / :class:`ChannelShuffle` -- ShuffleNet's group-mixing permutation.
* :class:`SqueezeExcite` -- SENet's channel recalibration.
"""

from cnnlab.layers.channel_shuffle import ChannelShuffle, channel_shuffle
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.layers.depthwise_separable import DepthwiseSeparableConv
from cnnlab.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "ChannelShuffle",
    "ConvNormAct",
    "DepthwiseSeparableConv",
    "SqueezeExcite",
    "channel_shuffle",
]
