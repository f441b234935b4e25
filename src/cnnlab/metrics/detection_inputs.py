"""Detections and ground truth as torchvision's detectors give them, checked and flattened.

Per image, a prediction is a dict with ``boxes`` ``(D, 4)`` (``x1, y1, x2, y2``, widths
``x2 - x1`` as ``torchvision.ops``), ``scores`` ``(D,)`` and ``labels`` ``(D,)`` (integers); a
target has ``boxes`` ``(G, 4)`` and ``labels`` ``(G,)``. Other keys (``masks``, ...) are
ignored. The mAP code works on all images at once, so the per-image tensors are concatenated
into flat float64 tensors with an image index per box.

Types and shapes are checked per image; values (finite coordinates, ``x2 >= x1``,
``y2 >= y1``, finite scores) once over the concatenation, on the CPU only (on an accelerator
they are the caller's contract: see :mod:`cnnlab.metrics._checks`). Errors name the image and
the box, e.g. ``predictions[3]['boxes'][0]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from cnnlab.metrics._checks import as_tensor

__all__ = ["Boxes", "flatten_detections"]


@dataclass(frozen=True)
class Boxes:
    """Boxes of many images in one tensor: ``boxes`` ``(N, 4)`` float64, ``labels`` ``(N,)``
    int64, ``image`` ``(N,)`` int64 (the index of each box's image), ``scores`` ``(N,)``
    float64 for detections (None for ground truth)."""

    boxes: Tensor
    labels: Tensor
    image: Tensor
    scores: Tensor | None = None

    def __len__(self) -> int:
        return self.boxes.shape[0]


_FIELDS = {"predictions": ("boxes", "scores", "labels"), "targets": ("boxes", "labels")}


def _image_fields(entry: Any, where: str, kind: str) -> dict[str, Tensor]:
    if not isinstance(entry, Mapping):
        raise ValueError(
            f"{where} must be a dict with keys {list(_FIELDS[kind])}, got {type(entry).__name__}"
        )
    missing = [k for k in _FIELDS[kind] if k not in entry]
    if missing:
        raise ValueError(f"{where} lacks {missing}; {kind} need {list(_FIELDS[kind])}")
    fields = {k: as_tensor(entry[k], f"{where}[{k!r}]") for k in _FIELDS[kind]}
    boxes = fields["boxes"]
    if not boxes.is_floating_point() or boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{where}['boxes'] must be a floating-point tensor of shape (N, 4) (x1, y1, x2, y2), "
            f"got shape {tuple(boxes.shape)} of dtype {boxes.dtype}"
        )
    n = boxes.shape[0]
    for key in _FIELDS[kind][1:]:
        value = fields[key]
        if value.shape != (n,):
            raise ValueError(
                f"{where}[{key!r}] must have shape ({n},), one per box, got {tuple(value.shape)}"
            )
    labels = fields["labels"]
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{where}['labels'] must be integers, got dtype {labels.dtype}")
    if kind == "predictions" and not fields["scores"].is_floating_point():
        raise ValueError(
            f"{where}['scores'] must be floating point, got dtype {fields['scores'].dtype}"
        )
    return fields


def _check_values(flat: Boxes, counts: list[int], kind: str) -> None:
    """Finite coordinates, ordered corners and finite scores, on the CPU."""
    if not flat.boxes.is_cpu or len(flat) == 0:
        return
    b = flat.boxes
    bad = ~torch.isfinite(b).all(dim=1) | (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    what = "boxes"
    rule = "finite (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1"
    if not bool(bad.any()) and flat.scores is not None:
        bad, what, rule = ~torch.isfinite(flat.scores), "scores", "finite"
    if not bool(bad.any()):
        return
    row = int(torch.nonzero(bad)[0])
    image = int(flat.image[row])
    local = row - sum(counts[:image])
    value = (flat.boxes if what == "boxes" else flat.scores)[row].tolist()
    raise ValueError(f"{kind}[{image}][{what!r}][{local}] must be {rule}, got {value}")


def _flatten(entries: Sequence[Any], kind: str, device: torch.device) -> Boxes:
    per_image = [_image_fields(e, f"{kind}[{i}]", kind) for i, e in enumerate(entries)]
    counts = [f["boxes"].shape[0] for f in per_image]

    def cat(key: str, dtype: torch.dtype) -> Tensor:
        if not per_image:
            shape = (0, 4) if key == "boxes" else (0,)
            return torch.zeros(shape, dtype=dtype, device=device)
        return torch.cat([f[key].to(device=device, dtype=dtype) for f in per_image])

    flat = Boxes(
        boxes=cat("boxes", torch.float64),
        labels=cat("labels", torch.int64),
        image=torch.repeat_interleave(
            torch.arange(len(counts), device=device),
            torch.tensor(counts, dtype=torch.int64, device=device),
        ),
        scores=cat("scores", torch.float64) if kind == "predictions" else None,
    )
    _check_values(flat, counts, kind)
    return flat


def flatten_detections(predictions: Any, targets: Any) -> tuple[Boxes, Boxes]:
    """Check per-image predictions and targets and concatenate them.

    Args:
        predictions: a list (one per image) of dicts with ``boxes``, ``scores``, ``labels``.
        targets: a list of the same length of dicts with ``boxes``, ``labels``.

    Returns:
        ``(detections, ground_truth)`` as :class:`Boxes`, float64, on the device of the first
        box tensor (the CPU for Apple's MPS, which has no float64).

    Raises:
        ValueError: not lists of equal length, a missing key, a wrong shape or dtype, or (on the
            CPU) a non-finite value or a box with x2 < x1 or y2 < y1.
    """
    for value, kind in ((predictions, "predictions"), (targets, "targets")):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise ValueError(
                f"{kind} must be a list with one dict per image, got {type(value).__name__}"
            )
    if len(predictions) != len(targets):
        raise ValueError(
            "predictions and targets must have one entry per image each, "
            f"got {len(predictions)} and {len(targets)}"
        )
    device = torch.device("cpu")
    for entry in (*predictions, *targets):
        boxes = entry.get("boxes") if isinstance(entry, Mapping) else None
        if isinstance(boxes, Tensor):
            device = boxes.device if boxes.device.type != "mps" else device
            break
    return _flatten(predictions, "predictions", device), _flatten(targets, "targets", device)
