"""Predicting on image files with a trained run, each preprocessed as a validation image.

A file is decoded as an image folder's validation images are (PIL, converted to RGB:
:func:`cnnlab.data.images.load_rgb`), then goes through the run's validation transform
(:meth:`cnnlab.data.transforms.Preprocess.transform`: the run's channels, resize to its input
size, scale to [0, 1], standardise with its training statistics). Every file is checked before
the first is predicted: an unreadable one is one error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from cnnlab.core.files import expand_path
from cnnlab.core.validate import positive_int
from cnnlab.data.images import image_problem, load_rgb
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.train.trained import TrainedRun

__all__ = ["Prediction", "check_images", "image_sizes", "load_images", "predict_images"]

CHUNK = 64  # images per forward pass


@dataclass
class Prediction:
    """The task's results for image files.

    Attributes:
        paths: the files, in the order given.
        outputs: the model's outputs (what the task's ``predict`` took).
        results: one JSON-ready result per file (for classification, ``top``: the ``top_k``
            classes with their probabilities).
    """

    paths: list[Path]
    outputs: Any
    results: list[dict[str, Any]]


def check_images(paths: Sequence[str | Path]) -> list[Path]:
    """The files with ``~`` expanded, each checked to decode.

    Raises:
        ValueError: no file given, or the first file that is missing or cannot be decoded.
    """
    if not paths:
        raise ValueError("give at least one image file")
    files = [expand_path(p) for p in paths]
    for path in files:
        if path.is_dir():
            raise ValueError(f"cannot read image {str(path)!r}: it is a folder")
        problem = image_problem(str(path))
        if problem is not None:
            if not path.exists():
                problem = "no such file"
            raise ValueError(f"cannot read image {str(path)!r}: {problem}")
    return files


def load_images(paths: Sequence[Path], preprocess: Preprocess) -> Tensor:
    """The files as a batch of network inputs (the validation transform of ``preprocess``).

    Shape:
        (len(paths), in_chans, *image_size), float32.
    """
    transform = preprocess.transform()
    return torch.stack([transform(load_rgb(str(p))) for p in paths])


def image_sizes(paths: Sequence[Path]) -> list[tuple[int, int]]:
    """``(H, W)`` of each image file (read from its header)."""
    from PIL import Image

    sizes = []
    for path in paths:
        with Image.open(path) as image:
            width, height = image.size
        sizes.append((height, width))
    return sizes


@torch.no_grad()
def predict_images(run: TrainedRun, paths: Sequence[str | Path], top_k: int = 5) -> Prediction:
    """The run's predictions for image files.

    Args:
        run: the loaded run.
        paths: image files (any size; each is resized to the run's input).
        top_k: how many classes to give per image, most probable first (at most all of them).

    Raises:
        ValueError: ``top_k`` < 1, or an unreadable file.
    """
    top_k = positive_int("top_k", top_k)
    files = check_images(paths)
    run.model.eval()
    outputs = []
    with run.autocast():
        for start in range(0, len(files), CHUNK):
            images = load_images(files[start : start + CHUNK], run.preprocess).to(run.device)
            outputs.append(run.task.infer(run.model, images))
    # Tensors (classification, segmentation) or lists of per-image dicts (detection).
    joined: Any = [o for part in outputs for o in part]
    if isinstance(outputs[0], Tensor):
        joined = torch.cat(outputs)
    joined = run.task.to_image_sizes(joined, run.preprocess.image_size, image_sizes(files))
    results = run.task.predict(joined, run.classes, top_k)
    return Prediction(paths=files, outputs=joined, results=results)
