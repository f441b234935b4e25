"""The resolved options of one training run, saved as ``config.json`` in the run directory."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from cnnlab.core.validate import InvalidArgument, non_negative_int, number, one_of, positive_int

SCHEDULERS = ("none", "cosine", "step")
DEVICES = ("auto", "cpu", "cuda")
# Options that may change when a run is resumed; the others must match its checkpoint.
RESUMABLE = ("epochs", "device", "workers")
# Counts beyond int32 (epochs, batch size, image side, workers) are typos, not settings.
COUNT_MAX = 2**31 - 1
# NumPy's global generator takes seeds in [0, 2**32).
SEED_MAX = 2**32 - 1


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
    """Every option of a training run.

    The defaults are the demo: the small CNN on the embedded digits, which reaches about 98%
    validation accuracy in well under a minute on two CPU cores.
    """

    model: str = "digits_cnn"
    dataset: str = "digits"
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    scheduler: str = "none"
    label_smoothing: float = 0.0
    seed: int = 0
    out: str = ""
    device: str = "auto"
    workers: int = 0
    image_size: int | None = None
    val_fraction: float = 0.2
    drop_last: bool = False
    amp: bool = False
    skip_bad_images: bool = False

    def validate(self) -> TrainConfig:
        """Raise :class:`~cnnlab.core.validate.InvalidArgument` naming the first bad option.

        Numbers are normalised (``lr=1`` becomes ``1.0``); returns ``self``. Non-finite numbers
        are always refused: no option of a run is infinite.
        """
        for name in ("model", "dataset", "optimizer", "out"):
            _text(name, getattr(self, name))
        self.epochs = positive_int("epochs", self.epochs, maximum=COUNT_MAX)
        self.batch_size = positive_int("batch_size", self.batch_size, maximum=COUNT_MAX)
        self.lr = number("lr", self.lr, minimum=0)
        self.weight_decay = number("weight_decay", self.weight_decay, minimum=0)
        one_of("scheduler", self.scheduler, SCHEDULERS)
        self.label_smoothing = number(
            "label_smoothing", self.label_smoothing, minimum=0, maximum=1, exclusive_maximum=True
        )
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
        for name in ("drop_last", "amp"):
            _flag(name, getattr(self, name))
        return self

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
