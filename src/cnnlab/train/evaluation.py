"""Evaluating a trained run: its outputs over a dataset's validation part, and the task's report.

The outputs are those of the trainer's validation: the checkpoint's ``model`` weights (the moving
average with ``--ema``), eval mode, the validation batch size, ``--amp``'s autocast, every
sample once, in order. So the accuracy of ``best.pt`` on the run's own validation set is the
``val_acc`` that ``metrics.csv`` gives for its epoch. The task (:mod:`cnnlab.train.tasks`) turns
the outputs into ``metrics.json``, its files (``predictions.csv``, ``confusion_matrix.png`` for
classification) and a table.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor
from torch.utils.data import DataLoader

from cnnlab.core.files import atomic_write_text
from cnnlab.data import DatasetBundle
from cnnlab.train.eval_data import evaluation_data
from cnnlab.train.setup import VAL_BATCH_MIN
from cnnlab.train.tasks.base import EvalReport
from cnnlab.train.trained import TrainedRun

__all__ = ["Evaluation", "collect_outputs", "evaluate", "headline_scores", "write_report"]


@dataclass
class Evaluation:
    """A run's outputs on a dataset and the task's report of them.

    Attributes:
        run: the evaluated run.
        dataset: the dataset spec (the run's own unless another was given).
        description: the dataset in words (its size, classes).
        outputs: the model's outputs, on the CPU, in dataset order.
        targets: the targets, in the same order.
        report: the task's scores, files and table.
    """

    run: TrainedRun
    dataset: str
    description: str
    outputs: Tensor
    targets: Tensor
    report: EvalReport

    def source(self) -> dict[str, Any]:
        """Where the numbers come from (the ``run`` entry of ``metrics.json``)."""
        return {
            "run_dir": str(self.run.run_dir),
            "checkpoint": f"{self.run.checkpoint}.pt",
            "epoch": self.run.epoch,
            "model": self.run.config.model,
            "dataset": self.dataset,
            "split": "validation",
            "samples": len(self.targets),
        }


def collect_outputs(run: TrainedRun, data: DatasetBundle) -> tuple[Tensor, Tensor]:
    """The model's outputs and the targets over ``data``'s validation part, as validation ran.

    Shape:
        (N, ...) each, on the CPU.
    """
    loader = DataLoader(
        data.val,
        batch_size=max(run.config.batch_size, VAL_BATCH_MIN),
        shuffle=False,
        collate_fn=data.collate_fn,
    )
    run.model.eval()
    with run.autocast():
        return run.task.collect(run.model, loader, run.device)


def evaluate(run: TrainedRun, dataset: str | None = None) -> Evaluation:
    """Score ``run`` on its validation set or on another dataset's (see
    :func:`~cnnlab.train.eval_data.evaluation_data`).

    Raises:
        ValueError: a dataset that cannot be loaded or does not fit the run, or no sample.
    """
    data = evaluation_data(run, dataset)
    outputs, targets = collect_outputs(run, data)
    if len(targets) == 0:
        raise ValueError(f"dataset {dataset or run.config.dataset!r} has no validation sample")
    report = run.task.report(outputs, targets, run.classes)
    return Evaluation(
        run=run,
        dataset=dataset or run.config.dataset,
        description=data.describe(),
        outputs=outputs,
        targets=targets,
        report=report,
    )


def headline_scores(metrics: dict[str, Any]) -> dict[str, float]:
    """The top-level numbers of a report's metrics (``accuracy``, ``top5``, ``map``...)."""
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _plain(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_report(report: EvalReport, out: Path, source: dict[str, Any] | None = None) -> list[Path]:
    """Write ``metrics.json`` (the scores, plus ``run``: where they come from) and the report's
    files into the folder ``out`` (created); return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = dict(report.metrics)
    if source is not None:
        metrics["run"] = source
    written = [out / "metrics.json"]
    atomic_write_text(written[0], json.dumps(_plain(metrics), indent=2) + "\n")
    for name, write in report.files.items():
        write(out / name)
        written.append(out / name)
    return written
