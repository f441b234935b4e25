"""The resolved options of one training run, saved as ``config.json`` in the run directory.

Every error names the field (``lr must be a finite number >= 0, got inf``); the ``cnnlab train``
command swaps the field for its flag (``--lr``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from cnnlab.core.validate import InvalidArgument, non_negative_int, number, one_of, positive_int

DEVICES = ("auto", "cpu", "cuda")
# Options that may change when a run is resumed; the others must match its checkpoint.
RESUMABLE = ("epochs", "device", "workers", "compile", "tensorboard")
# Counts beyond int32 (epochs, batch size, image side, workers) are typos, not settings.
COUNT_MAX = 2**31 - 1
# NumPy's global generator takes seeds in [0, 2**32).
SEED_MAX = 2**32 - 1


_OPEN = {"exclusive_minimum": True, "exclusive_maximum": True}


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidArgument(name, f"{name} must be a string, got {value!r}")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(name, f"{name} must be true or false, got {value!r}")


def _same_number(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are both non-bool numbers (``2`` and ``2.0`` may be compared)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


@dataclass
class TrainConfig:
    """Every option of a training run (the ``cnnlab train`` flags of the same names).

    The defaults are the demo: the small CNN on the embedded digits, which reaches about 98%
    validation accuracy in well under a minute on two CPU cores. ``None`` (and ``monitor=""``)
    means "not used" or "the default that depends on other options", resolved when the run is
    set up, so that ``config.json`` records what was asked for.

    Schedule options are in epochs (:func:`cnnlab.train.build_scheduler` converts them to
    iterations): ``step_size`` (default ``epochs // 3``), ``milestones`` (default half and
    three quarters of ``epochs``), ``gamma`` (default 0.1; 0.9 per epoch for ``exponential``),
    ``min_lr`` (cosine's floor), ``plateau_patience``.
    """

    model: str = "digits_cnn"
    dataset: str = "digits"
    task: str = "classification"
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    scheduler: str = "none"
    warmup_epochs: int = 0
    step_size: int | None = None
    milestones: list[int] | None = None
    gamma: float | None = None
    min_lr: float = 0.0
    plateau_patience: int = 10
    label_smoothing: float = 0.0
    l1: float = 0.0
    input_noise: float = 0.0
    clip_grad_norm: float | None = None
    ema: float | None = None
    monitor: str = ""
    early_stopping: int | None = None
    min_delta: float = 0.0
    seed: int = 0
    out: str = ""
    device: str = "auto"
    workers: int = 0
    image_size: int | None = None
    val_fraction: float = 0.2
    drop_last: bool = False
    amp: bool = False
    channels_last: bool = False
    compile: bool = False
    sync_bn: bool = False
    tensorboard: bool = False
    skip_bad_images: bool = False

    def validate(self) -> TrainConfig:
        """Raise :class:`~cnnlab.core.validate.InvalidArgument` naming the first bad option.

        Numbers are normalised (``lr=1`` becomes ``1.0``); returns ``self``. Non-finite numbers
        are always refused: no option of a run is infinite. Names (model, optimizer, dataset,
        scheduler) and how options combine are checked when the run is set up
        (:func:`cnnlab.train.preflight.check_before_work`).
        """
        from cnnlab.train.schedules import SCHEDULERS, check_milestones
        from cnnlab.train.tasks import get_task

        for name in ("model", "dataset", "task", "optimizer", "out", "monitor"):
            _text(name, getattr(self, name))
        task = get_task(self.task)
        self.epochs = positive_int("epochs", self.epochs, maximum=COUNT_MAX)
        self.batch_size = positive_int("batch_size", self.batch_size, maximum=COUNT_MAX)
        self.lr = number("lr", self.lr, minimum=0)
        self.weight_decay = number("weight_decay", self.weight_decay, minimum=0)
        one_of("scheduler", self.scheduler, SCHEDULERS)
        self.warmup_epochs = non_negative_int(
            "warmup_epochs", self.warmup_epochs, maximum=COUNT_MAX
        )
        if self.step_size is not None:
            self.step_size = positive_int("step_size", self.step_size, maximum=COUNT_MAX)
        if self.milestones is not None:
            self.milestones = check_milestones(self.milestones)
        if self.gamma is not None:
            self.gamma = number("gamma", self.gamma, minimum=0, maximum=1, exclusive_minimum=True)
        self.min_lr = number("min_lr", self.min_lr, minimum=0)
        self.plateau_patience = non_negative_int(
            "plateau_patience", self.plateau_patience, maximum=COUNT_MAX
        )
        self.label_smoothing = number(
            "label_smoothing", self.label_smoothing, minimum=0, maximum=1, exclusive_maximum=True
        )
        self.l1 = number("l1", self.l1, minimum=0)
        self.input_noise = number("input_noise", self.input_noise, minimum=0)
        if self.clip_grad_norm is not None:
            self.clip_grad_norm = number(
                "clip_grad_norm", self.clip_grad_norm, minimum=0, exclusive_minimum=True
            )
        if self.ema is not None:
            self.ema = number("ema", self.ema, minimum=0, maximum=1, **_OPEN)
        if self.monitor:
            one_of("monitor", self.monitor, task.monitors())
        if self.early_stopping is not None:
            self.early_stopping = positive_int(
                "early_stopping", self.early_stopping, maximum=COUNT_MAX
            )
        self.min_delta = number("min_delta", self.min_delta, minimum=0)
        self.seed = non_negative_int("seed", self.seed, maximum=SEED_MAX)
        one_of("device", self.device, DEVICES)
        self.workers = non_negative_int("workers", self.workers, maximum=COUNT_MAX)
        if self.image_size is not None:
            self.image_size = positive_int("image_size", self.image_size, maximum=COUNT_MAX)
        self.val_fraction = number(
            "val_fraction",
            self.val_fraction,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        )
        for name in (
            "drop_last",
            "amp",
            "channels_last",
            "compile",
            "sync_bn",
            "tensorboard",
            "skip_bad_images",
        ):
            _flag(name, getattr(self, name))
        return self

    @property
    def monitor_name(self) -> str:
        """The monitored score: ``monitor``, or the task's default (``val_acc``)."""
        from cnnlab.train.tasks import get_task

        return self.monitor or get_task(self.task).default_monitor

    def differs_from(self, saved: dict[str, Any]) -> tuple[str, Any, Any] | None:
        """The first option (other than :data:`RESUMABLE` and ``out``) that differs from ``saved``.

        ``saved`` is the config stored in a checkpoint; returns ``(name, ours, saved)`` or None.
        Options missing from ``saved`` (written before the option existed) count as defaults.
        """
        defaults = asdict(TrainConfig())
        for f in fields(self):
            if f.name in RESUMABLE or f.name == "out":
                continue
            ours, theirs = getattr(self, f.name), saved.get(f.name, defaults[f.name])
            if type(ours) is not type(theirs) and not _same_number(ours, theirs):
                return f.name, ours, theirs
            if ours != theirs:
                return f.name, ours, theirs
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"config has unknown option(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read run config {str(path)!r}: {err}") from None
        if not isinstance(data, dict):
            raise ValueError(f"run config {str(path)!r} is not a JSON object")
        return cls.from_dict(data)
