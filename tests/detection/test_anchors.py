"""make_anchors against torchvision's AnchorGenerator, and the RPN head's 36 + 18 outputs."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.rpn import concat_box_prediction_layers

from cnnlab.detection import RPNHead, decode_boxes, make_anchors

SCALES, RATIOS = (128, 256, 512), (0.5, 1.0, 2.0)
GRIDS = [((5, 7), 16), ((3, 3), 32), ((1, 4), 8)]
GRID_IDS = ["5x7-s16", "3x3-s32", "1x4-s8"]


@pytest.mark.parametrize("size,stride", GRIDS, ids=GRID_IDS)
def test_shape_centres_areas_ratios(size: tuple[int, int], stride: int) -> None:
    h, w = size
    anchors = make_anchors(size, stride, SCALES, RATIOS, dtype=torch.float64)
    assert anchors.shape == (h * w * 9, 4)
    per_position = anchors.view(h, w, 9, 4)
    centre = (per_position[..., :2] + per_position[..., 2:]) / 2
    grid_y, grid_x = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    torch.testing.assert_close(centre[..., 0], stride * grid_x[..., None].expand(h, w, 9))
    torch.testing.assert_close(centre[..., 1], stride * grid_y[..., None].expand(h, w, 9))
    widths = per_position[..., 2] - per_position[..., 0]
    heights = per_position[..., 3] - per_position[..., 1]
    # row r * 3 + s of each position: ratio RATIOS[r] (height / width), area SCALES[s] ** 2
    expected_area = torch.tensor([s * s for _ in RATIOS for s in SCALES], dtype=torch.float64)
    expected_ratio = torch.tensor([r for r in RATIOS for _ in SCALES], dtype=torch.float64)
    torch.testing.assert_close(widths * heights, expected_area.expand(h, w, 9))
    torch.testing.assert_close(heights / widths, expected_ratio.expand(h, w, 9))


@pytest.mark.parametrize("size,stride", GRIDS, ids=GRID_IDS)
def test_torchvision_anchor_generator_up_to_its_rounding(
    size: tuple[int, int], stride: int
) -> None:
    """Same order and centres; torchvision rounds the base anchors to whole pixels, we do not."""
    generator = AnchorGenerator(sizes=(SCALES,), aspect_ratios=(RATIOS,))
    stride_t = torch.tensor(stride)
    (ref,) = generator.grid_anchors([list(size)], [[stride_t, stride_t]])
    ours = make_anchors(size, stride, SCALES, RATIOS, dtype=torch.float64)
    centres = ((ours[:, :2] + ours[:, 2:]) / 2).repeat(1, 2)
    rounded = (ours - centres).float().round() + centres.float()
    torch.testing.assert_close(rounded, ref, rtol=0, atol=0)
    assert (ours - ref.double()).abs().max() <= 0.5


def test_rpn_head_has_36_box_and_18_objectness_outputs() -> None:
    # Faster R-CNN sec. 3.1: k anchors per position -> 4k coordinates and 2k scores
    anchors = make_anchors((4, 6), 16)
    k = anchors.shape[0] // (4 * 6)
    head = RPNHead(in_channels=32, num_anchors=k)
    assert (k, head.bbox_pred.out_channels, head.cls_logits.out_channels) == (9, 36, 18)
    objectness, deltas = head(torch.randn(2, 32, 4, 6))
    assert objectness.shape == (2, anchors.shape[0], 2)
    assert deltas.shape == (2, anchors.shape[0], 4)
    assert decode_boxes(anchors, deltas[0]).shape == anchors.shape


def test_rpn_head_rows_follow_make_anchors_like_torchvision() -> None:
    torch.manual_seed(0)
    head = RPNHead(in_channels=8, num_anchors=9)
    x = torch.randn(2, 8, 3, 5)
    objectness, deltas = head(x)
    t = head.conv(x).relu()
    ref_cls, ref_box = concat_box_prediction_layers([head.cls_logits(t)], [head.bbox_pred(t)])
    torch.testing.assert_close(objectness.reshape(-1, 2), ref_cls)
    torch.testing.assert_close(deltas.reshape(-1, 4), ref_box)
    # with only biases, row (i * W + j) * 9 + a holds the offsets of anchor a at every (i, j)
    with torch.no_grad():
        head.bbox_pred.weight.zero_()
        head.bbox_pred.bias.copy_(torch.arange(36.0))
    _, deltas = head(x)
    torch.testing.assert_close(
        deltas[1].view(15, 9, 4), torch.arange(36.0).view(9, 4).expand(15, 9, 4)
    )


def test_custom_scales_ratios_and_rectangular_stride() -> None:
    anchors = make_anchors((2, 3), (8, 4), scales=(32,), ratios=(1.0, 4.0))
    assert anchors.shape == (2 * 3 * 2, 4) and anchors.dtype == torch.float32
    last = anchors[-1]  # position (1, 2): centre (2 * 4, 1 * 8); ratio 4: w = 16, h = 64
    torch.testing.assert_close(last, torch.tensor([0.0, -24.0, 16.0, 40.0]))
    assert math.isclose(float((last[3] - last[1]) / (last[2] - last[0])), 4.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"feature_size": 0, "stride": 16}, "^feature_size must be an integer >= 1"),
        ({"feature_size": (2, 3), "stride": -4}, "^stride must be an integer >= 1 .* got -4"),
        ({"feature_size": 2, "stride": 16, "scales": ()}, "^scales must be a non-empty"),
        (
            {"feature_size": 2, "stride": 16, "ratios": (0.5, -1.0)},
            r"^ratios\[1\] must be a finite number > 0, got -1.0",
        ),
        ({"feature_size": 2, "stride": 16, "dtype": torch.int64}, "dtype"),
    ],
    ids=["size0", "stride-neg", "no-scales", "ratio-neg", "int-dtype"],
)
def test_bad_inputs(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_anchors(**kwargs)
    with pytest.raises(ValueError, match=r"^num_anchors must be a positive integer, got 0"):
        RPNHead(8, num_anchors=0)
