"""Augmentation presets on ``torchvision.transforms.v2`` and the train/validation transform pair.

One table, :data:`PRESETS`, maps ``--augment`` names to the random steps a training image goes
through; :func:`build_transforms` wraps them between the dataset's preprocessing
(:class:`~cnnlab.data.transforms.preprocess.Preprocess`: channels, size, per-channel
standardisation) so that the validation transform is exactly ``Preprocess.transform()``, the one
``cnnlab predict`` rebuilds. The order follows torchvision's classification references
(``references/classification/presets.py``): geometric and policy steps on the image, then float
conversion, PCA lighting, normalisation, and random erasing last (on the normalised image, so it
erases to the mean).

=================  =====================================================================
preset             training steps
=================  =====================================================================
``none``           resize only (the validation transform)
``flip``           resize, horizontal flip (p = 0.5)
``crop``           resize, random crop with 1/8 of the side zero-padded around (CIFAR)
``standard``       ``RandomResizedCrop`` (scale 0.08-1, ratio 3/4-4/3), horizontal flip
``autoaugment``    ``standard`` + ``AutoAugment`` (ImageNet policy)
``randaugment``    ``standard`` + ``RandAugment`` (2 ops, magnitude 9)
``trivialaugment`` ``standard`` + ``TrivialAugmentWide``
=================  =====================================================================

The policies run on 1-channel images too (their colour operations do nothing on grey). For
segmentation and detection (image with its mask or boxes) only the geometric presets apply
(``none``, ``flip``, ``crop``, ``standard``; v2's policies refuse masks and boxes), masks padded
with the ignore index 255; ``ElasticDeform`` (U-Net) can be added for segmentation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from cnnlab.core.validate import number, one_of
from cnnlab.data.transforms.elastic import ElasticDeform
from cnnlab.data.transforms.lighting import PCALighting
from cnnlab.data.transforms.preprocess import Preprocess

IGNORE_INDEX = 255  # mask value of pixels without a label (padding, VOC's object borders)

Size = tuple[int, int]


def _resize(size: Size, fill: dict) -> list[v2.Transform]:
    return [v2.Resize(size)]


def _flip(size: Size, fill: dict) -> list[v2.Transform]:
    return [v2.Resize(size), v2.RandomHorizontalFlip()]


def _crop(size: Size, fill: dict) -> list[v2.Transform]:
    pad = max(1, round(min(size) / 8))  # CIFAR's 4 pixels around 32
    return [v2.Resize(size), v2.RandomCrop(size, padding=pad, fill=fill)]


def _standard(size: Size, fill: dict) -> list[v2.Transform]:
    return [v2.RandomResizedCrop(size), v2.RandomHorizontalFlip()]


def _with_policy(policy: Callable[[], v2.Transform]) -> Callable[[Size, dict], list[v2.Transform]]:
    return lambda size, fill: [*_standard(size, fill), policy()]


@dataclass(frozen=True)
class Preset:
    """One ``--augment`` name: its random steps and whether they can move masks along."""

    steps: Callable[[Size, dict], list[v2.Transform]]
    joint: bool
    description: str


PRESETS: dict[str, Preset] = {
    "none": Preset(_resize, True, "resize only"),
    "flip": Preset(_flip, True, "horizontal flip"),
    "crop": Preset(_crop, True, "random crop, 1/8 padding"),
    "standard": Preset(_standard, True, "random resized crop + flip"),
    "autoaugment": Preset(_with_policy(v2.AutoAugment), False, "standard + AutoAugment"),
    "randaugment": Preset(_with_policy(v2.RandAugment), False, "standard + RandAugment"),
    "trivialaugment": Preset(
        _with_policy(v2.TrivialAugmentWide), False, "standard + TrivialAugmentWide"
    ),
}


@dataclass(frozen=True)
class AugmentConfig:
    """The augmentation options of a run (``cnnlab train`` flags of the same names).

    Attributes:
        augment: a :data:`PRESETS` name.
        random_erasing: probability of ``v2.RandomErasing`` per image (0: off).
        pca_lighting: standard deviation of AlexNet's PCA lighting noise (0: off).
        elastic: standard deviation in pixels of U-Net's :class:`ElasticDeform` coarse
            displacements (segmentation; U-Net: 10), 0: off.
    """

    augment: str = "none"
    random_erasing: float = 0.0
    pca_lighting: float = 0.0
    elastic: float = 0.0

    def __post_init__(self) -> None:
        one_of("augment", self.augment, PRESETS)
        number("random_erasing", self.random_erasing, minimum=0, maximum=1)
        number("pca_lighting", self.pca_lighting, minimum=0)
        number("elastic", self.elastic, minimum=0)

    @property
    def is_identity(self) -> bool:
        """True when training images get exactly the validation transform."""
        return (
            self.augment == "none"
            and self.random_erasing == 0
            and self.pca_lighting == 0
            and self.elastic == 0
        )


@dataclass(frozen=True)
class TransformPair:
    """The training and validation transforms of a dataset.

    Attributes:
        train: random; a sample (image) or (image, mask) of ``tv_tensors`` goes in.
        val: deterministic, ``Preprocess.transform()`` (for ``joint``, its steps on image and mask).
        train_is_val: the training transform is the validation one (no augmentation), so a
            dataset may apply it once, eagerly.
    """

    train: v2.Transform
    val: v2.Transform
    train_is_val: bool


def random_erasing(p: float) -> v2.RandomErasing:
    """``v2.RandomErasing(p)`` (Zhong et al., AAAI 2020) with torchvision's defaults: a box of
    2-33% of the area, aspect 0.3-3.3, set to 0 (the mean, after normalisation)."""
    return v2.RandomErasing(p=number("random_erasing", p, minimum=0, maximum=1))


TARGETS = ("label", "mask", "boxes")


def build_transforms(
    augment: str | AugmentConfig,
    preprocess: Preprocess,
    *,
    pca: tuple[torch.Tensor, torch.Tensor] | None = None,
    target: str = "label",
) -> TransformPair:
    """The train/validation transforms for a preset and a dataset's preprocessing.

    Args:
        augment: a :data:`PRESETS` name, or an :class:`AugmentConfig` with the extra options.
        preprocess: size and per-channel statistics of the dataset.
        pca: ``(eigval, eigvec)`` from :func:`~cnnlab.data.transforms.lighting.fit_pca_lighting`;
            needed when the config's ``pca_lighting`` > 0.
        target: what goes through the transform with the image: ``"label"`` (nothing: a class
            or a multi-hot vector), ``"mask"`` (a ``tv_tensors.Mask``: it follows every
            geometric step, padded with 255, never normalised) or ``"boxes"`` (a target dict
            with ``BoundingBoxes`` and ``labels``; boxes that leave the image are dropped).

    Raises:
        InvalidArgument: an unknown preset (with close matches) or an option out of range.
        ValueError: a preset or option that cannot move masks or boxes, or ``pca_lighting``
            without ``pca``.
    """
    config = augment if isinstance(augment, AugmentConfig) else AugmentConfig(augment)
    one_of("target", target, TARGETS)
    preset = PRESETS[config.augment]
    joint = target != "label"
    if joint and not preset.joint:
        allowed = [name for name, p in PRESETS.items() if p.joint]
        raise ValueError(
            f"augment {config.augment!r} cannot move {target}s with the image (v2's policies "
            f"refuse them); for segmentation and detection choose one of {allowed}"
        )
    if joint and config.random_erasing:
        raise ValueError(
            f"random_erasing erases pixels but not their {target}s; use it for classification "
            "and multi-label only"
        )
    if config.elastic and target != "mask":
        raise ValueError(
            "elastic deformation is U-Net's augmentation for segmentation (image and mask "
            "warped together); boxes and class labels cannot follow it"
        )
    fill = {tv_tensors.Image: 0, tv_tensors.Mask: IGNORE_INDEX, "others": 0}
    steps = [*preprocess.head(), *preset.steps(preprocess.image_size, fill)]
    if config.elastic:
        steps += [v2.ToDtype(torch.float32, scale=True), ElasticDeform(sigma=config.elastic)]
    tail = preprocess.tail()
    if config.pca_lighting:
        if pca is None:
            raise ValueError("pca_lighting needs (eigval, eigvec) fitted on the training images")
        tail.insert(1, PCALighting(*pca, std=config.pca_lighting))
    steps += tail
    if config.random_erasing:
        steps.append(random_erasing(config.random_erasing))
    if target == "boxes" and not config.is_identity:
        steps.append(v2.SanitizeBoundingBoxes())
    steps.append(v2.ToPureTensor())
    return TransformPair(v2.Compose(steps), preprocess.transform(), config.is_identity)
