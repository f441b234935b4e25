"""roi_pool and roi_align against torchvision.ops, plus RoI Align's meaning on a linear ramp."""

from __future__ import annotations

import pytest
import torch
import torchvision.ops as tv

from cnnlab.core.validate import InvalidArgument
from cnnlab.detection import roi_align, roi_pool


def _inputs(seed: int, k: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(2, 3, 16, 20, generator=g, dtype=torch.float64)
    xy = torch.rand(k, 2, generator=g, dtype=torch.float64) * 120 - 10
    wh = torch.rand(k, 2, generator=g, dtype=torch.float64) * 80
    index = torch.randint(0, 2, (k, 1), generator=g).to(torch.float64)
    return features, torch.cat([index, xy, xy + wh], dim=1)


SETTINGS = [((7, 7), 0.125), ((3, 5), 0.25), (2, 1.0)]
SETTING_IDS = ["7x7-s1_8", "3x5-s1_4", "2x2-s1"]


@pytest.mark.parametrize("output_size,scale", SETTINGS, ids=SETTING_IDS)
def test_roi_pool_matches_torchvision(output_size: int | tuple, scale: float) -> None:
    features, rois = _inputs(40)
    features.requires_grad_(True)
    ours = roi_pool(features, rois, output_size, scale)
    ref = tv.roi_pool(features, rois, output_size, scale)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)
    (g_ours,) = torch.autograd.grad(ours.sum(), features)
    (g_ref,) = torch.autograd.grad(ref.sum(), features)
    torch.testing.assert_close(g_ours, g_ref)


@pytest.mark.parametrize("aligned", [False, True], ids=["unaligned", "aligned"])
@pytest.mark.parametrize("sampling_ratio", [-1, 2], ids=["adaptive", "sr2"])
@pytest.mark.parametrize("output_size,scale", SETTINGS, ids=SETTING_IDS)
def test_roi_align_matches_torchvision(
    output_size: int | tuple, scale: float, sampling_ratio: int, aligned: bool
) -> None:
    features, rois = _inputs(41)
    ours = roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
    ref = tv.roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)


def test_list_of_boxes_form() -> None:
    features, rois = _inputs(42)
    as_list = [rois[rois[:, 0] == i, 1:] for i in range(2)]
    ordered = torch.cat([rois[rois[:, 0] == i] for i in range(2)])
    torch.testing.assert_close(
        roi_pool(features, as_list, 3, 0.25), tv.roi_pool(features, ordered, 3, 0.25)
    )
    torch.testing.assert_close(
        roi_align(features, as_list, 3, 0.25), tv.roi_align(features, ordered, 3, 0.25)
    )


def test_roi_align_on_a_linear_ramp_samples_bin_centres() -> None:
    """Bilinear interpolation is exact on a linear function, so each output is the ramp's value
    at its bin centre: x = x1 * s - 0.5 + (j + 0.5) * (x2 - x1) * s / w with aligned=True."""
    h, w = 12, 16
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    ramp = (3.0 * xs - 2.0 * ys + 1.0)[None, None]
    box = torch.tensor([[0.0, 3.0, 2.5, 27.0, 19.0]], dtype=torch.float64)  # image pixels
    scale, (oh, ow) = 0.5, (4, 6)
    out = roi_align(ramp, box, (oh, ow), scale, sampling_ratio=2, aligned=True)[0, 0]
    x1, y1, x2, y2 = (box[0, 1:] * scale).tolist()
    cx = x1 - 0.5 + (torch.arange(ow, dtype=torch.float64) + 0.5) * (x2 - x1) / ow
    cy = y1 - 0.5 + (torch.arange(oh, dtype=torch.float64) + 0.5) * (y2 - y1) / oh
    expected = 3.0 * cx[None, :] - 2.0 * cy[:, None] + 1.0
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_bad_inputs() -> None:
    features, rois = _inputs(43, k=3)
    with pytest.raises(ValueError, match=r"boxes\[1, 0\] = 2 is not a batch index in \[0, 1\]"):
        roi_pool(features, torch.tensor([[0, 0, 0, 5, 5], [2, 0, 0, 5, 5.0]]).double(), 2)
    with pytest.raises(ValueError, match=r"\(K, 5\)"):
        roi_align(features, rois[:, 1:], 2)
    with pytest.raises(ValueError, match="x2 >= x1"):
        roi_pool(features, torch.tensor([[0, 9, 0, 5, 5.0]]).double(), 2)
    with pytest.raises(
        InvalidArgument, match=r"^spatial_scale must be a finite number > 0, got -1"
    ):
        roi_pool(features, rois, 2, -1.0)
    with pytest.raises(InvalidArgument, match=r"^spatial_scale .* > 0, got inf"):
        roi_pool(features, rois, 2, float("inf"))
    with pytest.raises(InvalidArgument, match=r"^output_size .* got \(2, 0\)"):
        roi_align(features, rois, (2, 0))
    with pytest.raises(ValueError, match="one \\(K_i, 4\\) tensor per image: got 1"):
        roi_align(features, [rois[:, 1:]], 2)
    with pytest.raises(ValueError, match=r"input must have shape \(N, C, H, W\)"):
        roi_pool(features[0], rois, 2)
    for ratio in (-3, 1.5, True):
        with pytest.raises(InvalidArgument, match=r"^sampling_ratio must be an integer >= -1"):
            roi_align(features, rois, 2, sampling_ratio=ratio)  # type: ignore[arg-type]


def test_boxes_are_cast_to_the_input_dtype() -> None:
    features, rois = _inputs(44)
    ours = roi_pool(features, rois.float(), 3, 0.25)  # torchvision itself refuses mixed dtypes
    torch.testing.assert_close(ours, tv.roi_pool(features, rois.float().double(), 3, 0.25))
