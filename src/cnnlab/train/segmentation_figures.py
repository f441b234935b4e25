"""Pictures of segmentation: ``predictions.png`` (image, truth, prediction) and mask PNGs."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch import Tensor

from cnnlab.core.files import atomic_write
from cnnlab.data.transforms.presets import IGNORE_INDEX

__all__ = ["class_colours", "colour_masks", "mask_png", "predictions_figure"]


def class_colours(num_classes: int) -> np.ndarray:
    """RGB in [0, 1] per class: black background (class 0), then matplotlib's tab10/tab20.

    Shape:
        (num_classes, 3)
    """
    from matplotlib import colormaps

    cmap = colormaps["tab10" if num_classes <= 11 else "tab20"]
    colours = [np.zeros(3)] + [np.asarray(cmap(i % cmap.N)[:3]) for i in range(num_classes - 1)]
    return np.stack(colours)


def colour_masks(masks: Tensor, num_classes: int) -> np.ndarray:
    """Masks as RGB pictures (white where ``IGNORE_INDEX``).

    Shape:
        masks (N, H, W) -> (N, H, W, 3)
    """
    m = masks.cpu().numpy().astype(np.int64)
    palette = np.concatenate([class_colours(num_classes), np.ones((1, 3))])
    return palette[np.where(m == IGNORE_INDEX, num_classes, np.clip(m, 0, num_classes - 1))]


def predictions_figure(
    images: Tensor, truth: Tensor, pred: Tensor, class_names: list[str] | None = None
):
    """A row per image: the (standardised) image, the true mask and the predicted mask.

    Images larger than the masks (a valid-convolution U-Net) are shown whole.

    Shape:
        images (N, C, H, W); truth, pred (N, h, w)
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    n = images.shape[0]
    num_classes = len(class_names) if class_names else int(max(truth.max(), pred.max())) + 1
    if class_names is None:
        class_names = [str(i) for i in range(num_classes)]
    truth = truth.where(truth < num_classes, IGNORE_INDEX)
    fig = Figure(figsize=(6.6, 2.2 * n + 0.6))
    axes = fig.subplots(n, 3, squeeze=False)
    for row, title in zip(axes[0], ("image", "truth", "prediction"), strict=True):
        row.set_title(title)
    pictures = images.detach().float().cpu()
    for i in range(n):
        x = pictures[i]
        grey = x[0].numpy() if x.shape[0] != 3 else x.permute(1, 2, 0).numpy()
        if grey.ndim == 3:
            grey = (grey - grey.min()) / max(float(grey.max() - grey.min()), 1e-12)
        axes[i, 0].imshow(grey, cmap="gray" if grey.ndim == 2 else None)
        axes[i, 1].imshow(colour_masks(truth[i : i + 1], num_classes)[0])
        axes[i, 2].imshow(colour_masks(pred[i : i + 1], num_classes)[0])
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    colours = class_colours(num_classes)
    handles = [Patch(color=colours[c], label=class_names[c]) for c in range(num_classes)]
    fig.legend(handles=handles, loc="lower center", ncol=min(num_classes, 6), fontsize=7)
    fig.tight_layout(rect=(0, 0.06 if n > 1 else 0.12, 1, 1))
    return fig


def mask_png(mask: Tensor) -> Callable[[Path], None]:
    """A writer of ``mask`` (H, W) as an 8-bit index PNG (mode L: pixel value = class)."""
    from PIL import Image

    values = mask.cpu().numpy()
    if values.min() < 0 or values.max() > 255:
        raise ValueError(f"mask classes must be in [0, 255] for an 8-bit PNG, got {values.max()}")
    picture = Image.fromarray(values.astype(np.uint8))  # 2-D uint8: mode L

    def write(path: Path) -> None:
        buf = io.BytesIO()
        picture.save(buf, format="PNG")
        atomic_write(path, lambda f: f.write(buf.getvalue()))

    return write
