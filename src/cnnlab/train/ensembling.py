"""Ensembles (the notes' model averaging): the mean of the members' class probabilities.

Each member is evaluated as ``cnnlab eval`` would (its checkpoint, its own preprocessing), on the
same samples: the members' common validation set, or another dataset's. The ensemble's
probabilities are the mean of the members' (softmax for classification), and its report is the
task's report of them, so its scores read like a single run's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from cnnlab.train.evaluation import Evaluation, evaluate
from cnnlab.train.tasks.base import EvalReport
from cnnlab.train.trained import TrainedRun

__all__ = ["EnsembleResult", "check_members", "ensemble"]


@dataclass
class EnsembleResult:
    """The members' evaluations and the ensemble's.

    Attributes:
        members: one evaluation per member, in the order given.
        probabilities: the mean of the members' probabilities.
        report: the task's report of the ensemble.
    """

    members: list[Evaluation]
    probabilities: Tensor
    report: EvalReport


def check_members(runs: Sequence[TrainedRun], dataset: str | None = None) -> None:
    """Raise unless the runs can be averaged: two or more, one task, the same classes, and
    (without ``dataset``) the same validation set.

    Raises:
        ValueError: saying which member differs, and how.
    """
    if len(runs) < 2:
        raise ValueError(f"an ensemble needs at least 2 runs, got {len(runs)}")
    first = runs[0]
    for run in runs[1:]:
        if run.config.task != first.config.task:
            raise ValueError(
                f"members must share a task: {first.run_dir} is {first.config.task}, "
                f"{run.run_dir} is {run.config.task}"
            )
        if run.classes != first.classes:
            raise ValueError(
                f"members must share their classes: {first.run_dir} has {first.classes}, "
                f"{run.run_dir} has {run.classes}"
            )
        own = (run.config.dataset, run.config.val_fraction)
        if dataset is None and own != (first.config.dataset, first.config.val_fraction):
            raise ValueError(
                f"members validate on different data: {first.run_dir} on "
                f"{first.config.dataset!r} (val_fraction {first.config.val_fraction:g}), "
                f"{run.run_dir} on {run.config.dataset!r} (val_fraction "
                f"{run.config.val_fraction:g}); give --dataset SPEC to evaluate all on one"
            )


def ensemble(runs: Sequence[TrainedRun], dataset: str | None = None) -> EnsembleResult:
    """Evaluate each run and the average of their probabilities.

    Args:
        runs: two or more loaded runs of the same task and classes.
        dataset: a dataset spec to evaluate on, or ``None`` for the members' validation set.

    Raises:
        ValueError: members that cannot be averaged (:func:`check_members`), or a task without
            probabilities.

    Shape:
        probabilities: (N, C), float64.
    """
    check_members(runs, dataset)
    task = runs[0].task
    task.probabilities(torch.zeros(1, len(runs[0].classes)))  # a task without any: say so now
    members = [evaluate(run, dataset) for run in runs]
    targets = members[0].targets
    for member in members[1:]:
        if not torch.equal(member.targets, targets):
            raise ValueError(
                f"members were evaluated on different samples ({members[0].run.run_dir}: "
                f"{members[0].description}; {member.run.run_dir}: {member.description})"
            )
    probs = torch.stack([m.run.task.probabilities(m.outputs) for m in members]).mean(dim=0)
    report = task.report(task.from_probabilities(probs), targets, runs[0].classes)
    return EnsembleResult(members=members, probabilities=probs, report=report)
