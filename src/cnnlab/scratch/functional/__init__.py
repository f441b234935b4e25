"""The functional core: forward/backward pairs with named-tuple caches.

``window`` holds the one window primitive (im2col/col2im via stride tricks) that ``conv`` and
``pool`` share; ``naive`` keeps loop versions of convolution and max pooling as references.
"""

from cnnlab.scratch.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from cnnlab.scratch.functional.pool import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from cnnlab.scratch.functional.window import Window2d, col2im, im2col

__all__ = [
    "Window2d",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
    "im2col",
    "max_pool2d_backward",
    "max_pool2d_forward",
]
