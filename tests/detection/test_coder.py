"""R-CNN's encode (eq. 6-9) and decode (eq. 1-4) against torchvision's BoxCoder."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchvision.models.detection._utils import BoxCoder

from cnnlab.detection import BBOX_XFORM_CLIP, decode_boxes, encode_boxes

BoxMaker = Callable[..., torch.Tensor]
WEIGHTS = [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]
WEIGHT_IDS = ["w1111", "w10-10-5-5"]


def _pairs(random_boxes: BoxMaker, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gt = random_boxes(n, seed)
    g = torch.Generator().manual_seed(seed + 1)
    jitter = (torch.rand(n, 4, generator=g, dtype=torch.float64) - 0.5) * 10
    proposals = gt + jitter
    proposals[:, 2:] = torch.maximum(proposals[:, 2:], proposals[:, :2] + 0.5)
    return proposals, gt


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
def test_encode_matches_torchvision(random_boxes: BoxMaker, weights: tuple) -> None:
    proposals, gt = _pairs(random_boxes, 500, seed=10)
    ref = BoxCoder(weights).encode_single(gt, proposals)
    torch.testing.assert_close(encode_boxes(proposals, gt, weights), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
@pytest.mark.parametrize("k", [1, 3], ids=["K1", "K3"])
def test_decode_matches_torchvision(random_boxes: BoxMaker, weights: tuple, k: int) -> None:
    proposals = random_boxes(400, seed=11)
    g = torch.Generator().manual_seed(12)
    deltas = torch.randn(400, 4 * k, generator=g, dtype=torch.float64) * 2
    ref = BoxCoder(weights).decode_single(deltas, proposals)
    ours = decode_boxes(proposals, deltas, weights)
    assert ours.shape == (400, 4 * k)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
def test_huge_deltas_are_clamped_like_faster_rcnn(random_boxes: BoxMaker, weights: tuple) -> None:
    proposals = random_boxes(20, seed=13)
    deltas = torch.full((20, 4), 1e4, dtype=torch.float64)
    ours = decode_boxes(proposals, deltas, weights)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, BoxCoder(weights).decode_single(deltas, proposals))
    # the width is clamped at exp(log(1000/16)) = 62.5 times the proposal's
    widths = proposals[:, 2] - proposals[:, 0]
    torch.testing.assert_close(ours[:, 2] - ours[:, 0], 62.5 * widths)
    assert math.isclose(BBOX_XFORM_CLIP, math.log(62.5))


def test_notes_equations_by_hand() -> None:
    # P: centre (50, 40), size 20 x 10; G: centre (54, 38), size 40 x 5
    p = torch.tensor([[40.0, 35.0, 60.0, 45.0]], dtype=torch.float64)
    g = torch.tensor([[34.0, 35.5, 74.0, 40.5]], dtype=torch.float64)
    t = encode_boxes(p, g)
    expected = [(54 - 50) / 20, (38 - 40) / 10, math.log(40 / 20), math.log(5 / 10)]
    torch.testing.assert_close(t, torch.tensor([expected], dtype=torch.float64))
    torch.testing.assert_close(decode_boxes(p, t), g)


@given(
    x=st.floats(-100, 100),
    y=st.floats(-100, 100),
    w=st.floats(0.5, 300),
    h=st.floats(0.5, 300),
    dx=st.floats(-2, 2),
    dy=st.floats(-2, 2),
    dw=st.floats(-3, 3),
    dh=st.floats(-3, 3),
)
def test_encode_inverts_decode(
    x: float, y: float, w: float, h: float, dx: float, dy: float, dw: float, dh: float
) -> None:
    p = torch.tensor([[x, y, x + w, y + h]], dtype=torch.float64)
    d = torch.tensor([[dx, dy, dw, dh]], dtype=torch.float64)
    torch.testing.assert_close(encode_boxes(p, decode_boxes(p, d)), d, rtol=1e-9, atol=1e-9)


def test_encode_bad_inputs() -> None:
    p = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 9.0, 9.0]])
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        encode_boxes(p, p[:1])
    with pytest.raises(ValueError, match=r"gt_boxes\[0\].*has width 0"):
        encode_boxes(p[:1], torch.tensor([[3.0, 0.0, 3.0, 4.0]]))
    with pytest.raises(ValueError, match=r"proposals\[0\].*x2 > x1"):
        encode_boxes(torch.tensor([[3.0, 0.0, 1.0, 4.0]]), p[:1])
    with pytest.raises(ValueError, match="finite"):
        encode_boxes(torch.tensor([[0.0, 0.0, float("inf"), 4.0]]), p[:1])
    with pytest.raises(ValueError, match="weights"):
        encode_boxes(p, p, weights=(1.0, 1.0, 0.0, 1.0))


def test_decode_bad_inputs() -> None:
    p = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    with pytest.raises(ValueError, match=r"shape \(N, 4K\), got \(1, 5\)"):
        decode_boxes(p, torch.zeros(1, 5))
    with pytest.raises(ValueError, match="same length"):
        decode_boxes(p, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="deltas must be finite"):
        decode_boxes(p, torch.tensor([[0.0, float("nan"), 0.0, 0.0]]))
