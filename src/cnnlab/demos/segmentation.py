"""The figures of the segmentation-training chapter, drawn from real digit scenes.

* :func:`fcn_strides_figure`: what an output at stride 32, 16 and 8 can draw at best -- the true
  mask averaged over 32x32 (16x16, 8x8) cells, upsampled bilinearly and arg-maxed: FCN-32s'
  coarse blobs against the detail FCN-16s/8s's skips bring back (no training: the resolution
  limit itself, the same for any weights).
* :func:`overlap_tile_figure`: U-Net's overlap-tile strategy on a scene: the image mirrored by
  the network's margin, the output tiles and the input window of one of them.
* :func:`elastic_figure`: U-Net's elastic deformation of a scene and its mask, with the grid it
  warps.

``save_segmentation_figures(folder)`` writes them (``docs/img/segmentation_*.png``); the
figures use matplotlib's object-oriented API and are written atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlab.core.files import atomic_write, check_output_dir
from cnnlab.data.scenes import make_scenes
from cnnlab.data.transforms.elastic import elastic_deform, elastic_field
from cnnlab.models.unet import mirror_pad, unet_margin
from cnnlab.train.segmentation_figures import colour_masks

__all__ = [
    "best_at_stride",
    "elastic_figure",
    "fcn_strides_figure",
    "overlap_tile_figure",
    "save_segmentation_figures",
]

NUM_CLASSES = 11  # background and the ten digits
STRIDES = (32, 16, 8)


def best_at_stride(mask: torch.Tensor, stride: int, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """The mask an output at ``stride`` can draw at best: one-hot classes averaged over
    ``stride`` x ``stride`` cells (the coarse score map), upsampled bilinearly, arg-maxed.

    Shape:
        mask (H, W) int64 -> (H, W) int64; H and W multiples of ``stride``
    """
    one_hot = F.one_hot(mask, num_classes).permute(2, 0, 1)[None].double()
    coarse = F.avg_pool2d(one_hot, stride)
    up = F.interpolate(coarse, size=mask.shape, mode="bilinear", align_corners=False)
    return up[0].argmax(0)


def fcn_strides_figure(size: int = 128, seed: int = 3) -> Figure:
    """Truth, then the best masks at strides 32, 16 and 8 (FCN-32s, -16s, -8s), with their pixel
    accuracy against the truth."""
    scene = make_scenes(1, image_size=size, max_digits=4, seed=seed, split="val")
    mask = scene.masks[0]
    panels = {"truth": mask}
    for stride in STRIDES:
        best = best_at_stride(mask, stride)
        acc = float((best == mask).double().mean())
        panels[f"stride {stride} (FCN-{stride}s)\npixel accuracy {acc:.3f}"] = best
    fig = Figure(figsize=(3 * (len(panels) + 1), 3.3))
    axes = fig.subplots(1, len(panels) + 1)
    axes[0].imshow(scene.images[0, 0], cmap="gray")
    axes[0].set_title("scene")
    for ax, (title, m) in zip(axes[1:], panels.items(), strict=True):
        ax.imshow(colour_masks(m[None], NUM_CLASSES)[0])
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("What an output at each stride can draw at best (the resolution limit)")
    fig.tight_layout()
    return fig


def overlap_tile_figure(size: int = 100, out_tile: int = 36, seed: int = 1) -> Figure:
    """A ``size`` x ``size`` scene mirrored by the valid U-Net's 92-pixel margin, with the output
    tiles (``out_tile``) over the image and the ``out_tile + 184`` input window of the first."""
    margin = unet_margin("valid")
    scene = make_scenes(1, image_size=size, max_digits=4, seed=seed, split="val")
    image = scene.images[0, 0]
    rows = cols = math.ceil(size / out_tile)
    extra = rows * out_tile - size
    padded = mirror_pad(image, margin, margin + extra, margin, margin + extra)
    fig = Figure(figsize=(11, 5.6))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    left.imshow(padded, cmap="gray")
    left.add_patch(
        Rectangle((margin - 0.5, margin - 0.5), size, size, fill=False, ec="yellow", lw=2)
    )
    for i in range(rows):
        for j in range(cols):
            corner = (margin + j * out_tile - 0.5, margin + i * out_tile - 0.5)
            left.add_patch(Rectangle(corner, out_tile, out_tile, fill=False, ec="tab:cyan", lw=0.8))
    window = out_tile + 2 * margin
    left.add_patch(Rectangle((-0.5, -0.5), window, window, fill=False, ec="tab:red", lw=2, ls="--"))
    left.add_patch(
        Rectangle((margin - 0.5, margin - 0.5), out_tile, out_tile, color="tab:red", alpha=0.35)
    )
    left.set_title(
        f"image (yellow, {size}x{size}) mirrored by {margin} px; output tiles {out_tile}x{out_tile}"
        f" (cyan);\nthe red tile is predicted from the dashed {window}x{window} window",
        fontsize=9,
    )
    right.imshow(image, cmap="gray")
    right.set_title("the image itself", fontsize=9)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _grid(image: torch.Tensor, step: int) -> torch.Tensor:
    out = image.clone()
    out[..., ::step, :] = 0.6
    out[..., :, ::step] = 0.6
    return out


def elastic_figure(size: int = 96, sigma: float = 10.0, seed: int = 2) -> Figure:
    """A scene (with a grid drawn on it) and its mask, then two elastic deformations of both:
    the same displacement field moves image (bilinear) and mask (nearest)."""
    scene = make_scenes(1, image_size=size, max_digits=3, seed=seed, split="val")
    image, mask = _grid(scene.images[0], max(4, size // 8)), scene.masks[0]
    generator = torch.Generator().manual_seed(seed)
    columns = [("original", image, mask)]
    for k in range(2):
        coarse = torch.randn(2, 3, 3, generator=generator, dtype=torch.float64) * sigma
        field = elastic_field(coarse, (size, size))
        columns.append(
            (
                f"deformed #{k + 1}",
                elastic_deform(image, field),
                elastic_deform(mask, field, interpolation="nearest"),
            )
        )
    fig = Figure(figsize=(3 * len(columns), 6.2))
    axes = fig.subplots(2, len(columns))
    for j, (title, im, m) in enumerate(columns):
        axes[0, j].imshow(im[0], cmap="gray", vmin=0, vmax=1)
        axes[0, j].set_title(title)
        axes[1, j].imshow(colour_masks(m[None], NUM_CLASSES)[0])
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Elastic deformation (3x3 coarse grid, {sigma:g} px std), image and mask alike")
    fig.tight_layout()
    return fig


def save_segmentation_figures(folder: str | Path) -> list[Path]:
    """Write ``segmentation_fcn_strides.png``, ``segmentation_overlap_tile.png`` and
    ``segmentation_elastic.png`` into ``folder`` (checked first); return their paths."""
    folder = check_output_dir("folder", folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {
        "segmentation_fcn_strides.png": fcn_strides_figure(),
        "segmentation_overlap_tile.png": overlap_tile_figure(),
        "segmentation_elastic.png": elastic_figure(),
    }
    paths = []
    for name, fig in figures.items():
        path = folder / name
        atomic_write(path, lambda f, fig=fig: fig.savefig(f, format="png", dpi=90))
        paths.append(path)
    return paths
