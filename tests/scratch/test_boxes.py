"""cnnlab.scratch.nms and roi_pool (NumPy) equal torchvision.ops on float64 inputs."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.ops as tv
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch
from cnnlab.scratch.boxes import roi_pool_backward

SRC = Path(__file__).resolve().parents[2] / "src"


def _boxes(n: int, seed: int, size: float = 200.0, side: float = 60.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.5, side, (n, 2))], axis=1)


def _tv_nms(boxes: np.ndarray, scores: np.ndarray, t: float) -> np.ndarray:
    return tv.nms(torch.from_numpy(boxes), torch.from_numpy(scores), t).numpy()


THRESHOLDS = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]


@pytest.mark.parametrize("iou_threshold", THRESHOLDS, ids=[f"t{t}" for t in THRESHOLDS])
@pytest.mark.parametrize("layout", ["spread", "clustered"])
def test_nms_equals_torchvision(iou_threshold: float, layout: str) -> None:
    # "clustered": 3000 boxes crowded into a 60-pixel square, so most overlap heavily
    boxes = _boxes(3000, seed=60, size=200.0 if layout == "spread" else 60.0)
    scores = np.random.default_rng(61).uniform(size=3000)
    keep = scratch.nms(boxes, scores, iou_threshold)
    assert keep.dtype == np.int64
    np.testing.assert_array_equal(keep, _tv_nms(boxes, scores, iou_threshold))


def test_nms_float32_equals_torchvision() -> None:
    boxes = _boxes(2000, seed=62).astype(np.float32)
    scores = np.random.default_rng(63).uniform(size=2000).astype(np.float32)
    for t in (0.3, 0.5):
        np.testing.assert_array_equal(scratch.nms(boxes, scores, t), _tv_nms(boxes, scores, t))


def test_nms_threshold_is_strict() -> None:
    # IoU of these two is exactly 2 / 4 = 0.5: suppressed only when IoU > threshold
    boxes = np.array([[0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 2.0, 1.0]])
    scores = np.array([0.9, 0.8])
    np.testing.assert_array_equal(scratch.nms(boxes, scores, 0.5), [0, 1])
    np.testing.assert_array_equal(scratch.nms(boxes, scores, 0.49), [0])
    np.testing.assert_array_equal(_tv_nms(boxes, scores, 0.5), [0, 1])


@settings(max_examples=30)
@given(
    coords=st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 8), st.integers(0, 8)),
        min_size=1,
        max_size=40,
    ),
    iou_threshold=st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 0.75]),
)
def test_nms_integer_boxes_equal_torchvision(
    coords: list[tuple[int, int, int, int]], iou_threshold: float
) -> None:
    """Integer corners hit IoUs exactly at the thresholds, and zero-area boxes (0/0)."""
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in coords], dtype=np.float64)
    scores = np.random.default_rng(len(coords)).permutation(len(coords)).astype(np.float64)
    np.testing.assert_array_equal(
        scratch.nms(boxes, scores, iou_threshold), _tv_nms(boxes, scores, iou_threshold)
    )


def _roi_inputs(seed: int, k: int = 60, integer_features: bool = False) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((2, 3, 14, 18))
    if integer_features:  # many equal maxima: the first one must win, as in torchvision
        features = rng.integers(0, 3, features.shape).astype(np.float64)
    xy = rng.uniform(-20, 130, (k, 2))
    rois = np.concatenate([rng.integers(0, 2, (k, 1)), xy, xy + rng.uniform(0, 90, (k, 2))], 1)
    rois[:5, 3:] = rois[:5, 1:3]  # zero-size boxes: forced to 1 x 1 by torchvision
    return features, rois


def _tv_roi_pool(
    features: np.ndarray, rois: np.ndarray, size: tuple[int, int], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    out, argmax = torch.ops.torchvision.roi_pool(
        torch.from_numpy(features), torch.from_numpy(rois), scale, size[0], size[1]
    )
    return out.numpy(), argmax.numpy()


ROI_SETTINGS = [((7, 7), 1 / 8), ((2, 3), 0.25), ((5, 4), 0.5), ((1, 1), 1.0), ((3, 3), 1 / 16)]
ROI_IDS = ["7x7-s1_8", "2x3-s1_4", "5x4-s1_2", "1x1-s1", "3x3-s1_16"]


@pytest.mark.parametrize("size,scale", ROI_SETTINGS, ids=ROI_IDS)
@pytest.mark.parametrize("integer_features", [False, True], ids=["normal", "ties"])
def test_roi_pool_equals_torchvision(
    size: tuple[int, int], scale: float, integer_features: bool
) -> None:
    features, rois = _roi_inputs(64, integer_features=integer_features)
    out, idx = scratch.boxes.roi_pool(features, rois, size, scale, return_indices=True)
    ref_out, ref_idx = _tv_roi_pool(features, rois, size, scale)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(scratch.roi_pool(features, rois, size, scale), ref_out)


def test_roi_pool_rounds_halves_away_from_zero_like_c() -> None:
    # x * scale lands on ..., -1.5, -0.5, 0.5, 1.5, 2.5, ...: NumPy's round would go to even
    features = np.random.default_rng(65).standard_normal((1, 2, 10, 10))
    halves = np.arange(-3, 12) + 0.5
    rois = np.array(
        [
            [0, 2 * a, 2 * b, 2 * a + 2 * c, 2 * b + 9.0]
            for a in halves
            for b in halves[:3]
            for c in (1.0, 3.0)
        ]
    )
    out = scratch.roi_pool(features, rois, (3, 2), 0.5)
    np.testing.assert_array_equal(out, _tv_roi_pool(features, rois, (3, 2), 0.5)[0])


def test_roi_pool_list_form() -> None:
    features, rois = _roi_inputs(66, k=20)
    as_list = [rois[rois[:, 0] == i, 1:] for i in range(2)]
    ordered = np.concatenate([rois[rois[:, 0] == i] for i in range(2)])
    np.testing.assert_array_equal(
        scratch.roi_pool(features, as_list, 3, 0.25),
        _tv_roi_pool(features, ordered, (3, 3), 0.25)[0],
    )


def test_roi_pool_backward_equals_autograd() -> None:
    features, rois = _roi_inputs(67, integer_features=True)
    grad_out = np.random.default_rng(68).standard_normal((len(rois), 3, 4, 3))
    _, idx = scratch.boxes.roi_pool(features, rois, (4, 3), 0.25, return_indices=True)
    ours = roi_pool_backward(grad_out, idx, rois, features.shape)
    x = torch.from_numpy(features).requires_grad_(True)
    tv.roi_pool(x, torch.from_numpy(rois), (4, 3), 0.25).backward(torch.from_numpy(grad_out))
    np.testing.assert_allclose(ours, x.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_bad_inputs() -> None:
    boxes, scores = _boxes(4, seed=69), np.linspace(1, 0, 4)
    for t in (-0.5, 1.01):
        with pytest.raises(ValueError, match=r"iou_threshold must be a finite number in \[0, 1\]"):
            scratch.nms(boxes, scores, t)
    with pytest.raises(ValueError, match=r"scores must have shape \(4,\)"):
        scratch.nms(boxes, scores[:3], 0.5)
    flipped = boxes.copy()
    flipped[2, [0, 2]] = flipped[2, [2, 0]]
    with pytest.raises(ValueError, match=r"boxes\[2\]"):
        scratch.nms(flipped, scores, 0.5)
    with pytest.raises(ValueError, match="scores must be finite"):
        scratch.nms(boxes, np.array([1.0, np.inf, 0.0, 0.0]), 0.5)
    features, rois = _roi_inputs(70, k=4)
    with pytest.raises(ValueError, match=r"rois\[0, 0\] = 5 is not a batch index"):
        scratch.roi_pool(features, np.array([[5.0, 0, 0, 4, 4]]), 2)
    with pytest.raises(ValueError, match="spatial_scale"):
        scratch.roi_pool(features, rois, 2, 0.0)
    with pytest.raises(ValueError, match="output_size"):
        scratch.roi_pool(features, rois, (0, 2))
    with pytest.raises(ValueError, match=r"features must have shape \(N, C, H, W\)"):
        scratch.roi_pool(features[0], rois, 2)
    with pytest.raises(ValueError, match=r"rois must be a \(K, 5\) array"):
        scratch.roi_pool(features, rois[:, 1:], 2)


def test_boxes_module_never_imports_torch() -> None:
    code = "import sys, cnnlab.scratch.boxes; sys.exit('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


# Two identical boxes (IoU exactly 1) at extreme coordinates: exactly one must stay, silently.
# Reported: both were kept (area inf, IoU inf/inf = NaN) with overflow warnings.
EXTREME = [
    (np.float32, 3e38, "f32-3e38"),
    (np.float32, float(np.finfo(np.float32).max), "f32-max"),
    (np.float64, 1e200, "f64-1e200"),
    (np.float64, float(np.finfo(np.float64).max), "f64-max"),
    (np.float16, 300.0, "f16-300"),  # the area 600 * 600 overflows float16
    (np.float16, float(np.finfo(np.float16).max), "f16-max"),
    (np.float64, 1e-200, "f64-1e-200"),  # the area 1e-400 underflows to 0: 0 / 0
    (np.float32, 1e-30, "f32-1e-30"),
    (np.float64, 5e-324, "f64-subnormal"),
]


@pytest.mark.parametrize("dtype,size", [e[:2] for e in EXTREME], ids=[e[2] for e in EXTREME])
@pytest.mark.parametrize("corner", ["origin", "centred"])
def test_nms_keeps_one_of_two_identical_boxes_at_any_scale(dtype, size: float, corner) -> None:
    low = 0.0 if corner == "origin" else -size
    box = [low, low, size, size]
    boxes = np.array([box, box, [low, low, size, low]], dtype=dtype)  # the last has area 0
    scores = np.array([0.5, 0.9, 0.7], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow warning either
        keep = scratch.nms(boxes, scores, 0.5)
    # the better of the twins, then the zero-area box, which has no IoU (0 / 0) with anything
    np.testing.assert_array_equal(keep, [1, 2])


def test_nms_extreme_boxes_keep_the_iou_of_exact_arithmetic() -> None:
    # IoU 2/4 = 0.5 between a box and its left half, at coordinates near the largest float:
    # a strict threshold keeps both at 0.5 and drops the half at 0.49, as for small boxes.
    for dtype, big in [(np.float32, 2.0**127), (np.float64, 2.0**1023)]:
        boxes = np.array([[-big, 0, big, big], [-big, 0, 0, big]], dtype=dtype)
        scores = np.array([0.9, 0.8])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(scratch.nms(boxes, scores, 0.5), [0, 1])
            np.testing.assert_array_equal(scratch.nms(boxes, scores, 0.49), [0])
        small = np.array([[-2.0, 0, 2, 2], [-2.0, 0, 0, 2]])
        np.testing.assert_array_equal(_tv_nms(small, scores, 0.5), [0, 1])
        np.testing.assert_array_equal(_tv_nms(small, scores, 0.49), [0])


def test_nms_scaled_boxes_equal_torchvision() -> None:
    # Scaling by a power of two is exact: torchvision on the same boxes scaled into its safe
    # range keeps the same boxes as scratch.nms on the huge ones.
    boxes = _boxes(500, seed=71, size=60.0)
    scores = np.random.default_rng(72).uniform(size=500)
    for exponent in (900, -900):
        huge = np.ldexp(boxes, exponent)
        for t in (0.3, 0.7):
            np.testing.assert_array_equal(scratch.nms(huge, scores, t), _tv_nms(boxes, scores, t))
