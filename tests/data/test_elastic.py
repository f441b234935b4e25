"""U-Net's elastic deformation: identity, translation, images and masks moved together."""

from __future__ import annotations

import pytest
import torch
from torchvision import tv_tensors

from cnnlab.data.transforms import ElasticDeform, elastic_deform, elastic_field


def _constant(dx: float, dy: float, size: tuple[int, int]) -> torch.Tensor:
    coarse = torch.tensor([dx, dy], dtype=torch.float64).view(2, 1, 1).expand(2, 3, 3)
    return elastic_field(coarse.contiguous(), size)


def test_zero_displacement_is_the_identity() -> None:
    image = torch.rand(3, 17, 23)
    mask = torch.randint(0, 5, (17, 23))
    field = _constant(0, 0, (17, 23))
    assert (field == 0).all()
    torch.testing.assert_close(elastic_deform(image, field), image, rtol=0, atol=0)
    assert torch.equal(elastic_deform(mask, field, "nearest"), mask)


@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-4, 5), (0, 1)], ids=["3,-2", "-4,5", "0,1"])
def test_constant_displacement_is_a_translation(dx: int, dy: int) -> None:
    h, w = 20, 24
    image = torch.rand(2, h, w, dtype=torch.float64)
    mask = torch.randint(0, 7, (h, w))
    field = _constant(dx, dy, (h, w))
    torch.testing.assert_close(
        field, torch.tensor([dx, dy], dtype=torch.float64).view(2, 1, 1).expand(2, h, w)
    )
    out = elastic_deform(image, field)
    out_mask = elastic_deform(mask, field, "nearest")
    # out[y, x] = in[y + dy, x + dx] wherever that pixel exists (outside it is mirrored)
    ys = slice(max(0, -dy), h - max(0, dy))
    xs = slice(max(0, -dx), w - max(0, dx))
    src_ys = slice(ys.start + dy, ys.stop + dy)
    src_xs = slice(xs.start + dx, xs.stop + dx)
    torch.testing.assert_close(out[:, ys, xs], image[:, src_ys, src_xs], rtol=0, atol=1e-9)
    assert torch.equal(out_mask[ys, xs], mask[src_ys, src_xs])


def test_field_interpolates_the_coarse_grid_at_its_nodes() -> None:
    torch.manual_seed(0)
    coarse = 10 * torch.randn(2, 3, 3, dtype=torch.float64)
    field = elastic_field(coarse, (21, 31))
    nodes_y, nodes_x = [0, 10, 20], [0, 15, 30]  # corners, edge midpoints, centre
    for i, y in enumerate(nodes_y):
        for j, x in enumerate(nodes_x):
            torch.testing.assert_close(field[:, y, x], coarse[:, i, j], rtol=0, atol=1e-9)
    # smooth: neighbouring pixels move by much less than the 10 px scale
    assert field.diff(dim=1).abs().max() < 3 and field.diff(dim=2).abs().max() < 3


def test_image_and_mask_move_together() -> None:
    torch.manual_seed(1)
    mask = tv_tensors.Mask(torch.randint(0, 9, (32, 32)))
    coded = tv_tensors.Image(mask[None].float())  # the image is the mask, as numbers
    out_image, out_mask = ElasticDeform(interpolation="nearest")(coded, mask)
    assert isinstance(out_image, tv_tensors.Image) and isinstance(out_mask, tv_tensors.Mask)
    assert torch.equal(out_image[0].long(), out_mask)
    assert not torch.equal(out_mask, mask)  # it did deform
    # with the default bilinear images, masks still hold labels only
    out_image, out_mask = ElasticDeform()(tv_tensors.Image(torch.rand(1, 32, 32)), mask)
    assert out_mask.dtype == torch.int64 and set(out_mask.unique().tolist()) <= set(range(9))


def test_coarse_displacements_have_ten_pixels_standard_deviation() -> None:
    deform = ElasticDeform()
    torch.manual_seed(0)
    image = torch.zeros(1, 9, 9)
    corners = torch.stack(
        [deform.make_params([image])["field"][:, ::4, ::4].reshape(-1) for _ in range(600)]
    )  # the 3x3 nodes of a 9x9 image are pixels 0, 4, 8
    assert abs(float(corners.std()) - 10) < 0.5 and abs(float(corners.mean())) < 0.5


def test_bounding_boxes_and_pil_images_are_refused() -> None:
    boxes = tv_tensors.BoundingBoxes([[1, 1, 4, 4]], format="XYXY", canvas_size=(8, 8))
    with pytest.raises(ValueError, match="cannot move bounding boxes"):
        ElasticDeform()(tv_tensors.Image(torch.zeros(1, 8, 8)), boxes)
    with pytest.raises(ValueError, match="grid must be >= 2"):
        ElasticDeform(grid=1)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        ElasticDeform(interpolation="cubic")
