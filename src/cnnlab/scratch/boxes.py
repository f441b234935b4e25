"""Greedy NMS and RoI Pooling in NumPy, loops written out (torchvision's CPU kernels, in Python).

Boxes are ``(x1, y1, x2, y2)`` with widths ``x2 - x1``. Both functions reproduce
``torchvision.ops.nms`` / ``torchvision.ops.roi_pool`` exactly on float64 inputs (the tests check
it), including torchvision's rounding in RoI Pool. NumPy only: never imports torch.

NMS first scales the boxes by a power of two (as :func:`cnnlab.detection.nms` does for
torchvision's kernel), so that no width, area or union can overflow or underflow: IoU does not
change under scaling, and a power of two scales every intermediate exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.core.validate import int_pair, number

_FLT_MAX = float(np.finfo(np.float32).max)  # C's FLT_MAX: torchvision's -FLT_MAX start value


def _float_array(value: object, name: str) -> np.ndarray:
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if not np.isfinite(array).all():
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite, got {array[at]} at index {at}")
    return array


def _check_boxes(boxes: np.ndarray, name: str) -> None:
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {boxes.shape}")
    bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name}[{i}] = {boxes[i].tolist()} has x2 < x1 or y2 < y1; boxes are "
            "(x1, y1, x2, y2) with x1 <= x2 and y1 <= y2"
        )


def _iou_safe_boxes(boxes: np.ndarray) -> np.ndarray:
    """The boxes times ``2**k``, with ``k`` chosen so that IoU's arithmetic cannot overflow.

    With every ``|coordinate| < 2**E`` a width is below ``2**(E+1)``, an area below
    ``2**(2E+2)`` and a union (the sum of two areas) below ``2**(2E+3)``, which must stay under
    the dtype's largest value ``2**maxexp``: ``E = (maxexp - 4) // 2`` (61 for float32, 509
    for float64). The largest coordinate is brought just under ``2**E``: down when areas would
    overflow (coordinates near 3e38 in float32), up when they would underflow to 0 (boxes near
    1e-200 in float64). Multiplying by a power of two is exact, and IEEE arithmetic commutes with
    it, so on ordinary boxes every IoU, and the result, is bit for bit torchvision's. float16
    boxes are computed in float32 (a 256 x 256 box's area already overflows float16).

    Only a dynamic range beyond the dtype's (float64 boxes of width 1e-300 beside boxes at 1e300)
    can still lose the small boxes' areas.
    """
    if boxes.dtype.itemsize < 4:
        boxes = boxes.astype(np.float32)
    largest = np.abs(boxes).max() if boxes.size else 0.0
    if largest == 0:
        return boxes  # no box has an area: nothing to scale
    safe = (np.finfo(boxes.dtype).maxexp - 4) // 2
    return np.ldexp(boxes, safe - int(np.frexp(largest)[1]))


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression.

    Visit the boxes from the highest score down; keep a box unless a box kept before it overlaps
    it with IoU > ``iou_threshold``. Equal scores keep their input order (a stable sort). Of two
    identical boxes only the better one stays (IoU 1), at any finite coordinates (the boxes are
    first scaled by a power of two into a range where IoU cannot overflow or underflow), unless
    the threshold is 1; boxes of zero area have no IoU (``0 / 0``) and never suppress each other,
    as in torchvision.

    Math:
        IoU(A, B) = |A ∩ B| / (|A| + |B| - |A ∩ B|),
        |A ∩ B| = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))

    Args:
        boxes: ``(x1, y1, x2, y2)`` boxes.
        scores: one score per box.
        iou_threshold: in [0, 1].

    Returns:
        int64 indices of the kept boxes, by decreasing score.

    Shape:
        boxes: (N, 4), scores: (N,) -> (K,)
    """
    boxes = _float_array(boxes, "boxes")
    scores = _float_array(scores, "scores")
    _check_boxes(boxes, "boxes")
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(
            f"scores must have shape ({boxes.shape[0]},) to match boxes, got {scores.shape}"
        )
    iou_threshold = number("iou_threshold", iou_threshold, minimum=0, maximum=1)
    x1, y1, x2, y2 = _iou_safe_boxes(boxes).T
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for position, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[position + 1 :]
        rest = rest[~suppressed[rest]]
        inter_w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        inter_h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = inter_w * inter_h
        with np.errstate(invalid="ignore", divide="ignore"):  # two empty boxes: 0/0, kept
            iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[iou.astype(np.float64) > float(iou_threshold)]] = True
    return np.asarray(keep, dtype=np.int64)


def _as_rois(rois: np.ndarray | Sequence[np.ndarray], batch: int, dtype: np.dtype) -> np.ndarray:
    """(K, 5) rows (batch index, x1, y1, x2, y2) from either accepted form."""
    if isinstance(rois, (list, tuple)):
        if len(rois) != batch:
            raise ValueError(
                f"rois as a list needs one (K_i, 4) array per image: got {len(rois)} arrays "
                f"for a batch of {batch}"
            )
        parts = []
        for i, part in enumerate(rois):
            part = _float_array(part, f"rois[{i}]")
            if part.size == 0:
                continue
            _check_boxes(part, f"rois[{i}]")
            parts.append(np.concatenate([np.full((len(part), 1), i), part], axis=1))
        return np.concatenate(parts).astype(dtype) if parts else np.zeros((0, 5), dtype)
    rois = _float_array(rois, "rois")
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(
            "rois must be a (K, 5) array (batch index, x1, y1, x2, y2) or a list of (K_i, 4) "
            f"arrays, got shape {rois.shape}"
        )
    index = rois[:, 0]
    bad = (index != np.floor(index)) | (index < 0) | (index >= batch)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"rois[{i}, 0] = {index[i]:g} is not a batch index in [0, {batch - 1}]")
    _check_boxes(rois[:, 1:], "rois[:, 1:]")
    return rois.astype(dtype)


def _round_half_away(x: np.floating) -> int:
    """C's ``round``: halves go away from zero (NumPy's ``round`` goes to even)."""
    whole = np.trunc(x)
    return int(whole + np.sign(x)) if abs(x - whole) >= 0.5 else int(whole)


def roi_pool(
    features: np.ndarray,
    rois: np.ndarray | Sequence[np.ndarray],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """RoI max pooling (Fast R-CNN), bin for bin as torchvision's ``roi_pool``.

    Math:
        The box is snapped to the feature grid: ``x1' = round(x1 * s)`` (halves away from zero),
        likewise y1', x2', y2'; ``roi_w = max(x2' - x1' + 1, 1)``. Bin ``(i, j)`` of an
        ``h x w`` output spans rows ``y1' + floor(i * roi_h / h)`` to
        ``y1' + ceil((i + 1) * roi_h / h)`` (exclusive), clipped to the map, and columns alike;
        its value is the maximum there (first maximum wins), 0 for an empty bin.

    Args:
        features: feature maps.
        rois: ``(K, 5)`` rows ``(batch_index, x1, y1, x2, y2)``, or a list with one ``(K_i, 4)``
            array per image; coordinates in image pixels.
        output_size: ``(h, w)`` (an int for a square).
        spatial_scale: feature-map size / image size.
        return_indices: also return, per output cell, the flat index ``row * W + col`` of the
            maximum in its ``(n, c)`` plane (-1 for an empty bin), as torchvision's argmax.

    Returns:
        The pooled features, and the indices when ``return_indices``.

    Shape:
        features: (N, C, H, W), rois: (K, 5) -> (K, C, h, w)
    """
    features = _float_array(features, "features")
    if features.ndim != 4:
        raise ValueError(f"features must have shape (N, C, H, W), got {features.shape}")
    pooled_h, pooled_w = int_pair("output_size", output_size)
    spatial_scale = number("spatial_scale", spatial_scale, minimum=0, exclusive_minimum=True)
    batch, channels, height, width = features.shape
    dt = features.dtype.type
    rois = _as_rois(rois, batch, features.dtype)
    out = np.zeros((len(rois), channels, pooled_h, pooled_w), dtype=features.dtype)
    argmax = np.full(out.shape, -1, dtype=np.int64)
    scale = dt(spatial_scale)
    for k, roi in enumerate(rois):
        n = int(roi[0])
        start_w, start_h, end_w, end_h = (_round_half_away(v * scale) for v in roi[1:])
        bin_h = dt(max(end_h - start_h + 1, 1)) / dt(pooled_h)
        bin_w = dt(max(end_w - start_w + 1, 1)) / dt(pooled_w)
        for i in range(pooled_h):
            h0 = min(max(int(np.floor(dt(i) * bin_h)) + start_h, 0), height)
            h1 = min(max(int(np.ceil(dt(i + 1) * bin_h)) + start_h, 0), height)
            for j in range(pooled_w):
                w0 = min(max(int(np.floor(dt(j) * bin_w)) + start_w, 0), width)
                w1 = min(max(int(np.ceil(dt(j + 1) * bin_w)) + start_w, 0), width)
                if h1 <= h0 or w1 <= w0:
                    continue  # empty bin: 0, index -1
                window = features[n, :, h0:h1, w0:w1].reshape(channels, -1)
                local = window.argmax(axis=1)  # first maximum in row-major order
                best = window[np.arange(channels), local]
                flat = (h0 + local // (w1 - w0)) * width + w0 + local % (w1 - w0)
                # torchvision starts from -FLT_MAX with a strict '>': a bin whose values are all
                # <= -FLT_MAX yields -FLT_MAX and index -1.
                none = best <= -_FLT_MAX
                out[k, :, i, j] = np.where(none, -_FLT_MAX, best)
                argmax[k, :, i, j] = np.where(none, -1, flat)
    return (out, argmax) if return_indices else out


def roi_pool_backward(
    grad_output: np.ndarray,
    indices: np.ndarray,
    rois: np.ndarray | Sequence[np.ndarray],
    features_shape: tuple[int, int, int, int],
) -> np.ndarray:
    """Gradient of :func:`roi_pool` with respect to the features.

    Math:
        dL/dx[n, c, p] = sum over rois k of image n and bins (i, j) with
        indices[k, c, i, j] = p of dL/dy[k, c, i, j] (each bin routes its gradient to its max).

    Args:
        grad_output: dL/dy.
        indices: the indices returned by ``roi_pool(..., return_indices=True)``.
        rois: the rois given to the forward pass.
        features_shape: ``(N, C, H, W)``.

    Shape:
        grad_output: (K, C, h, w), indices: (K, C, h, w) -> (N, C, H, W)
    """
    grad_output = _float_array(grad_output, "grad_output")
    indices = np.asarray(indices)
    if grad_output.shape != indices.shape or grad_output.ndim != 4:
        raise ValueError(
            f"grad_output and indices must have the same (K, C, h, w) shape, got "
            f"{grad_output.shape} and {indices.shape}"
        )
    batch, channels, height, width = (int(v) for v in features_shape)
    rois = _as_rois(rois, batch, np.float64)
    if len(rois) != grad_output.shape[0] or grad_output.shape[1] != channels:
        raise ValueError(
            f"grad_output {grad_output.shape} does not match {len(rois)} rois and "
            f"features_shape {tuple(features_shape)}"
        )
    grad = np.zeros((batch, channels, height * width), dtype=grad_output.dtype)
    chan = np.broadcast_to(np.arange(channels)[:, None], (channels, indices[0, 0].size))
    for k, roi in enumerate(rois):
        idx = indices[k].reshape(channels, -1)
        hit = idx >= 0
        np.add.at(
            grad[int(roi[0])], (chan[hit], idx[hit]), grad_output[k].reshape(channels, -1)[hit]
        )
    return grad.reshape(batch, channels, height, width)
