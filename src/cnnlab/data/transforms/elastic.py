"""U-Net's elastic deformation, applied jointly to an image and its mask.

Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation"
(MICCAI 2015), Sec. 3.1: "We generate smooth deformations using random displacement vectors on a
coarse 3 by 3 grid. The displacements are sampled from a Gaussian distribution with 10 pixels
standard deviation. Per-pixel displacements are then computed using bicubic interpolation."

How it differs from ``torchvision.transforms.v2.ElasticTransform`` (Simard et al. 2003): v2 draws
an independent displacement for *every pixel* (uniform in [-1, 1]), smooths that noise with a
Gaussian blur (``sigma``, default 5) and scales it (``alpha``, default 50): many small local
wiggles whose size depends on the blur. Here only 2 x 3 x 3 = 18 Gaussian numbers are drawn (an x
and a y displacement at each node of a coarse grid spanning the image, corners and centre
included) and interpolated bicubically: a few large, smooth warps of the whole image, whose
strength is the displacement in pixels directly. Both move masks with nearest-neighbour sampling
so that labels follow their pixels.

Convention: output pixel (x, y) takes the input at (x + dx(x, y), y + dy(x, y)), so a constant
displacement (dx, dy) translates the content by (-dx, -dy). Points that fall outside the image
are mirrored back (``padding_mode="reflection"``, U-Net's mirroring), for image and mask alike.
"""

from __future__ import annotations

from typing import Any

import PIL.Image
import torch
import torch.nn.functional as F
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2.functional import is_pure_tensor

from cnnlab.core.validate import number, one_of, positive_int

INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("reflection", "border", "zeros")


def elastic_field(coarse: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Per-pixel displacements interpolated bicubically from a coarse grid of displacements.

    The grid's nodes sit evenly from the first to the last pixel (``align_corners=True``): with a
    3 x 3 grid, at the corners, the edge midpoints and the centre.

    Args:
        coarse: displacements in pixels at the grid nodes, x (channel 0) and y (channel 1).
        size: (H, W) of the image.

    Shape:
        coarse (2, g_h, g_w); returns (2, H, W), in coarse's floating dtype.
    """
    if coarse.ndim != 3 or coarse.shape[0] != 2:
        raise ValueError(f"coarse must have shape (2, g_h, g_w), got {tuple(coarse.shape)}")
    field = F.interpolate(coarse[None], size=tuple(size), mode="bicubic", align_corners=True)
    return field[0]


def elastic_deform(
    inpt: torch.Tensor,
    field: torch.Tensor,
    interpolation: str = "bilinear",
    padding_mode: str = "reflection",
) -> torch.Tensor:
    """Sample ``inpt`` at every pixel plus its displacement: ``out[y, x] = inpt[y + dy, x + dx]``.

    Args:
        inpt: an image or a mask; sampled in float64 and converted back to its dtype (integer
            tensors, uint8 images and int64 masks, are rounded: exact for nearest).
        field: per-pixel displacements in pixels, x then y (:func:`elastic_field`).
        interpolation: ``"bilinear"``, ``"nearest"`` (masks) or ``"bicubic"``.
        padding_mode: where samples fall outside: ``"reflection"``, ``"border"`` or ``"zeros"``.

    Shape:
        inpt (..., H, W) (an image (..., C, H, W), a mask (H, W) or (..., H, W)) with H, W >= 2;
        field (2, H, W); returns inpt's shape and dtype.
    """
    one_of("interpolation", interpolation, INTERPOLATIONS)
    one_of("padding_mode", padding_mode, PADDING_MODES)
    h, w = inpt.shape[-2:]
    if h < 2 or w < 2:
        raise ValueError(f"elastic deformation needs an image of at least 2x2, got {h}x{w}")
    if field.shape != (2, h, w):
        raise ValueError(f"field must have shape (2, {h}, {w}), got {tuple(field.shape)}")
    # sampled in float64: pixel -> [-1, 1] -> pixel loses no accuracy, so a zero field is the
    # identity and an integer one a translation, exactly after rounding to the input's dtype
    dtype = torch.float64
    x = inpt.reshape(-1, 1, h, w).to(dtype)
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=inpt.device),
        torch.arange(w, dtype=dtype, device=inpt.device),
        indexing="ij",
    )
    field = field.to(dtype=dtype, device=inpt.device)
    gx = (xs + field[0]) * (2 / (w - 1)) - 1
    gy = (ys + field[1]) * (2 / (h - 1)) - 1
    grid = torch.stack([gx, gy], dim=-1).expand(x.shape[0], h, w, 2)
    out = F.grid_sample(x, grid, mode=interpolation, padding_mode=padding_mode, align_corners=True)
    if not inpt.is_floating_point():
        info = torch.iinfo(inpt.dtype)
        out = out.round().clamp(info.min, info.max)
    return out.to(inpt.dtype).reshape(inpt.shape)


class ElasticDeform(v2.Transform):
    """Random smooth deformation from a coarse grid of Gaussian displacements (U-Net).

    One displacement field per call, shared by every image and mask of the sample
    (``ElasticDeform()(image, mask)`` with ``tv_tensors``): images are sampled with
    ``interpolation``, masks always with nearest neighbour, so labels move with their pixels and
    stay labels. The coarse displacements are ``sigma * torch.randn(2, grid, grid)`` from torch's
    global generator. Bounding boxes cannot follow a non-affine warp and are refused.

    Args:
        sigma: standard deviation of the coarse displacements, in pixels (U-Net: 10).
        grid: nodes per side of the coarse grid (U-Net: 3), >= 2.
        interpolation: how images are sampled: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: ``"reflection"`` (mirror, U-Net), ``"border"`` or ``"zeros"``.

    Shape:
        image (..., C, H, W), mask (..., H, W), H and W >= 2; outputs keep shape and dtype.
    """

    _transformed_types = (
        tv_tensors.Image,
        tv_tensors.Mask,
        tv_tensors.BoundingBoxes,
        is_pure_tensor,
        PIL.Image.Image,
    )

    def __init__(
        self,
        sigma: float = 10.0,
        grid: int = 3,
        interpolation: str = "bilinear",
        padding_mode: str = "reflection",
    ) -> None:
        super().__init__()
        self.sigma = number("sigma", sigma, minimum=0)
        self.grid = positive_int("grid", grid)
        if self.grid < 2:
            raise ValueError(f"grid must be >= 2 (nodes per side, corners included), got {grid}")
        self.interpolation = one_of("interpolation", interpolation, INTERPOLATIONS)
        self.padding_mode = one_of("padding_mode", padding_mode, PADDING_MODES)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        size = v2.query_size(flat_inputs)
        coarse = self.sigma * torch.randn(2, self.grid, self.grid, dtype=torch.float64)
        return {"field": elastic_field(coarse, size)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, tv_tensors.BoundingBoxes):
            raise ValueError(
                "ElasticDeform cannot move bounding boxes (the warp is not affine); deform "
                "images and masks, and derive boxes from the deformed masks"
            )
        if not isinstance(inpt, torch.Tensor):
            raise ValueError(
                f"ElasticDeform works on tensors; convert {type(inpt).__name__} with v2.ToImage()"
            )
        is_mask = isinstance(inpt, tv_tensors.Mask)
        mode = "nearest" if is_mask else self.interpolation
        out = elastic_deform(
            inpt.as_subclass(torch.Tensor), params["field"], mode, self.padding_mode
        )
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else out

    def extra_repr(self) -> str:
        return (
            f"sigma={self.sigma:g}, grid={self.grid}, interpolation={self.interpolation!r}, "
            f"padding_mode={self.padding_mode!r}"
        )
