"""Detection: torchvision-style detectors trained on their own loss dict, scored by COCO mAP.

A batch is ``(images, targets)`` as :func:`~cnnlab.data.detection_collate` makes it: a list of
``(C, H, W)`` images and a list of dicts with ``boxes`` (``(K, 4)``, ``x1, y1, x2, y2`` pixels)
and ``labels`` (1 ... ``num_classes - 1``; 0 is the background). In training mode a detector
(:mod:`cnnlab.detection`) returns its losses; the loop minimises their **sum** (torchvision's
references do the same), and each term gets its own ``train_<term>`` column in ``metrics.csv``
(RetinaNet: ``train_classification``, ``train_bbox_regression``; Faster R-CNN:
``train_classifier``, ``train_box_reg``, ``train_objectness``, ``train_rpn_box_reg``: the
model's key without ``loss_``), each the mean over the epoch's images as ``train_loss`` is.

In evaluation mode a detector returns detections, not losses, so there is no validation loss:
the columns are ``epoch, train_loss, <terms>, val_map, val_map_50, lr, seconds`` and
``--monitor`` takes ``val_map`` (default) or ``val_map_50``. (The loop's ``val_loss``, which it
still asks for, is 0 here.) mAP is :func:`cnnlab.metrics.mean_average_precision`: COCO's
101-point AP over IoU 0.50:0.05:0.95 (``val_map``) and at IoU 0.5 (``val_map_50``), equal to
pycocotools' ``COCOeval`` (tested in tests/metrics). Each epoch writes ``predictions.png``:
the detections on the first validation images, with the ground truth dashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from cnnlab.core.files import atomic_write
from cnnlab.detection.drawing import TRUTH_COLOUR, draw_boxes, show_image
from cnnlab.metrics import mean_average_precision
from cnnlab.metrics.detection_map import DetectionMeter
from cnnlab.train.tasks.base import EvalReport, Reduce, Task

__all__ = ["Detection", "term_column"]

SHOWN = 8  # validation images in predictions.png
SCORE_SHOWN = 0.5  # detections drawn in predictions.png score at least this


def term_column(name: str) -> str:
    """The column suffix of a loss term: the model's key without a leading ``loss_``."""
    return name.removeprefix("loss_")


def _to(target: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in target.items()}


class Detection(Task):
    """Boxes and classes per image: the detector's summed losses, COCO mAP on validation.

    The detector's loss terms (``model.loss_names``) are read when the run binds the model
    (:meth:`bind`); they name the ``train_<term>`` columns.
    """

    name: ClassVar[str] = "detection"
    model_task: ClassVar[str] = "detection"
    scores: ClassVar[dict[str, str]] = {"map": "max", "map_50": "max"}
    default_monitor: ClassVar[str] = "val_map"
    # retinanet_resnet18_fpn (anchors 24-609 px, GroupNorm head) on the 128-px scenes, batch 8,
    # 5 epochs (2500 iterations); measured in docs/detection.md ("What training reaches").
    recipe: ClassVar[dict[str, Any]] = {
        "model": "retinanet_resnet18_fpn",
        "dataset": "scenes",
        "image_size": 128,
        "epochs": 5,
        "batch_size": 8,
        "optimizer": "adam",
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "scheduler": "cosine",
        "clip_grad_norm": 10.0,
    }

    def __init__(self, data: Any, *, label_smoothing: float = 0.0) -> None:
        if label_smoothing:
            raise ValueError(
                f"label_smoothing applies to classification, not to detection; got "
                f"{label_smoothing}, allowed: 0"
            )
        super().__init__(data, label_smoothing=label_smoothing)
        self.num_classes = int(data.num_classes)
        self.loss_names: tuple[str, ...] = ()
        self.train_scores: tuple[str, ...] = ()  # type: ignore[misc]  # the model's terms

    # ------------------------------------------------------------------ names
    @classmethod
    def monitors(cls) -> dict[str, str]:
        """``val_map`` and ``val_map_50`` (no ``val_loss``: detectors evaluate to boxes)."""
        return {f"val_{k}": mode for k, mode in cls.scores.items()}

    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        """``train_loss``, one ``train_<term>`` per loss term, ``val_map``, ``val_map_50``."""
        return (
            "train_loss",
            *(f"train_{s}" for s in self.train_scores),
            *(f"val_{s}" for s in self.scores),
        )

    def bind(self, model: nn.Module) -> None:
        names = tuple(getattr(model, "loss_names", ()))
        if not names:
            raise ValueError(
                f"task 'detection' trains detectors that return a loss dict (model.loss_names), "
                f"got a {type(model).__name__}; see `cnnlab models --task detection`"
            )
        self.loss_names = names
        self.train_scores = tuple(term_column(n) for n in names)

    # ------------------------------------------------------------------ training
    def to_device(
        self, batch: Any, device: torch.device, *, channels_last: bool = False
    ) -> tuple[list[Tensor], list[dict[str, Tensor]]]:
        """Images and target dicts on ``device`` (``channels_last`` applies to each image's
        batch inside the detector, not here: the images are lists)."""
        images, targets = batch
        return (
            [image.to(device, non_blocking=True) for image in images],
            [_to(target, device) for target in targets],
        )

    def batch_size(self, targets: Any) -> int:
        return len(targets)

    def loss(
        self, model: nn.Module, inputs: list[Tensor], targets: list[dict[str, Tensor]]
    ) -> tuple[Tensor, Any]:
        """Training: the sum of the detector's losses and the (T,) detached terms.
        Evaluation: a zero loss and the detections (one dict per image)."""
        if not model.training:
            detections = model(inputs)
            return torch.zeros((), device=inputs[0].device), detections
        losses = model(inputs, targets)
        missing = [n for n in self.loss_names if n not in losses]
        if missing:
            raise ValueError(f"the detector's losses {sorted(losses)} lack {missing}")
        terms = torch.stack([losses[n] for n in self.loss_names])
        return terms.sum(), terms.detach()

    def train_counts(self, outputs: Tensor, targets: Any) -> Tensor:
        return outputs.double() * len(targets)

    def train_values(self, counts: list[float], seen: int) -> dict[str, float]:
        return {s: c / max(seen, 1) for s, c in zip(self.train_scores, counts, strict=False)}

    # ------------------------------------------------------------------ validation
    def meter(self) -> DetectionMeter:
        return DetectionMeter()

    def update(self, meter: DetectionMeter, outputs: Any, targets: Any) -> None:
        meter.update(outputs, targets)

    def sync(self, meter: DetectionMeter, reduce: Reduce) -> None:
        # mAP ranks detections across all images: it needs them gathered, not summed.
        processes = int(reduce(torch.ones((), device=self._device(meter))).item())
        if processes > 1:
            raise ValueError(
                f"detection's validation mAP needs every image's detections in one process; "
                f"got {processes} processes (torchrun): train detectors in a single process"
            )

    @staticmethod
    def _device(meter: DetectionMeter) -> torch.device:
        return meter.targets[0]["boxes"].device if meter.targets else torch.device("cpu")

    def values(self, meter: DetectionMeter) -> dict[str, float]:
        result = meter.compute()
        return {"map": result["map"], "map_50": result["map_50"]}

    def write_figures(self, model: nn.Module, run_dir: Path, device: torch.device) -> None:
        """``predictions.png``: detections scoring >= 0.5 on the first validation images."""
        samples = [self.data.val[i] for i in range(min(SHOWN, len(self.data.val)))]
        if not samples:
            return
        model.eval()
        with torch.no_grad():
            detections = model([image.to(device) for image, _ in samples])
        fig = predictions_figure(
            [image for image, _ in samples],
            [target for _, target in samples],
            detections,
            self.data.classes,
        )
        atomic_write(run_dir / "predictions.png", lambda f: fig.savefig(f, format="png", dpi=100))

    # ------------------------------------------------------------------ eval and predict
    def collect(self, model: nn.Module, loader: Any, device: torch.device) -> tuple[Any, Any]:
        """Every image's detections and targets, on the CPU, in order (lists of dicts)."""
        outputs: list[dict[str, Tensor]] = []
        targets: list[dict[str, Tensor]] = []
        model.eval()
        with torch.no_grad():
            for batch in loader:
                images, target = self.to_device(batch, device)
                outputs += [_to(d, torch.device("cpu")) for d in model(images)]
                targets += [_to(t, torch.device("cpu")) for t in target]
        return outputs, targets

    def report(self, outputs: Any, targets: Any, class_names: list[str]) -> EvalReport:
        """``metrics.json``: ``map``, ``map_50``, ``map_75`` and AP per class name."""
        result = mean_average_precision(outputs, targets)

        def name(label: int) -> str:
            return class_names[label] if 0 <= label < len(class_names) else str(label)

        per_class = {name(k): v for k, v in result["per_class"].items()}
        metrics = {**{k: result[k] for k in ("map", "map_50", "map_75")}, "per_class": per_class}
        width = max([len("class"), *(len(n) for n in per_class)])
        lines = [f"{'class':<{width}}  AP@[.5:.95]"]
        lines += [f"{n:<{width}}  {ap:11.4f}" for n, ap in per_class.items()]
        lines.append(
            f"mAP {result['map']:.4f}, mAP@0.5 {result['map_50']:.4f}, "
            f"mAP@0.75 {result['map_75']:.4f} on {len(targets)} images"
        )
        return EvalReport(metrics=metrics, table=lines)

    def infer(self, model: nn.Module, images: Tensor) -> list[dict[str, Tensor]]:
        """The detections of each image (the batch as a list), on the CPU, boxes and scores
        in float32, boxes in the input's pixels."""
        detections = model(list(images))
        return [
            {
                "boxes": d["boxes"].float().cpu(),
                "scores": d["scores"].float().cpu(),
                "labels": d["labels"].cpu(),
            }
            for d in detections
        ]

    def to_image_sizes(
        self,
        outputs: list[dict[str, Tensor]],
        input_size: tuple[int, int],
        sizes: list[tuple[int, int]],
    ) -> list[dict[str, Tensor]]:
        """Boxes in each image file's own pixels: x scaled by ``W / input W``, y by
        ``H / input H`` (the files were resized to the input size, aspect not kept)."""
        rescaled = []
        for det, (height, width) in zip(outputs, sizes, strict=True):
            scale = torch.tensor(
                [width / input_size[1], height / input_size[0]] * 2, dtype=det["boxes"].dtype
            )
            rescaled.append({**det, "boxes": det["boxes"] * scale})
        return rescaled

    def prediction_files(
        self, outputs: Any, paths: list[Path], class_names: list[str]
    ) -> dict[str, Any]:
        """``NAME_boxes.png`` per image: the image file with its detections scoring >= 0.5
        drawn (``class score``)."""
        return {
            f"{Path(path).stem}_boxes.png": _boxes_png(Path(path), det, class_names)
            for path, det in zip(paths, outputs, strict=True)
        }

    def predict(self, outputs: Any, class_names: list[str], top_k: int) -> list[dict[str, Any]]:
        """The ``top_k`` best detections of each image: box (``x1, y1, x2, y2`` in the image
        file's pixels), class, score."""
        results = []
        for det in outputs:
            boxes, scores, labels = det["boxes"][:top_k], det["scores"], det["labels"]
            results.append(
                {
                    "detections": [
                        {
                            "box": [float(v) for v in box],
                            "class": class_names[int(labels[i])]
                            if int(labels[i]) < len(class_names)
                            else str(int(labels[i])),
                            "index": int(labels[i]),
                            "score": float(scores[i]),
                        }
                        for i, box in enumerate(boxes.tolist())
                    ]
                }
            )
        return results


def _boxes_png(path: Path, det: dict[str, Tensor], class_names: list[str]) -> Any:
    """A writer of ``path``'s image with the detections scoring >= 0.5 drawn on it."""

    def write(out: Path) -> None:
        import numpy as np
        from matplotlib.figure import Figure

        from cnnlab.data.images import load_rgb

        image = np.asarray(load_rgb(str(path)))
        height, width = image.shape[:2]
        fig = Figure(figsize=(max(2.0, width / 100), max(2.0, height / 100)), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(image, interpolation="nearest")
        ax.set_axis_off()
        keep = det["scores"] >= SCORE_SHOWN
        draw_boxes(ax, det["boxes"][keep], det["labels"][keep], det["scores"][keep], class_names)
        atomic_write(out, lambda f: fig.savefig(f, format="png"))

    return write


def predictions_figure(
    images: list[Tensor],
    targets: list[dict[str, Tensor]],
    detections: list[dict[str, Tensor]],
    class_names: list[str],
    score_threshold: float = SCORE_SHOWN,
    columns: int = 4,
) -> Any:
    """Detections (solid, ``class score``) and ground truth (dashed) on each image."""
    from matplotlib.figure import Figure

    rows = -(-len(images) // columns)
    fig = Figure(figsize=(1.9 * columns, 1.95 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(images) :]:
        ax.set_axis_off()
    for ax, image, target, det in zip(axes, images, targets, detections, strict=False):
        show_image(ax, image)
        draw_boxes(ax, target["boxes"], colour=TRUTH_COLOUR, linestyle="--", fontsize=0)
        keep = det["scores"] >= score_threshold
        names = [n for n in class_names]
        draw_boxes(ax, det["boxes"][keep], det["labels"][keep], det["scores"][keep], names)
    fig.suptitle(f"detections scoring >= {score_threshold:g} (ground truth dashed)", fontsize=8)
    return fig
