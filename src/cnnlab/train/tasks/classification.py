"""Classification: cross-entropy (hard or MixUp/CutMix soft targets), accuracy, top-5, reports."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from cnnlab.core.files import atomic_write, atomic_write_text
from cnnlab.metrics import ClassificationMeter, confusion_matrix_figure
from cnnlab.metrics.classification import TOP_K
from cnnlab.train.tasks.base import BatchTransform, EvalReport, Reduce, Task

__all__ = ["Classification"]


class Classification(Task):
    """One class per image: ``nn.CrossEntropyLoss``, accuracy (and top-5 from 5 classes).

    The loss takes class indices or, after MixUp/CutMix, soft targets (N, C) that sum to 1
    (``CrossEntropyLoss`` treats a floating target as class probabilities). The training
    accuracy compares the arg-max of the outputs with the arg-max of the targets (the dominant
    image of a mixed pair).
    """

    name: ClassVar[str] = "classification"
    scores: ClassVar[dict[str, str]] = {"acc": "max"}
    train_scores: ClassVar[tuple[str, ...]] = ("acc",)
    default_monitor: ClassVar[str] = "val_acc"

    def __init__(self, data: Any, *, label_smoothing: float = 0.0) -> None:
        super().__init__(data, label_smoothing=label_smoothing)
        self.num_classes = int(data.num_classes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def batch_transform(self, mixup: float = 0.0, cutmix: float = 0.0) -> BatchTransform | None:
        if not (mixup or cutmix):
            return None
        from cnnlab.data.transforms import mixup_cutmix

        return mixup_cutmix(self.num_classes, mixup=mixup, cutmix=cutmix)

    def loss(self, model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        logits = model(inputs)
        return self.criterion(logits, targets), logits

    def train_counts(self, outputs: Tensor, targets: Tensor) -> Tensor:
        hard = targets.argmax(1) if targets.is_floating_point() else targets
        return (outputs.detach().argmax(1) == hard).sum().to(torch.float64).reshape(1)

    def train_values(self, counts: list[float], seen: int) -> dict[str, float]:
        return {"acc": counts[0] / max(seen, 1)}

    def meter(self) -> ClassificationMeter:
        return ClassificationMeter(self.num_classes)

    def update(self, meter: ClassificationMeter, outputs: Tensor, targets: Tensor) -> None:
        # A diverged model's NaN scores are refused by the loss check after the epoch; the
        # meter (which refuses them on the CPU) counts their arg-max of nan_to_num meanwhile.
        meter.update(torch.nan_to_num(outputs.detach().float()), targets)

    def sync(self, meter: ClassificationMeter, reduce: Reduce) -> None:
        # The meter's documented recipe: sum its confusion matrix and top-5 hits over processes.
        # A process that saw no validation sample contributes zeros.
        device = meter.confusion.device if meter.confusion is not None else None
        c = self.num_classes
        confusion = meter.confusion
        if confusion is None:
            confusion = torch.zeros(c, c, dtype=torch.int64, device=device)
        meter.confusion = reduce(confusion)
        if c >= TOP_K:
            top5 = meter.top5_correct
            if top5 is None:
                top5 = torch.zeros((), dtype=torch.int64, device=meter.confusion.device)
            meter.top5_correct = reduce(top5)

    def values(self, meter: ClassificationMeter) -> dict[str, float]:
        cm = meter.confusion
        hits, total = torch.stack([cm.diagonal().sum(), cm.sum()]).tolist()
        return {"acc": hits / max(total, 1)}

    # ------------------------------------------------------------------ eval and predict
    def report(self, outputs: Tensor, targets: Tensor, class_names: list[str]) -> EvalReport:
        """``metrics.json`` (the meter's scores), ``predictions.csv``, ``confusion_matrix.png``."""
        meter = ClassificationMeter(self.num_classes, class_names)
        meter.update(outputs, targets)
        metrics = meter.compute()
        probs = torch.softmax(outputs.double(), dim=1)
        confidence, prediction = probs.max(dim=1)

        def predictions_csv(path: Path) -> None:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["index", "target", "prediction", "confidence"])
            rows = zip(targets.tolist(), prediction.tolist(), confidence.tolist(), strict=True)
            for i, (t, p, conf) in enumerate(rows):
                writer.writerow([i, t, p, repr(conf)])
            atomic_write_text(path, buf.getvalue())

        def confusion_png(path: Path) -> None:
            fig = confusion_matrix_figure(metrics["confusion_matrix"], class_names)
            atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))

        width = max([len("class"), *(len(n) for n in class_names)])
        lines = [f"{'class':<{width}}  precision  recall      f1  support"]
        for name, row in metrics["per_class"].items():
            lines.append(
                f"{name:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  "
                f"{row['f1']:6.4f}  {row['support']:7d}"
            )
        total = int(targets.numel())
        lines.append(f"accuracy {metrics['accuracy']:.4f} on {total} samples")
        if "top5" in metrics:
            lines.append(f"top-5 accuracy {metrics['top5']:.4f}")
        return EvalReport(
            metrics=metrics,
            files={"predictions.csv": predictions_csv, "confusion_matrix.png": confusion_png},
            table=lines,
        )

    def predict(self, outputs: Tensor, class_names: list[str], top_k: int) -> list[dict[str, Any]]:
        """The ``top_k`` most probable classes of each image, probabilities from the softmax."""
        probs = torch.softmax(outputs.double(), dim=1)
        k = min(top_k, probs.shape[1])
        values, indices = probs.topk(k, dim=1)
        return [
            {
                "top": [
                    {"class": class_names[i], "index": i, "probability": p}
                    for p, i in zip(v.tolist(), ix.tolist(), strict=True)
                ]
            }
            for v, ix in zip(values, indices, strict=True)
        ]
