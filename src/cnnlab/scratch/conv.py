"""Convolution layers: ``Conv2d`` (group, depthwise, dilated) and ``ConvTranspose2d``."""

from __future__ import annotations

import numpy as np

from cnnlab.core.validate import int_pair, positive_int
from cnnlab.scratch.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from cnnlab.scratch.functional.window import Pair, Window2d
from cnnlab.scratch.init import RngLike, default_layer_init_
from cnnlab.scratch.module import Module, check_input
from cnnlab.scratch.parameter import Parameter


def _check_groups(in_channels: int, out_channels: int, groups: int) -> int:
    groups = positive_int("groups", groups)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{name}={channels} must be divisible by groups={groups}")
    return groups


def _conv_padding(
    padding: int | tuple[int, int] | str, kernel: Pair, stride: Pair, dilation: Pair
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from torch's ``padding``: int, pair, ``'valid'`` or ``'same'``."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = int_pair("padding", padding, minimum=0)
    return (ph, ph, pw, pw)


class Conv2d(Module):
    """2-D convolution with torch's arguments, shapes and default initialisation.

    ``groups=in_channels`` gives a depthwise convolution (one filter per channel).

    Math:
        forward:  Y = W @ im2col(X) + b (one GEMM per sample and group)
        backward: dW = sum_n dY @ im2col(X)^T,  dX = col2im(W^T @ dY),  db = sum dY

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out),
        H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1; weight (C_out, C_in/groups, kH, kW)

    Args:
        rng: Generator or seed for the initial weights (torch uses its global generator).
        dtype: dtype of the parameters (float64 by default, for exact comparisons).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        rng: RngLike = None,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.groups = _check_groups(self.in_channels, self.out_channels, groups)
        kernel = int_pair("kernel_size", kernel_size)
        stride_, dilation_ = int_pair("stride", stride), int_pair("dilation", dilation)
        self.window = Window2d(
            kernel, stride_, _conv_padding(padding, kernel, stride_, dilation_), dilation_
        )
        generator = np.random.default_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups, *kernel)
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        default_layer_init_(self.weight, self.bias, generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), self.in_channels)
        bias = None if self.bias is None else self.bias.data
        out, cache = conv2d_forward(x, self.weight.data, bias, self.window, self.groups)
        return self._keep(cache, out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dweight, dbias = conv2d_backward(dout, self._take_cache(dout))
        self.weight.accumulate(dweight)
        if self.bias is not None:
            self.bias.accumulate(dbias)
        return dx

    def extra_repr(self) -> str:
        w = self.window
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={w.kernel}, stride={w.stride}, "
            f"padding={w.padding}, dilation={w.dilation}, groups={self.groups}, "
            f"bias={self.bias is not None}"
        )


class ConvTranspose2d(Module):
    """Transposed ("de-")convolution: the input-gradient of a convolution, as a layer.

    It restores the spatial *shape* a strided convolution removed, not its values.

    Math:
        forward:  Y = col2im(W^T @ X) + b;  backward: dX = W @ im2col(dY)

    Shape:
        input (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = (H - 1) s - 2 p + d (k - 1) + output_padding + 1;
        weight (C_in, C_out/groups, kH, kW)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        *,
        rng: RngLike = None,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.groups = _check_groups(self.in_channels, self.out_channels, groups)
        kernel = int_pair("kernel_size", kernel_size)
        stride_, dilation_ = int_pair("stride", stride), int_pair("dilation", dilation)
        pad = int_pair("padding", padding, minimum=0)
        self.output_padding = int_pair("output_padding", output_padding, minimum=0)
        for op, s, d in zip(self.output_padding, stride_, dilation_, strict=True):
            if op >= s and op >= d:
                raise ValueError(
                    f"output_padding {self.output_padding} must be smaller than either stride "
                    f"{stride_} or dilation {dilation_}"
                )
        self.window = Window2d.symmetric(kernel, stride_, pad, dilation_)
        generator = np.random.default_rng(rng)
        shape = (self.in_channels, self.out_channels // self.groups, *kernel)
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        default_layer_init_(self.weight, self.bias, generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), self.in_channels)
        bias = None if self.bias is None else self.bias.data
        out, cache = conv_transpose2d_forward(
            x, self.weight.data, bias, self.window, self.output_padding, self.groups
        )
        return self._keep(cache, out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dweight, dbias = conv_transpose2d_backward(dout, self._take_cache(dout))
        self.weight.accumulate(dweight)
        if self.bias is not None:
            self.bias.accumulate(dbias)
        return dx

    def extra_repr(self) -> str:
        w = self.window
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={w.kernel}, stride={w.stride}, "
            f"padding={w.padding[::2]}, output_padding={self.output_padding}, "
            f"groups={self.groups}, dilation={w.dilation}, bias={self.bias is not None}"
        )
