"""Readable loop versions of convolution and max pooling: the definitions, and a test oracle.

Slow on purpose: one Python iteration per output pixel. The fast versions in ``conv.py`` and
``pool.py`` must agree with these exactly.
"""

from __future__ import annotations

import numpy as np

from cnnlab.scratch.functional.window import Window2d, pad2d


def conv2d_naive(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, window: Window2d, groups: int = 1
) -> np.ndarray:
    """Convolution (cross-correlation) by its definition, one output pixel at a time.

    Shape:
        x: (N, C_in, H, W), weight: (C_out, C_in/G, kH, kW) -> (N, C_out, H_out, W_out)
    """
    n, _, h, w = x.shape
    c_out, c_in_g, kh, kw = weight.shape
    (sh, sw), (dh, dw) = window.stride, window.dilation
    ho, wo = window.checked_output_size(h, w)
    xp = pad2d(x, window.padding)
    out = np.zeros((n, c_out, ho, wo), dtype=x.dtype)
    per_group = c_out // groups
    for b in range(n):
        for o in range(c_out):
            first = (o // per_group) * c_in_g
            for i in range(ho):
                for j in range(wo):
                    patch = xp[
                        b,
                        first : first + c_in_g,
                        i * sh : i * sh + (kh - 1) * dh + 1 : dh,
                        j * sw : j * sw + (kw - 1) * dw + 1 : dw,
                    ]
                    out[b, o, i, j] = np.sum(patch * weight[o])
            if bias is not None:
                out[b, o] += bias[o]
    return out


def conv2d_backward_naive(
    dout: np.ndarray, x: np.ndarray, weight: np.ndarray, window: Window2d, groups: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each output pixel sends ``dy * W`` back to its input patch and ``dy * patch`` to ``dW``.

    Shape:
        dout: (N, C_out, H_out, W_out) -> dx like x, dW like weight, db (C_out,)
    """
    n, _, h, w = x.shape
    c_out, c_in_g, kh, kw = weight.shape
    (sh, sw), (dh, dw) = window.stride, window.dilation
    top, _, left, _ = window.padding
    xp = pad2d(x, window.padding)
    dxp = np.zeros_like(xp)
    dweight = np.zeros_like(weight)
    per_group = c_out // groups
    for b in range(n):
        for o in range(c_out):
            first = (o // per_group) * c_in_g
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * sh, i * sh + (kh - 1) * dh + 1, dh)
                    columns = slice(j * sw, j * sw + (kw - 1) * dw + 1, dw)
                    g = dout[b, o, i, j]
                    dxp[b, first : first + c_in_g, rows, columns] += g * weight[o]
                    dweight[o] += g * xp[b, first : first + c_in_g, rows, columns]
    dx = dxp[:, :, top : top + h, left : left + w]
    return dx, dweight, dout.sum(axis=(0, 2, 3))


def max_pool2d_naive(x: np.ndarray, window: Window2d) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling by scanning each window in row-major order; the first maximum wins.

    Padded positions are skipped (they act as -inf). Returns ``(y, flat indices)``.

    Shape:
        x: (N, C, H, W) -> (N, C, H_out, W_out) twice
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    top, _, left, _ = window.padding
    ho, wo = window.checked_output_size(h, w)
    out = np.full((n, c, ho, wo), -np.inf, dtype=x.dtype)
    indices = np.zeros((n, c, ho, wo), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    best, best_index = -np.inf, -1
                    for p in range(kh):
                        for q in range(kw):
                            r, s = i * sh - top + p * dh, j * sw - left + q * dw
                            if (
                                0 <= r < h
                                and 0 <= s < w
                                and (best_index < 0 or x[b, ch, r, s] > best)
                            ):
                                best, best_index = x[b, ch, r, s], r * w + s
                    out[b, ch, i, j], indices[b, ch, i, j] = best, best_index
    return out, indices


def max_pool2d_backward_naive(
    dout: np.ndarray, indices: np.ndarray, input_shape: tuple[int, int, int, int]
) -> np.ndarray:
    """Caffe's rule: ``dx[n, c, max_idx] += dy`` for every output pixel.

    Shape:
        dout, indices: (N, C, H_out, W_out) -> input_shape
    """
    n, c, h, w = input_shape
    dx = np.zeros((n, c, h * w), dtype=dout.dtype)
    for b in range(n):
        for ch in range(c):
            for g, k in zip(dout[b, ch].ravel(), indices[b, ch].ravel(), strict=True):
                dx[b, ch, k] += g
    return dx.reshape(input_shape)
