"""The one window primitive: im2col and col2im via stride tricks.

Convolution, transposed convolution, max pooling and mean pooling all look at the same thing: for
every output position ``(i, j)`` and every kernel offset ``(p, q)`` the input pixel

    x[n, c, i * stride_h + p * dilation_h - pad_top, j * stride_w + q * dilation_w - pad_left]

:func:`im2col` lays those pixels out as an array ``(N, C, kH, kW, H_out, W_out)`` built from a
strided *view* of the padded input (``numpy.lib.stride_tricks.as_strided``: no Python loop, one
copy). :func:`col2im` is its adjoint: it adds every column entry back onto the pixel it came from,
by strided accumulation over the ``kH * kW`` kernel offsets (never a loop over pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]


@dataclass(frozen=True)
class Window2d:
    """Where the windows sit: kernel, stride, padding (top, bottom, left, right) and dilation.

    Math:
        H_out = floor((H + pad_top + pad_bottom - dilation_h * (kH - 1) - 1) / stride_h) + 1
    """

    kernel: Pair
    stride: Pair
    padding: tuple[int, int, int, int]
    dilation: Pair = (1, 1)

    @classmethod
    def symmetric(cls, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Window2d:
        """A window with the same padding on both sides of each axis (torch's int padding)."""
        return cls(kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation)

    def output_size(self, height: int, width: int) -> Pair:
        """The output size for an ``height x width`` input (may be <= 0 for a bad config)."""
        top, bottom, left, right = self.padding
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
        wo = (width + left + right - dw * (kw - 1) - 1) // sw + 1
        return ho, wo

    def checked_output_size(self, height: int, width: int) -> Pair:
        """:meth:`output_size`, raising ``ValueError`` when it is not positive."""
        ho, wo = self.output_size(height, width)
        if ho <= 0 or wo <= 0 or height + self.padding[0] + self.padding[1] <= 0:
            raise ValueError(
                f"input of size {height}x{width} gives output size {ho}x{wo} with kernel "
                f"{self.kernel}, stride {self.stride}, padding {self.padding} (top, bottom, "
                f"left, right), dilation {self.dilation}; the output must be at least 1x1"
            )
        return ho, wo


def pad2d(x: np.ndarray, padding: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` by (top, bottom, left, right) with a constant."""
    top, bottom, left, right = padding
    if not any(padding):
        return x
    out = np.full(
        (*x.shape[:-2], x.shape[-2] + top + bottom, x.shape[-1] + left + right),
        value,
        dtype=x.dtype,
    )
    out[..., top : top + x.shape[-2], left : left + x.shape[-1]] = x
    return out


def windows(xp: np.ndarray, window: Window2d, out_size: Pair) -> np.ndarray:
    """A read-only strided view ``(N, C, kH, kW, H_out, W_out)`` of an already padded input.

    No data is copied: entry ``[n, c, p, q, i, j]`` is
    ``xp[n, c, i * stride_h + p * dilation_h, j * stride_w + q * dilation_w]``.
    """
    n, c = xp.shape[:2]
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    ho, wo = out_size
    if (ho - 1) * sh + (kh - 1) * dh >= xp.shape[2] or (wo - 1) * sw + (kw - 1) * dw >= xp.shape[3]:
        raise ValueError(f"windows of {window} with output {out_size} overrun input {xp.shape}")
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(
        xp,
        shape=(n, c, kh, kw, ho, wo),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
        writeable=False,
    )


def im2col(
    x: np.ndarray,
    window: Window2d,
    out_size: Pair | None = None,
    pad_value: float = 0.0,
    batch_last: bool = False,
) -> np.ndarray:
    """Columns of ``x`` (N, C, H, W): one contiguous copy of the strided window view.

    Args:
        x: input, NCHW.
        window: kernel, stride, padding and dilation.
        out_size: output positions to take; default :meth:`Window2d.checked_output_size`.
            A transposed convolution asks for fewer positions than fit.
        pad_value: value of the padding (0 for convolution and mean pooling, -inf for max).
        batch_last: lay the copy out as (C, kH, kW, N, H_out, W_out), so that the columns of
            all samples form one matrix ``(C*kH*kW, N*H_out*W_out)`` for a single GEMM.

    Shape:
        x: (N, C, H, W) -> (N, C, kH, kW, H_out, W_out), or (C, kH, kW, N, H_out, W_out)
    """
    if out_size is None:
        out_size = window.checked_output_size(x.shape[2], x.shape[3])
    view = windows(pad2d(x, window.padding, pad_value), window, out_size)
    if batch_last:
        view = view.transpose(1, 2, 3, 0, 4, 5)
    return np.ascontiguousarray(view)


def col2im(cols: np.ndarray, input_size: Pair, window: Window2d) -> np.ndarray:
    """The adjoint of :func:`im2col`: sum every column entry back onto its input pixel.

    Pixels seen by several windows receive the sum; padding is cut off; pixels no window saw
    get 0. The loop runs over the kH * kW kernel offsets, each a strided slice addition.

    ``cols`` may be any strided view, e.g. a batch-last array transposed back with
    ``cols.transpose(3, 0, 1, 2, 4, 5)``.

    Shape:
        cols: (N, C, kH, kW, H_out, W_out) -> (N, C, H, W) with ``(H, W) = input_size``
    """
    n, c, kh, kw, ho, wo = cols.shape
    top, bottom, left, right = window.padding
    (sh, sw), (dh, dw) = window.stride, window.dilation
    height, width = input_size
    out = np.zeros((n, c, height + top + bottom, width + left + right), dtype=cols.dtype)
    for p in range(kh):
        h0 = p * dh
        for q in range(kw):
            w0 = q * dw
            out[:, :, h0 : h0 + sh * (ho - 1) + 1 : sh, w0 : w0 + sw * (wo - 1) + 1 : sw] += cols[
                :, :, p, q
            ]
    return out[:, :, top : top + height, left : left + width]
