"""Pooling layers: max (keeps the argmax, Caffe's ``max_idx``), mean, adaptive/global mean."""

from __future__ import annotations

import numpy as np

from cnnlab.core.validate import int_pair
from cnnlab.scratch.functional.pool import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from cnnlab.scratch.functional.window import Window2d
from cnnlab.scratch.module import Module, check_input


def _pool_window(
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None,
    padding: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
) -> Window2d:
    kernel = int_pair("kernel_size", kernel_size)
    stride_ = kernel if stride is None else int_pair("stride", stride)
    pad = int_pair("padding", padding, minimum=0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"pooling padding must be at most half the kernel size (floor), got padding "
            f"{padding!r} for kernel_size {kernel_size!r}"
        )
    return Window2d.symmetric(kernel, stride_, pad, int_pair("dilation", dilation))


class MaxPool2d(Module):
    """Max pooling; padding counts as -inf; ``self.indices`` holds torch's ``return_indices``.

    Math:
        forward: y = max over the window, remembering where (first maximum wins)
        backward: dx[max_idx] += dy, every other input pixel of the window gets 0

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - d(k-1) - 1) / s) + 1;
        ``indices`` (N, C, H_out, W_out), flat over H*W per (n, c)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
    ) -> None:
        super().__init__()
        self.window = _pool_window(kernel_size, stride, padding, dilation)
        self.indices: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), None)
        out, self.indices, cache = max_pool2d_forward(x, self.window)
        return self._keep(cache, out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return max_pool2d_backward(dout, self._take_cache(dout))

    def extra_repr(self) -> str:
        w = self.window
        pad = w.padding[::2]
        return f"kernel_size={w.kernel}, stride={w.stride}, padding={pad}, dilation={w.dilation}"


class AvgPool2d(Module):
    """Mean pooling with zero padding; divides by kH*kW (torch's ``count_include_pad=True``).

    Math:
        forward: y = (1 / D) sum over the window;  backward: each pixel gets dy / D
        (the gradient sum is preserved, except for the shares of padded positions when they
        count in D: 100/9 instead of 16 for k3 s1 p1 on a 4x4 input with dy = 1)

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - k) / s) + 1
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.window = _pool_window(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), None)
        out, cache = avg_pool2d_forward(x, self.window, self.count_include_pad)
        return self._keep(cache, out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return avg_pool2d_backward(dout, self._take_cache(dout))

    def extra_repr(self) -> str:
        w = self.window
        return f"kernel_size={w.kernel}, stride={w.stride}, padding={w.padding[::2]}"


class AdaptiveAvgPool2d(Module):
    """Mean pooling to a fixed output size; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Math:
        bin i covers rows [floor(i H / H_out), ceil((i + 1) H / H_out)); Y = A_h X A_w^T

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out)
    """

    def __init__(self, output_size: int | tuple[int, int]) -> None:
        super().__init__()
        self.output_size = int_pair("output_size", output_size)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), None)
        out, cache = adaptive_avg_pool2d_forward(x, self.output_size)
        return self._keep(cache, out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return adaptive_avg_pool2d_backward(dout, self._take_cache(dout))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
