"""Max, mean and adaptive mean pooling, forward and backward.

Max and mean pooling reuse the window primitive (:func:`im2col` / :func:`col2im`). The notes'
rule for both: the gradient sum is preserved. Mean pooling splits each output gradient equally
over its window; max pooling remembers where the maximum was (Caffe's ``max_idx``) and routes
the whole gradient there, every other pixel gets 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.scratch.functional.window import Pair, Window2d, col2im, im2col


class MaxPoolCache(NamedTuple):
    """Which kernel offset held the maximum of each window."""

    argmax: np.ndarray  # (N, C, H_out, W_out), in 0 .. kH*kW - 1 (row-major over the window)
    input_size: Pair
    window: Window2d


def max_pool2d_forward(
    x: np.ndarray, window: Window2d
) -> tuple[np.ndarray, np.ndarray, MaxPoolCache]:
    """Max pooling with -inf padding, as ``torch.nn.functional.max_pool2d(return_indices=True)``.

    Math:
        y[n, c, i, j] = max_{p, q} x_pad[n, c, i*s_h + p*d_h, j*s_w + q*d_w]
        index = (i*s_h + p*d_h - pad_top) * W + (j*s_w + q*d_w - pad_left) of the first maximum

    Shape:
        x: (N, C, H, W) -> y (N, C, H_out, W_out), indices (N, C, H_out, W_out) int64, flat over
        H*W per (n, c) like torch's ``return_indices=True``.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    ho, wo = window.checked_output_size(h, w)
    cols = im2col(x, window, (ho, wo), pad_value=-np.inf).reshape(n, c, kh * kw, ho, wo)
    argmax = cols.argmax(axis=2)  # np.argmax returns the first maximum, as torch does
    out = np.take_along_axis(cols, argmax[:, :, None], axis=2)[:, :, 0]
    p, q = np.divmod(argmax, kw)
    rows = np.arange(ho).reshape(-1, 1) * sh - window.padding[0] + p * dh
    columns = np.arange(wo) * sw - window.padding[2] + q * dw
    indices = (rows * w + columns).astype(np.int64)
    return out, indices, MaxPoolCache(argmax, (h, w), window)


def max_pool2d_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    """Route each output gradient to the input pixel that held the maximum.

    Math:
        dx[n, c, index] += dy[n, c, i, j]   (every other pixel of the window gets 0)

    Shape:
        dout: (N, C, H_out, W_out) -> (N, C, H, W)
    """
    argmax, input_size, window = cache
    kh, kw = window.kernel
    n, c, ho, wo = dout.shape
    offsets = np.arange(kh * kw).reshape(1, 1, -1, 1, 1)
    dcols = np.where(argmax[:, :, None] == offsets, dout[:, :, None], 0.0).astype(dout.dtype)
    return col2im(dcols.reshape(n, c, kh, kw, ho, wo), input_size, window)


class AvgPoolCache(NamedTuple):
    """The divisor of each window (kH*kW, or the count of real pixels)."""

    divisor: np.ndarray  # broadcastable to (N, C, H_out, W_out)
    input_size: Pair
    window: Window2d


def _real_pixel_counts(
    size: int, out: int, kernel: int, stride: int, pad_before: int
) -> np.ndarray:
    starts = np.arange(out) * stride - pad_before
    taps = starts[:, None] + np.arange(kernel)
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def avg_pool2d_forward(
    x: np.ndarray, window: Window2d, count_include_pad: bool = True
) -> tuple[np.ndarray, AvgPoolCache]:
    """Mean pooling with zero padding, as ``torch.nn.functional.avg_pool2d``.

    Math:
        y[n, c, i, j] = (1 / D) sum_{p, q} x_pad[n, c, i*s_h + p, j*s_w + q]
        D = kH * kW with ``count_include_pad`` (torch's default), else the real pixels seen.

    Shape:
        x: (N, C, H, W) -> (N, C, H_out, W_out)
    """
    _, _, h, w = x.shape
    (kh, kw), (sh, sw) = window.kernel, window.stride
    ho, wo = window.checked_output_size(h, w)
    if count_include_pad:
        divisor = np.array(float(kh * kw), dtype=x.dtype)
    else:
        rows = _real_pixel_counts(h, ho, kh, sh, window.padding[0])
        columns = _real_pixel_counts(w, wo, kw, sw, window.padding[2])
        divisor = (rows[:, None] * columns[None, :]).astype(x.dtype)
    out = im2col(x, window, (ho, wo)).sum(axis=(2, 3)) / divisor
    return out, AvgPoolCache(divisor, (h, w), window)


def avg_pool2d_backward(dout: np.ndarray, cache: AvgPoolCache) -> np.ndarray:
    """Split each output gradient equally over the window it averaged.

    Math:
        dx[n, c, i*s_h + p, j*s_w + q] += dy[n, c, i, j] / D  for every (p, q) in the window

    Shape:
        dout: (N, C, H_out, W_out) -> (N, C, H, W)
    """
    divisor, input_size, window = cache
    kh, kw = window.kernel
    share = dout / divisor
    n, c, ho, wo = share.shape
    dcols = np.broadcast_to(share[:, :, None, None], (n, c, kh, kw, ho, wo))
    return col2im(dcols, input_size, window)


def adaptive_bins(size: int, out: int) -> np.ndarray:
    """Averaging matrix ``(out, size)`` of torch's adaptive pooling bins.

    Bin ``i`` covers ``[floor(i * size / out), ceil((i + 1) * size / out))``; bins may overlap.
    """
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    pixels = np.arange(size)
    inside = (pixels >= start[:, None]) & (pixels < end[:, None])
    return inside / (end - start)[:, None]


class AdaptiveAvgPoolCache(NamedTuple):
    """The two separable averaging matrices."""

    rows: np.ndarray  # (H_out, H)
    columns: np.ndarray  # (W_out, W)


def adaptive_avg_pool2d_forward(
    x: np.ndarray, output_size: Pair
) -> tuple[np.ndarray, AdaptiveAvgPoolCache]:
    """Adaptive mean pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

    A rectangle's mean is a row mean of column means, so the pooling is two small matrix
    products; ``output_size=(1, 1)`` is global average pooling.

    Math:
        Y[n, c] = A_h @ X[n, c] @ A_w^T,  A_h[i, h] = 1 / |bin_i| for h in bin_i

    Shape:
        x: (N, C, H, W) -> (N, C, H_out, W_out)
    """
    rows = adaptive_bins(x.shape[2], output_size[0]).astype(x.dtype)
    columns = adaptive_bins(x.shape[3], output_size[1]).astype(x.dtype)
    out = np.matmul(np.matmul(rows, x), columns.T)
    return out, AdaptiveAvgPoolCache(rows, columns)


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache: AdaptiveAvgPoolCache) -> np.ndarray:
    """``dX = A_h^T @ dY @ A_w``.

    Shape:
        dout: (N, C, H_out, W_out) -> (N, C, H, W)
    """
    return np.matmul(np.matmul(cache.rows.T, dout), cache.columns)
