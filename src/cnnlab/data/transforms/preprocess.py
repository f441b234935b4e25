"""Preprocessing: how every image becomes a network input, the same for validation and predict.

:class:`Preprocess` is the whole deterministic pipeline, and the validation transform of every
dataset: convert the channels to the network's (grey or RGB), resize to ``image_size``, scale to
float in [0, 1], subtract the per-channel mean and divide by the per-channel standard deviation of
the training images (the notes' "zero-centre, then normalise"). It is a small dataclass, so a run
stores it (:meth:`Preprocess.to_dict`) and ``cnnlab predict`` rebuilds the very same transform
for image files (:meth:`Preprocess.from_dict`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from cnnlab.core.validate import int_pair


def channel_step(in_chans: int) -> list[v2.Transform]:
    """The step that gives an image ``in_chans`` channels: grey (1) or RGB (3); else none.

    ``Grayscale`` leaves a 1-channel image untouched (no rounding) and converts PIL images of any
    mode (palette, grey with alpha) through PIL; ``RGB`` replicates a grey channel.
    """
    if in_chans == 1:
        return [v2.Grayscale(num_output_channels=1)]
    if in_chans == 3:
        return [v2.RGB()]
    return []


@dataclass(frozen=True)
class Preprocess:
    """Resize to ``image_size`` and standardise per channel with training statistics.

    Attributes:
        image_size: (height, width) of the network's input.
        mean: per-channel mean of the training images, in [0, 1] units.
        std: per-channel standard deviation of the training images (> 0).

    Example:
        >>> pre = Preprocess((28, 28), (0.1311,), (0.3083,))
        >>> pre.transform()(torch.zeros(1, 28, 28)).shape
        torch.Size([1, 28, 28])
    """

    image_size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", int_pair("image_size", self.image_size))
        mean = tuple(float(m) for m in self.mean)
        std = tuple(float(s) for s in self.std)
        if not mean or len(mean) != len(std):
            raise ValueError(
                f"mean and std need one value per channel, got {len(mean)} and {len(std)}"
            )
        if not all(math.isfinite(m) for m in mean) or not all(
            math.isfinite(s) and s > 0 for s in std
        ):
            raise ValueError(f"std must be finite and > 0, mean finite; got {mean}, {std}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def in_chans(self) -> int:
        """Channels of the network's input (one per statistic)."""
        return len(self.mean)

    def head(self) -> list[v2.Transform]:
        """The first steps of every pipeline: channels, then a ``tv_tensors.Image``."""
        return [*channel_step(self.in_chans), v2.ToImage()]

    def tail(self) -> list[v2.Transform]:
        """The last steps of every pipeline: float in [0, 1], then standardisation."""
        return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(self.mean, self.std)]

    def transform(self) -> v2.Compose:
        """The validation transform: PIL image, uint8 or float tensor (C, H, W) -> float32.

        Shape:
            input (C', H', W') or a PIL image; output (in_chans, *image_size), float32.
        """
        return v2.Compose(
            [*self.head(), v2.Resize(self.image_size), *self.tail(), v2.ToPureTensor()]
        )

    def apply(self, images: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """:meth:`transform` on a batch of float images in [0, 1], computed in float64.

        The same operations (antialiased bilinear resize, then ``(x - mean) / std``) as the
        per-image transform, done once for a whole in-memory dataset; equal to it up to float32
        rounding (tested).

        Shape:
            images: (N, in_chans, H', W') floating; returns (N, in_chans, *image_size) float32.
        """
        if images.ndim != 4 or images.shape[1] != self.in_chans:
            raise ValueError(
                f"expected images of shape (N, {self.in_chans}, H, W), got {tuple(images.shape)}"
            )
        mean = torch.tensor(self.mean, dtype=torch.float64).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float64).view(1, -1, 1, 1)
        out = []
        for part in images.split(chunk):
            x = part.to(torch.float64)
            if tuple(x.shape[-2:]) != self.image_size:
                x = TF.resize(x, list(self.image_size), antialias=True)
            out.append(((x - mean) / std).to(torch.float32))
        if not out:
            return images.new_empty((0, self.in_chans, *self.image_size), dtype=torch.float32)
        return torch.cat(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (for ``config.json`` and checkpoints)."""
        return {"image_size": list(self.image_size), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float] | Sequence[int]]) -> Preprocess:
        """The inverse of :meth:`to_dict`."""
        size = data["image_size"]
        return cls((int(size[0]), int(size[1])), tuple(data["mean"]), tuple(data["std"]))
