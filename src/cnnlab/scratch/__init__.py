"""The NumPy tier: every layer of the notes with its forward and backward pass written out.

Imports NumPy only, never torch (a test checks); PyTorch is the oracle in the tests.
"""

from cnnlab.scratch import functional, init, quant
from cnnlab.scratch.activation import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    Mish,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from cnnlab.scratch.batchnorm import BatchNorm1d, BatchNorm2d
from cnnlab.scratch.boxes import nms, roi_pool
from cnnlab.scratch.container import Residual, Sequential
from cnnlab.scratch.conv import Conv2d, ConvTranspose2d
from cnnlab.scratch.dropout import Dropout
from cnnlab.scratch.gradcheck import GradcheckReport, gradcheck
from cnnlab.scratch.linear import Flatten, Linear
from cnnlab.scratch.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss
from cnnlab.scratch.module import Module
from cnnlab.scratch.norm import GroupNorm, InstanceNorm2d, LayerNorm
from cnnlab.scratch.parameter import Parameter
from cnnlab.scratch.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from cnnlab.scratch.weightnorm import weight_norm

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GradcheckReport",
    "GroupNorm",
    "InstanceNorm2d",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Mish",
    "Module",
    "MultiMarginLoss",
    "PReLU",
    "Parameter",
    "ReLU",
    "Residual",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "functional",
    "gradcheck",
    "init",
    "nms",
    "quant",
    "roi_pool",
    "weight_norm",
]
