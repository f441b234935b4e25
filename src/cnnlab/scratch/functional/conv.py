"""Convolution and transposed convolution as BLAS matrix products over im2col columns.

With groups ``G``, input channels split into ``G`` blocks of ``C_in / G`` and output channels
into ``G`` blocks of ``C_out / G``; block ``g`` of the output only sees block ``g`` of the input.
The columns of all samples are laid out side by side (``batch_last``), so each product below is
one ``numpy.matmul`` per group over all ``N * H_out * W_out`` positions: one large GEMM for a
dense convolution, never a Python loop over pixels or samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.scratch.functional.window import Pair, Window2d, col2im, im2col


def _batch_first(cols: np.ndarray, n: int, c: int, kernel: Pair, out: Pair) -> np.ndarray:
    """View columns (G, Kg, N*L) as (N, C, kH, kW, H_out, W_out) for :func:`col2im`."""
    return cols.reshape(c, *kernel, n, *out).transpose(3, 0, 1, 2, 4, 5)


def _to_nchw(y: np.ndarray, n: int, c: int, size: Pair) -> np.ndarray:
    """(G, C/G, N*H*W) -> contiguous (N, C, H, W)."""
    return np.ascontiguousarray(y.reshape(c, n, *size).transpose(1, 0, 2, 3))


def _from_nchw(x: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> contiguous (G, C/G, N*H*W)."""
    n, c, h, w = x.shape
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(groups, c // groups, n * h * w)


class ConvCache(NamedTuple):
    """What the convolution backward needs from its forward."""

    cols: np.ndarray  # (G, C_in/G * kH * kW, N * H_out * W_out)
    weight: np.ndarray  # (C_out, C_in/G, kH, kW)
    input_size: Pair
    out_size: Pair
    window: Window2d
    groups: int
    has_bias: bool


def conv2d_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    window: Window2d,
    groups: int = 1,
) -> tuple[np.ndarray, ConvCache]:
    """Cross-correlation, as ``torch.nn.functional.conv2d``.

    Math:
        y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, g*C_in/G + c,
                        i*s_h + p*d_h, j*s_w + q*d_w]   with g = o // (C_out / G)
        As matrices per group: Y_g = W_g @ cols_g, W_g: (C_out/G, C_in/G*kH*kW),
        cols_g: (C_in/G*kH*kW, N*H_out*W_out).

    Shape:
        x: (N, C_in, H, W), weight: (C_out, C_in/G, kH, kW), bias: (C_out,)
        -> (N, C_out, H_out, W_out)
    """
    n, c_in, h, w = x.shape
    c_out = weight.shape[0]
    if c_in != weight.shape[1] * groups:
        raise ValueError(
            f"expected input with {weight.shape[1] * groups} channels "
            f"(weight {weight.shape}, groups={groups}), got input of shape {x.shape}"
        )
    ho, wo = window.checked_output_size(h, w)
    # Explicit sizes, never -1: an empty batch (N = 0) has nothing to infer -1 from.
    k = weight[0].size  # C_in/G * kH * kW
    cols = im2col(x, window, (ho, wo), batch_last=True).reshape(groups, k, n * ho * wo)
    y = np.matmul(weight.reshape(groups, c_out // groups, k), cols)
    out = _to_nchw(y, n, c_out, (ho, wo))
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    cache = ConvCache(cols, weight, (h, w), (ho, wo), window, groups, bias is not None)
    return out, cache


def conv2d_backward(
    dout: np.ndarray, cache: ConvCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d_forward` with respect to input, weight and bias.

    Math:
        dW_g = dY_g @ cols_g^T                       (a correlation of x with dy)
        dcols_g = W_g^T @ dY_g,  dx = col2im(dcols)  (a full convolution of dy with flipped W)
        db[o] = sum_{n, i, j} dy[n, o, i, j]

    Shape:
        dout: (N, C_out, H_out, W_out) -> dx (N, C_in, H, W), dW like weight, db (C_out,)
    """
    cols, weight, input_size, out_size, window, groups, has_bias = cache
    n = dout.shape[0]
    c_out, c_in_g, _, _ = weight.shape
    dy = _from_nchw(dout, groups)
    k = weight[0].size
    # dW_g = dY_g @ cols_g^T, computed as (cols_g @ dY_g^T)^T: OpenBLAS is much faster with
    # the long N*H_out*W_out axis as the inner dimension of a tall-skinny product this way
    dweight = np.matmul(cols, dy.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(weight.shape)
    dcols = np.matmul(weight.reshape(groups, c_out // groups, k).transpose(0, 2, 1), dy)
    dx = col2im(
        _batch_first(dcols, n, groups * c_in_g, window.kernel, out_size), input_size, window
    )
    dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dweight, dbias


def conv_transpose2d_output_size(
    height: int, width: int, window: Window2d, output_padding: Pair
) -> Pair:
    """``H_out = (H - 1) * s - pad_top - pad_bottom + d * (k - 1) + output_padding + 1``."""
    top, bottom, left, right = window.padding
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    ho = (height - 1) * sh - top - bottom + dh * (kh - 1) + output_padding[0] + 1
    wo = (width - 1) * sw - left - right + dw * (kw - 1) + output_padding[1] + 1
    return ho, wo


class ConvTransposeCache(NamedTuple):
    """What the transposed-convolution backward needs from its forward."""

    x: np.ndarray  # (G, C_in/G, N * H * W)
    weight: np.ndarray  # (C_in, C_out/G, kH, kW)
    input_size: Pair
    out_size: Pair
    window: Window2d
    groups: int
    has_bias: bool


def conv_transpose2d_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    window: Window2d,
    output_padding: Pair = (0, 0),
    groups: int = 1,
) -> tuple[np.ndarray, ConvTransposeCache]:
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    It is exactly the input-gradient of a convolution with the same weight: every input pixel
    scatters ``x * W`` onto a ``kH x kW`` patch of the output (one-to-many), which restores the
    *shape* a convolution took away, not the values.

    Math:
        cols_g = W_g^T @ x_g  (W_g: (C_in/G, C_out/G*kH*kW)),  y = col2im(cols) + b

    Shape:
        x: (N, C_in, H, W), weight: (C_in, C_out/G, kH, kW) -> (N, C_out, H_out, W_out)
    """
    n, c_in, h, w = x.shape
    if c_in != weight.shape[0]:
        raise ValueError(
            f"expected input with {weight.shape[0]} channels (weight {weight.shape}), "
            f"got input of shape {x.shape}"
        )
    c_out = weight.shape[1] * groups
    ho, wo = conv_transpose2d_output_size(h, w, window, output_padding)
    if ho <= 0 or wo <= 0:
        raise ValueError(
            f"transposed convolution of a {h}x{w} input gives output size {ho}x{wo}; "
            f"check padding {window.padding} against kernel {window.kernel}"
        )
    xg = _from_nchw(x, groups)
    k = weight[0].size  # C_out/G * kH * kW
    cols = np.matmul(weight.reshape(groups, c_in // groups, k).transpose(0, 2, 1), xg)
    out = np.ascontiguousarray(
        col2im(_batch_first(cols, n, c_out, window.kernel, (h, w)), (ho, wo), window)
    )
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    cache = ConvTransposeCache(xg, weight, (h, w), (ho, wo), window, groups, bias is not None)
    return out, cache


def conv_transpose2d_backward(
    dout: np.ndarray, cache: ConvTransposeCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose2d_forward`: the input gradient is a convolution.

    Math:
        dcols = im2col(dy),  dx_g = W_g @ dcols_g,  dW_g = x_g @ dcols_g^T

    Shape:
        dout: (N, C_out, H_out, W_out) -> dx (N, C_in, H, W), dW like weight, db (C_out,)
    """
    xg, weight, (h, w), _, window, groups, has_bias = cache
    n = dout.shape[0]
    c_in = weight.shape[0]
    k = weight[0].size
    dcols = im2col(dout, window, (h, w), batch_last=True).reshape(groups, k, n * h * w)
    dx = np.matmul(weight.reshape(groups, c_in // groups, k), dcols)
    dweight = np.matmul(dcols, xg.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(weight.shape)
    dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return _to_nchw(dx, n, c_in, (h, w)), dweight, dbias
