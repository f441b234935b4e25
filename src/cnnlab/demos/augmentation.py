"""The augmentation gallery: one real photo under every ``--augment`` preset and the notes' extras.

The photo is ``china.jpg``, shipped with scikit-learn. Each column is a preset of
:data:`cnnlab.data.transforms.PRESETS` (its training transform without the normalisation, so the
colours stay viewable), then AlexNet's PCA lighting (fitted on the photo's own pixels), U-Net's
elastic deformation (a white grid drawn on the photo first shows the warp) and random erasing;
each row is another random draw. Drawn with matplotlib's object-oriented API and written
atomically. ``docs/img/augmentation_gallery.png`` is this figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torchvision.transforms import v2

from cnnlab.core.files import atomic_write, check_output_file
from cnnlab.core.validate import positive_int
from cnnlab.data.transforms import (
    PRESETS,
    AugmentConfig,
    ElasticDeform,
    PCALighting,
    Preprocess,
    build_transforms,
    fit_pca_lighting,
)

__all__ = ["gallery_figure", "gallery_images", "save_augmentation_gallery"]

PHOTO = "china.jpg"
PCA_STD = 1.0  # AlexNet's 0.1 shifts colours by about 1% here, invisible; the figure says so


def load_photo(size: int) -> torch.Tensor:
    """The centre square of scikit-learn's ``china.jpg``, resized.

    Shape:
        returns float (3, size, size) in [0, 1].
    """
    from sklearn.datasets import load_sample_image

    image = torch.tensor(load_sample_image(PHOTO)).permute(2, 0, 1)
    side = min(image.shape[-2:])
    square = v2.functional.center_crop(image, [side, side])
    return v2.functional.resize(square, [size, size], antialias=True).float() / 255


def _with_grid(image: torch.Tensor, step: int) -> torch.Tensor:
    out = image.clone()
    out[:, ::step, :] = 1
    out[:, :, ::step] = 1
    return out


def gallery_images(size: int = 96, draws: int = 2, seed: int = 0) -> dict[str, list[torch.Tensor]]:
    """Column title -> ``draws`` augmented versions of the photo (float (3, size, size) in [0, 1]).

    Args:
        size: side of the photo and of every output.
        draws: random draws per column (rows of the figure).
        seed: seeds torch's generator, which every transform draws from.
    """
    size = positive_int("size", size)
    draws = positive_int("draws", draws)
    photo = load_photo(size)
    unit = Preprocess((size, size), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # no normalisation
    torch.manual_seed(seed)
    columns: dict[str, list[torch.Tensor]] = {"original": [photo] * draws}
    for name in PRESETS:
        transform = build_transforms(name, unit).train
        columns[name] = [transform(photo) for _ in range(draws)]
    lighting = PCALighting(*fit_pca_lighting(photo[None]), std=PCA_STD)
    columns[f"PCA lighting\nstd {PCA_STD:g} (AlexNet 0.1)"] = [
        lighting(photo) for _ in range(draws)
    ]
    elastic = ElasticDeform()
    gridded = _with_grid(photo, max(4, size // 8))
    columns["elastic (U-Net)\n3x3 grid, 10 px"] = [elastic(gridded) for _ in range(draws)]
    erasing = build_transforms(AugmentConfig(random_erasing=1.0), unit).train
    columns["random erasing"] = [erasing(photo) for _ in range(draws)]
    return columns


def gallery_figure(columns: dict[str, list[torch.Tensor]]) -> Figure:
    """A grid: one column per entry of ``columns``, one row per draw."""
    draws = len(next(iter(columns.values())))
    fig = Figure(figsize=(1.25 * len(columns), 1.3 * draws + 0.45), layout="constrained")
    axes = np.atleast_2d(fig.subplots(draws, len(columns), squeeze=False))
    for j, (title, images) in enumerate(columns.items()):
        for i, image in enumerate(images):
            ax = axes[i, j]
            ax.imshow(image.clamp(0, 1).permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=7)
    return fig


def save_augmentation_gallery(
    out: str | os.PathLike[str], size: int = 96, draws: int = 2, seed: int = 0, dpi: int = 72
) -> Path:
    """Draw the gallery and write it to ``out`` (PNG) atomically; ``out`` is checked first."""
    path = check_output_file("out", out, {".png"})
    fig = gallery_figure(gallery_images(size, draws, seed))
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
    return path
