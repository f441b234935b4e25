"""The resolved options of one training run, saved as ``config.json`` in the run directory.

Every error names the field (``lr must be a finite number >= 0, got inf``); the ``cnnlab train``
command swaps the field for its flag (``--lr``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnlab.core.validate import InvalidArgument, non_negative_int, number, one_of, positive_int

if TYPE_CHECKING:
    from cnnlab.data.transforms import AugmentConfig

DEVICES = ("auto", "cpu", "cuda")
FALLBACK_MODEL = "digits_cnn"  # for datasets without a model of their own
# Options that may change when a run is resumed; the others must match its checkpoint.
RESUMABLE = ("epochs", "device", "workers", "compile", "tensorboard")
# Counts beyond int32 (epochs, batch size, image side, workers) are typos, not settings.
COUNT_MAX = 2**31 - 1
# NumPy's global generator takes seeds in [0, 2**32).
SEED_MAX = 2**32 - 1


_OPEN = {"exclusive_minimum": True, "exclusive_maximum": True}


# The defaults that differ per dataset (a recipe): what `cnnlab train --dataset NAME` uses unless
# a flag says otherwise. mnist5k: lenet5 (its kind's model) reaches >= 97% validation accuracy
# with these (README, row 4); plain defaults stop near 96.6%, random crops (1/8 padding) near 97%.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "mnist5k": {"weight_decay": 5e-4, "scheduler": "cosine", "label_smoothing": 0.1, "epochs": 10},
}


def default_model(dataset: str) -> str:
    """The model a dataset trains by default (its kind's, else :data:`FALLBACK_MODEL`)."""
    from cnnlab.data import dataset_kind

    return dataset_kind(dataset).default_model or FALLBACK_MODEL


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidArgument(name, f"{name} must be a string, got {value!r}")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(name, f"{name} must be true or false, got {value!r}")


def _kwarg_value(value: Any) -> bool:
    """Whether ``value`` can be a model option saved in config.json (JSON, finite numbers)."""
    if isinstance(value, (list, tuple)):
        return all(_kwarg_value(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int, str))


def check_model_kwargs(value: Any) -> dict[str, Any]:
    """``model_kwargs`` as a dict of option name -> JSON value (tuples become lists)."""
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and k.isidentifier() and _kwarg_value(v) for k, v in value.items()
    )
    if not ok:
        raise InvalidArgument(
            "model_kwargs",
            f"model_kwargs must map option names to numbers, strings, booleans or lists of "
            f"them (e.g. min_size=64), got {value!r}",
        )
    reserved = sorted({"num_classes", "in_chans"} & set(value))
    if reserved:
        raise InvalidArgument(
            "model_kwargs",
            f"model_kwargs cannot set {reserved}: the dataset gives the classes and channels",
        )

    def plain(v: Any) -> Any:
        return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v

    return {k: plain(v) for k, v in value.items()}


def _same_number(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are both non-bool numbers (``2`` and ``2.0`` may be compared)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


@dataclass
class TrainConfig:
    """Every option of a training run (the ``cnnlab train`` flags of the same names).

    The defaults are the demo: the small CNN on the embedded digits, which reaches about 98%
    validation accuracy in well under a minute on two CPU cores. An empty ``model`` is the
    dataset's own default (``digits_cnn`` for digits, ``lenet5`` for mnist5k), set by
    :meth:`validate`. ``None`` (and ``monitor=""``) means "not used" or "the default that
    depends on other options", resolved when the run is set up.

    Augmentation (``augment``, ``random_erasing``, ``pca_lighting``, ``elastic``) is
    :class:`cnnlab.data.transforms.AugmentConfig`'s; ``mixup`` and ``cutmix`` are the Beta
    parameters of MixUp and CutMix (0: off). ``teacher`` is a trained run's folder to distil
    from (:func:`cnnlab.train.distillation_loss` with ``distill_alpha`` and
    ``distill_temperature``; empty: no teacher). ``cnnlab train --task NAME`` starts from the
    task's recipe (:mod:`cnnlab.train.recipes`), then the dataset's defaults.

    Schedule options are in epochs (:func:`cnnlab.train.build_scheduler` converts them to
    iterations): ``step_size`` (default ``epochs // 3``), ``milestones`` (default half and
    three quarters of ``epochs``), ``gamma`` (default 0.1; 0.9 per epoch for ``exponential``),
    ``min_lr`` (cosine's floor), ``plateau_patience``.

    ``model_kwargs`` are passed to the model's constructor (as timm's ``--model-kwargs``), e.g.
    ``{"min_size": 64}`` for a detector; they are saved with the run, so evaluation, prediction
    and resuming build the same model.
    """

    model: str = ""
    model_kwargs: dict[str, Any] = field(default_factory=dict)
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
    augment: str = "none"
    random_erasing: float = 0.0
    pca_lighting: float = 0.0
    elastic: float = 0.0
    mixup: float = 0.0
    cutmix: float = 0.0
    teacher: str = ""
    distill_alpha: float = 0.5
    distill_temperature: float = 4.0
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

        for name in ("model", "dataset", "task", "optimizer", "out", "monitor", "teacher"):
            _text(name, getattr(self, name))
        task = get_task(self.task)
        if not self.model:
            self.model = default_model(self.dataset)
        self.model_kwargs = check_model_kwargs(self.model_kwargs)
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
        self.augmentation()  # its own checks, naming the field
        self.mixup = number("mixup", self.mixup, minimum=0)
        self.cutmix = number("cutmix", self.cutmix, minimum=0)
        self.distill_alpha = number("distill_alpha", self.distill_alpha, minimum=0, maximum=1)
        self.distill_temperature = number(
            "distill_temperature", self.distill_temperature, minimum=0, exclusive_minimum=True
        )
        if not self.teacher:
            for name in ("distill_alpha", "distill_temperature"):
                if getattr(self, name) != getattr(TrainConfig, name):
                    raise InvalidArgument(name, f"{name} needs a teacher run to distil from")
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

    def augmentation(self) -> AugmentConfig:
        """The training augmentation of :mod:`cnnlab.data.transforms` (checked)."""
        from cnnlab.data.transforms import AugmentConfig

        return AugmentConfig(self.augment, self.random_erasing, self.pca_lighting, self.elastic)

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
    def for_dataset(cls, dataset: str = "digits", **options: Any) -> TrainConfig:
        """The config of a run on ``dataset``: its :data:`DATASET_DEFAULTS` (the recipe that
        ``cnnlab train --dataset NAME`` uses), then ``options`` over them."""
        kind = dataset.split(":", 1)[0] if isinstance(dataset, str) else dataset
        return cls(**{**DATASET_DEFAULTS.get(kind, {}), "dataset": dataset, **options})

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
