"""Transforms on ``torchvision.transforms.v2``: preprocessing, augmentation presets, and the
augmentations of the notes that torchvision lacks.

* :class:`Preprocess`: channels, size and per-channel standardisation (the validation transform,
  also what ``cnnlab predict`` applies to image files).
* :data:`PRESETS`, :func:`build_transforms`, :class:`AugmentConfig`, :func:`random_erasing`:
  ``--augment none|flip|crop|standard|autoaugment|randaugment|trivialaugment``.
* :func:`mixup_cutmix`: v2's MixUp/CutMix as one batch transform with soft targets.
* :func:`fit_pca_lighting`, :class:`PCALighting`: AlexNet's "fancy PCA" colour noise.
* :class:`ElasticDeform`: U-Net's coarse-grid elastic deformation of an image and its mask.
"""

from cnnlab.data.transforms.elastic import ElasticDeform, elastic_deform, elastic_field
from cnnlab.data.transforms.lighting import PCALighting, fit_pca_lighting, pca_lighting_shift
from cnnlab.data.transforms.mixing import mixup_cutmix
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import (
    IGNORE_INDEX,
    PRESETS,
    AugmentConfig,
    TransformPair,
    build_transforms,
    random_erasing,
)

__all__ = [
    "IGNORE_INDEX",
    "PRESETS",
    "AugmentConfig",
    "ElasticDeform",
    "PCALighting",
    "Preprocess",
    "TransformPair",
    "build_transforms",
    "elastic_deform",
    "elastic_field",
    "fit_pca_lighting",
    "mixup_cutmix",
    "pca_lighting_shift",
    "random_erasing",
]
