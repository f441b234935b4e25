"""The task interface: the few things the loop and the eval commands ask of a kind of target.

The training loop (:mod:`cnnlab.train.trainer`) never looks at targets itself. Per batch it asks
the task to move the batch to the device, to compute the loss (and the outputs) from the model,
and to count the training scores on the device; per epoch it asks for a meter (from
:mod:`cnnlab.metrics`) that validation fills, for the sums across processes, and for the scores.
``cnnlab eval`` and ``cnnlab predict`` ask it to turn the outputs of a dataset or of image files
into a report (and files), ``cnnlab ensemble`` to turn outputs into probabilities and back, and
both to restore what it fitted during training (:meth:`Task.load_state_dict`). A new task
(segmentation, multi-label, detection) is one subclass in one file of this package; it names its
scores, and ``--monitor`` and ``metrics.csv`` follow.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from cnnlab.data import DatasetBundle

Reduce = Callable[[Tensor], Tensor]
"""Sums a tensor over every process (identity in a single process)."""

BatchTransform = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
"""A transform of a whole training batch (MixUp/CutMix): ``(inputs, targets) -> same``."""


@dataclass
class EvalReport:
    """What ``cnnlab eval`` writes and prints for one dataset.

    Attributes:
        metrics: the scores (``metrics.json``), plain Python values.
        files: file name -> function writing that file (given its path), e.g.
            ``predictions.csv``, ``confusion_matrix.png``.
        table: lines of text summarising the scores (printed).
    """

    metrics: dict[str, Any]
    files: dict[str, Callable[[Path], None]] = field(default_factory=dict)
    table: list[str] = field(default_factory=list)


class Task(ABC):
    """A kind of target: its loss, its training and validation scores, its reports.

    Subclasses set ``name`` (registered on definition), ``scores`` (validation score name ->
    ``"max"`` or ``"min"``: ``metrics.csv`` gets a ``val_<name>`` column, ``--monitor`` accepts
    ``val_<name>``), ``train_scores`` (running training scores, ``train_<name>`` columns) and
    ``default_monitor`` and ``model_task`` (which registry models it trains).

    Args:
        data: the dataset bundle (classes, channels, image size).
        label_smoothing: the loss's label smoothing, where the task has one.
    """

    registry: ClassVar[dict[str, type[Task]]] = {}
    name: ClassVar[str]
    scores: ClassVar[dict[str, str]]
    train_scores: ClassVar[tuple[str, ...]] = ()
    default_monitor: ClassVar[str]
    model_task: ClassVar[str] = "classification"  # the registry task of the models it trains
    # The task's default recipe: TrainConfig options that ``cnnlab train --task NAME`` uses
    # unless given (cnnlab.train.recipes); empty: TrainConfig's own defaults.
    recipe: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return
        if name in Task.registry:
            raise ValueError(f"task {name!r} is defined twice")
        Task.registry[name] = cls

    def __init__(self, data: DatasetBundle, *, label_smoothing: float = 0.0) -> None:
        self.data = data
        self.label_smoothing = label_smoothing

    # ------------------------------------------------------------------ names
    @classmethod
    def monitors(cls) -> dict[str, str]:
        """Every name ``--monitor`` accepts, with its direction (``"max"`` or ``"min"``)."""
        return {"val_loss": "min", **{f"val_{k}": mode for k, mode in cls.scores.items()}}

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The per-epoch values of ``metrics.csv`` (between ``epoch`` and ``lr``)."""
        return (
            "train_loss",
            *(f"train_{s}" for s in cls.train_scores),
            "val_loss",
            *(f"val_{s}" for s in cls.scores),
        )

    # ------------------------------------------------------------------ training
    def to_device(
        self, batch: Any, device: torch.device, *, channels_last: bool = False
    ) -> tuple[Any, Any]:
        """``(inputs, targets)`` of a loader batch on ``device`` (non-blocking copies)."""
        inputs, targets = batch
        inputs = inputs.to(device, non_blocking=True)
        if channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs, targets.to(device, non_blocking=True)

    def batch_size(self, targets: Any) -> int:
        """Samples in a batch (read from shapes: no device synchronisation)."""
        return int(targets.shape[0])

    def batch_transform(self, mixup: float = 0.0, cutmix: float = 0.0) -> BatchTransform | None:
        """The batch transform for MixUp/CutMix, or ``None`` (tasks without soft targets)."""
        if mixup or cutmix:
            raise ValueError(f"mixup and cutmix mix class labels; task {self.name!r} has none")
        return None

    @abstractmethod
    def loss(self, model: nn.Module, inputs: Any, targets: Any) -> tuple[Tensor, Any]:
        """The batch's mean loss and the model's outputs.

        Shape:
            loss: () on the inputs' device.
        """

    def train_counts(self, outputs: Any, targets: Any) -> Tensor | None:
        """Sums over the batch behind ``train_scores`` (on the device), or None if there are none.

        Shape:
            (len(train_scores),), or () for one score; any dtype (summed in float64)
        """
        return None

    def train_values(self, counts: list[float], seen: int) -> dict[str, float]:
        """The training scores from the epoch's summed counts and its number of samples."""
        return {}

    # ------------------------------------------------------------------ validation
    @abstractmethod
    def meter(self) -> Any:
        """A fresh meter of :mod:`cnnlab.metrics` for one pass over the validation set."""

    @abstractmethod
    def update(self, meter: Any, outputs: Any, targets: Any) -> None:
        """Count one validation batch (on the device, nothing read)."""

    @abstractmethod
    def sync(self, meter: Any, reduce: Reduce) -> None:
        """Sum the meter's counts over processes (``reduce``) before :meth:`values`."""

    @abstractmethod
    def values(self, meter: Any) -> dict[str, float]:
        """The validation scores named in ``scores`` (read once, at the end of an epoch)."""

    # ------------------------------------------------------------------ eval and predict
    def collect(self, model: nn.Module, loader: Any, device: torch.device) -> tuple[Tensor, Tensor]:
        """The model's outputs and the targets over a whole loader, on the CPU, in order."""
        outputs, targets = [], []
        model.eval()
        with torch.no_grad():
            for batch in loader:
                inputs, target = self.to_device(batch, device)
                outputs.append(model(inputs).float().cpu())
                targets.append(target.cpu())
        return torch.cat(outputs), torch.cat(targets)

    @abstractmethod
    def report(self, outputs: Tensor, targets: Tensor, class_names: list[str]) -> EvalReport:
        """The scores, files and table of ``cnnlab eval`` for collected outputs."""

    @abstractmethod
    def predict(self, outputs: Tensor, class_names: list[str], top_k: int) -> list[dict[str, Any]]:
        """One JSON-ready result per image for ``cnnlab predict``."""

    def infer(self, model: nn.Module, images: Tensor) -> Any:
        """The model's outputs for a batch of preprocessed image files (``cnnlab predict``),
        on the CPU, in the form :meth:`predict` takes. Default: ``model(images)`` in float32.

        Shape:
            images: (N, C, H, W), the run's validation preprocessing applied.
        """
        return model(images).float().cpu()

    def to_image_sizes(
        self, outputs: Any, input_size: tuple[int, int], sizes: list[tuple[int, int]]
    ) -> Any:
        """The outputs of :meth:`infer` (for inputs resized to ``input_size``) for the image
        files' own sizes (``sizes``: ``(H, W)`` per file), for ``cnnlab predict``. Default: the
        outputs as they are (class scores do not depend on the size)."""
        return outputs

    def predict_table(self, names: list[str], results: list[dict[str, Any]]) -> list[str]:
        """``cnnlab predict --format table``: lines of text for the results of :meth:`predict`
        (``names``: the image files). Default: one line per image, its result as JSON."""
        width = max(len(n) for n in names)
        return [
            f"{n:<{width}}  {json.dumps(r, sort_keys=True)}"
            for n, r in zip(names, results, strict=True)
        ]

    def prediction_files(
        self, outputs: Any, paths: list[Path], class_names: list[str]
    ) -> dict[str, Callable[[Path], None]]:
        """Files ``cnnlab predict --out DIR`` writes besides ``predictions.json`` (file name ->
        function writing it, given its path): masks, drawn boxes. Default: none."""
        return {}

    # ------------------------------------------------------------------ ensembles
    def probabilities(self, outputs: Tensor) -> Tensor:
        """The outputs as probabilities that ``cnnlab ensemble`` averages over members.

        Raises:
            ValueError: the task's outputs cannot be averaged (default).
        """
        raise ValueError(f"cnnlab ensemble averages probabilities; task {self.name!r} has none")

    def from_probabilities(self, probs: Tensor) -> Tensor:
        """Outputs (as :meth:`report` takes them) whose :meth:`probabilities` are ``probs``."""
        raise ValueError(f"cnnlab ensemble averages probabilities; task {self.name!r} has none")

    # ------------------------------------------------------------------ fitted state
    def state_dict(self) -> dict[str, Any]:
        """What the task fitted during training and eval/predict need (e.g. multi-label
        per-class thresholds): plain values and tensors, saved in checkpoints as ``"task"``.
        Default: nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (``cnnlab eval`` and ``predict`` call it with the
        checkpoint's ``"task"``, ``{}`` when absent). Default: nothing to restore."""
        return None

    def write_figures(self, model: nn.Module, run_dir: Path, device: torch.device) -> None:
        """Write the task's per-epoch figures into ``run_dir`` beside ``curves.png`` (the
        segmentation task's ``predictions.png``); nothing by default."""
        return None

    def bind(self, model: nn.Module) -> None:  # noqa: B027 (optional hook)
        """Meet the model the run trains, once, before any batch (detection reads the names of
        its loss terms, which become ``train_<term>`` columns); nothing by default."""
