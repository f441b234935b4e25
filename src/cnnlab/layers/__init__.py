"""PyTorch building blocks the model zoo shares.

* :class:`ConvNormAct` -- convolution, optional norm, optional activation (torchvision's
  ``Conv2dNormActivation``; ``nn.Sequential(*ConvNormAct(...))`` splices it into flat layouts);
  :class:`ConvBnAct` -- the same unit under timm's ``conv``/``bn`` names.
* :class:`DepthwiseSeparableConv` -- MobileNet's depthwise 3x3 then pointwise 1x1.
* :func:`channel_shuffle` / :class:`ChannelShuffle` -- ShuffleNet's group-mixing permutation.
* :class:`SqueezeExcite` -- SENet's channel recalibration (torchvision's ``SqueezeExcitation``),
  with MobileNet v3's hard-sigmoid gate and EfficientNet's SiLU as options.
* :class:`InvertedResidual` -- MobileNet v2/v3's and EfficientNet's block (linear bottleneck).
* :class:`Inception`, :class:`BasicConv2d` -- GoogLeNet's module and the Inception conv unit.
* :class:`DenseLayer`, :class:`DenseBlock`, :class:`Transition` -- DenseNet's blocks.
* :class:`SelectiveKernel` -- SKNet's attention over kernel sizes.
* :class:`GlobalContext` -- GCNet's global context block.
* :class:`OctaveConv`, :class:`OctaveConvBnAct` -- convolutions on high/low-frequency pairs.
* :class:`InterleavedGroupConv`, :class:`IGCV3Block` -- interleaved group convolutions.
* :class:`ASPP` -- DeepLab's atrous spatial pyramid pooling.
* :func:`make_divisible` -- the mobile models' channel rounding.
"""

from cnnlab.layers.activations import ACTIVATIONS, make_activation
from cnnlab.layers.aspp import ASPP
from cnnlab.layers.channel_shuffle import ChannelShuffle, channel_shuffle
from cnnlab.layers.conv_norm_act import ConvBnAct, ConvNormAct
from cnnlab.layers.dense import DenseBlock, DenseLayer, Transition
from cnnlab.layers.depthwise_separable import DepthwiseSeparableConv
from cnnlab.layers.global_context import GlobalContext
from cnnlab.layers.inception import BasicConv2d, Inception
from cnnlab.layers.interleaved_group_conv import IGCV3Block, InterleavedGroupConv
from cnnlab.layers.inverted_residual import InvertedResidual
from cnnlab.layers.make_divisible import make_divisible
from cnnlab.layers.octave_conv import OctaveConv, OctaveConvBnAct
from cnnlab.layers.selective_kernel import SelectiveKernel
from cnnlab.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "ACTIVATIONS",
    "ASPP",
    "BasicConv2d",
    "ChannelShuffle",
    "ConvBnAct",
    "ConvNormAct",
    "DenseBlock",
    "DenseLayer",
    "DepthwiseSeparableConv",
    "GlobalContext",
    "IGCV3Block",
    "Inception",
    "InterleavedGroupConv",
    "InvertedResidual",
    "OctaveConv",
    "OctaveConvBnAct",
    "SelectiveKernel",
    "SqueezeExcite",
    "Transition",
    "channel_shuffle",
    "make_activation",
    "make_divisible",
]
