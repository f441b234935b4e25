"""Multi-label classification: any number of classes per image, a sigmoid per class.

The notes' last question ("how do you solve multi-label classification?"): replace the softmax
over classes, whose probabilities sum to 1, by an independent sigmoid per class and train each
with binary cross-entropy, ``nn.BCEWithLogitsLoss`` on the logits (the NumPy tier's
:class:`cnnlab.scratch.BCEWithLogitsLoss` writes its backward out). Any classifier of the
registry serves: its ``num_classes`` outputs become the per-class logits.

Validation collects the sigmoid scores (:class:`~cnnlab.metrics.MultilabelMeter`) and reports
``val_map`` (macro average precision: it ranks, no threshold), ``val_f1_micro`` and
``val_f1_macro``. The F1 scores use **per-class thresholds chosen on that validation set**
(:func:`~cnnlab.metrics.best_thresholds`, the threshold of each class that maximises its F1):
they are saved in the checkpoint (``"task": {"thresholds": ...}``) and used by ``cnnlab eval``
and ``cnnlab predict``. Tuned and scored on the same images, the validation F1 is optimistic;
``cnnlab eval`` on other images with the saved thresholds is the honest figure.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.distributed as dist
from torch import Tensor, nn

from cnnlab.core.files import atomic_write_text
from cnnlab.metrics import MultilabelMeter, multilabel_scores
from cnnlab.train.tasks.base import EvalReport, Reduce, Task

__all__ = ["DEFAULT_THRESHOLD", "Multilabel"]

DEFAULT_THRESHOLD = 0.5  # on the sigmoid, before any validation pass chose better ones


def _gather_rows(local: Tensor, reduce: Reduce) -> Tensor:
    """Every process's rows (N_p, C) stacked in rank order, with only a summing ``reduce``.

    Each process writes its rows at its offset into a zero matrix of all rows, and the sum of
    those matrices is all of them. A single process returns its rows unchanged.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return local
    rank, world = dist.get_rank(), dist.get_world_size()
    sizes = torch.zeros(world, dtype=torch.int64, device=local.device)
    sizes[rank] = local.shape[0]
    sizes = reduce(sizes)
    start = int(sizes[:rank].sum())
    full = local.new_zeros((int(sizes.sum()), local.shape[1]))
    full[start : start + local.shape[0]] = local
    return reduce(full)


class Multilabel(Task):
    """Multi-hot targets: ``BCEWithLogitsLoss``, macro mAP, micro and macro F1."""

    name: ClassVar[str] = "multilabel"
    scores: ClassVar[dict[str, str]] = {"map": "max", "f1_micro": "max", "f1_macro": "max"}
    default_monitor: ClassVar[str] = "val_map"
    model_task: ClassVar[str] = "classification"
    # The digits CNN with a third stage and global max pooling ("is the digit anywhere?") on
    # 32x32 digit scenes; measured in docs/multilabel.md (digits_cnn's global average pooling
    # reached a mAP of 0.77 in 8 epochs, this one 0.92 in 10).
    recipe: ClassVar[dict[str, Any]] = {
        "model": "multilabel_cnn",
        "dataset": "scenes",
        "image_size": 32,
        "epochs": 10,
        "batch_size": 64,
        "lr": 3e-3,
        "scheduler": "cosine",
    }

    def __init__(self, data: Any, *, label_smoothing: float = 0.0) -> None:
        super().__init__(data, label_smoothing=label_smoothing)
        if label_smoothing:
            raise ValueError(
                f"label_smoothing smooths a softmax's one-hot target; task 'multilabel' has "
                f"none, got {label_smoothing}"
            )
        self.num_classes = int(data.num_classes)
        self.criterion = nn.BCEWithLogitsLoss()
        self.thresholds = torch.full((self.num_classes,), DEFAULT_THRESHOLD, dtype=torch.float64)

    def loss(self, model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        logits = model(inputs)
        return self.criterion(logits, targets.to(logits.dtype)), logits

    def meter(self) -> MultilabelMeter:
        return MultilabelMeter()

    def update(self, meter: MultilabelMeter, outputs: Tensor, targets: Tensor) -> None:
        # NaN scores of a diverged model are refused by the loss check after the epoch.
        scores = torch.sigmoid(torch.nan_to_num(outputs.detach().float()))
        meter.update(scores, targets.float())

    def sync(self, meter: MultilabelMeter, reduce: Reduce) -> None:
        if meter.count:
            scores, targets = meter.stacked()
        else:  # a process without validation images contributes none
            scores = targets = torch.zeros(0, self.num_classes)
        meter.reset()
        meter.update(_gather_rows(scores, reduce), _gather_rows(targets, reduce))

    def values(self, meter: MultilabelMeter) -> dict[str, float]:
        """The scores, after choosing each class's threshold on these data (kept as state)."""
        self.thresholds = meter.best_thresholds(default=DEFAULT_THRESHOLD).double().cpu()
        s = meter.compute(self.thresholds)
        return {"map": s["map"], "f1_micro": s["f1_micro"], "f1_macro": s["f1_macro"]}

    def state_dict(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "thresholds" not in state:
            return
        t = torch.as_tensor(state["thresholds"], dtype=torch.float64)
        if t.shape != (self.num_classes,):
            raise ValueError(
                f"the checkpoint's thresholds are for {t.numel()} classes, the data has "
                f"{self.num_classes}"
            )
        self.thresholds = t

    # ------------------------------------------------------------------ eval and predict
    def report(self, outputs: Tensor, targets: Tensor, class_names: list[str]) -> EvalReport:
        """``metrics.json`` (mAP, F1s, Hamming loss, subset accuracy, per-class AP, F1 and
        threshold, with the checkpoint's thresholds) and ``predictions.csv``."""
        probs = torch.sigmoid(outputs.double())
        s = multilabel_scores(probs, targets, self.thresholds)
        names = class_names or [str(i) for i in range(self.num_classes)]
        per_class = {
            name: {"ap": ap, "f1": f1, "threshold": t, "support": int(n)}
            for name, ap, f1, t, n in zip(
                names,
                s["ap"],
                s["f1"],
                self.thresholds.tolist(),
                targets.sum(0).tolist(),
                strict=True,
            )
        }
        metrics = {k: s[k] for k in ("map", "f1_micro", "f1_macro", "hamming_loss")}
        metrics["subset_accuracy"] = s["subset_accuracy"]
        metrics["per_class"] = per_class
        predicted = self.label_sets(outputs, names)

        def predictions_csv(path: Path) -> None:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["index", "target", "prediction"])
            for i, (row, labels) in enumerate(zip(targets.tolist(), predicted, strict=True)):
                truth = [names[c] for c, v in enumerate(row) if v]
                writer.writerow([i, " ".join(truth), " ".join(labels)])
            atomic_write_text(path, buf.getvalue())

        width = max([len("class"), *(len(n) for n in names)])
        lines = [f"{'class':<{width}}      AP      F1  threshold  support"]
        for name, row in per_class.items():
            lines.append(
                f"{name:<{width}}  {row['ap']:6.4f}  {row['f1']:6.4f}  {row['threshold']:9.4f}  "
                f"{row['support']:7d}"
            )
        lines.append(
            f"mAP {s['map']:.4f}, F1 micro {s['f1_micro']:.4f}, macro {s['f1_macro']:.4f}, "
            f"subset accuracy {s['subset_accuracy']:.4f} on {int(targets.shape[0])} images"
        )
        return EvalReport(metrics, {"predictions.csv": predictions_csv}, lines)

    def label_sets(self, outputs: Tensor, class_names: list[str]) -> list[list[str]]:
        """The labels of each image: classes whose sigmoid reaches its threshold."""
        chosen = torch.sigmoid(outputs.double()) >= self.thresholds.to(outputs.device)
        return [[class_names[c] for c in row.nonzero().flatten().tolist()] for row in chosen]

    def predict(self, outputs: Tensor, class_names: list[str], top_k: int) -> list[dict[str, Any]]:
        """Per image, its label set (sigmoid >= the class's threshold) and the ``top_k`` most
        probable classes with their sigmoid probabilities (which need not sum to 1)."""
        probs = torch.sigmoid(outputs.double())
        k = min(top_k, probs.shape[1])
        values, indices = probs.topk(k, dim=1)
        return [
            {
                "labels": labels,
                "top": [
                    {"class": class_names[i], "index": i, "probability": p}
                    for p, i in zip(v.tolist(), ix.tolist(), strict=True)
                ],
            }
            for labels, v, ix in zip(
                self.label_sets(outputs, class_names), values, indices, strict=True
            )
        ]
