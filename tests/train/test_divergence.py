"""A diverging run never saves a broken checkpoint, and says truthfully what is on disk.

The reference for "broken" is independent of the trainer: ``torch.isfinite`` over every tensor of
a saved checkpoint, and the saved model's own outputs on the validation images.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import pytest
import torch
from rich.console import Console

from cnnlab.core.validate import InvalidArgument
from cnnlab.train import TrainConfig, Trainer, TrainingDiverged, load_checkpoint


def _cfg(tmp_path: Path, name: str, **kw: object) -> TrainConfig:
    base = {"epochs": 2, "batch_size": 128, "seed": 3, "device": "cpu", "out": str(tmp_path / name)}
    return TrainConfig(**{**base, **kw})


def _quiet() -> Console:
    return Console(file=io.StringIO(), highlight=False, soft_wrap=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_finite(path: Path) -> bool:
    return all(torch.isfinite(t).all() for t in load_checkpoint(path)["model"].values())


def test_huge_lr_with_one_iteration_per_epoch_saves_nothing(tmp_path: Path) -> None:
    # The report's repro: `--lr 1e30 --optimizer sgd --batch-size 2000 --epochs 3`. The one update
    # of epoch 1 makes the weights ~1e29 (finite) and every validation output NaN; it used to be
    # saved as best.pt after `val loss nan *best*`.
    console = _quiet()
    cfg = _cfg(tmp_path, "run", lr=1e30, optimizer="sgd", batch_size=2000, epochs=3)
    with pytest.raises(TrainingDiverged) as err:
        Trainer(cfg, console=console).fit()
    message = str(err.value)
    assert "validation loss became nan" in message and "epoch 1" in message
    assert "no checkpoint" in message and "intact" not in message
    run = tmp_path / "run"
    assert not (run / "last.pt").exists() and not (run / "best.pt").exists()
    assert "*best*" not in console.file.getvalue()


def test_divergence_after_a_good_epoch_keeps_that_epoch(tmp_path: Path) -> None:
    # Epoch 1 is good; the last update of epoch 2 breaks the weights (as a huge step would). The
    # loss of that iteration was computed before the update, so only the checks before saving
    # can catch it.
    run = tmp_path / "run"
    digests: dict[str, str] = {}

    def poison(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (1, 1):
            digests.update({n: _digest(run / n) for n in ("last.pt", "best.pt")})
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(float("inf"))

    console = _quiet()
    cfg = _cfg(tmp_path, "run", batch_size=2000, epochs=3)
    trainer = Trainer(cfg, console=console, on_iteration=poison)
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit()
    message = str(err.value)
    assert "epoch 2" in message
    assert f"{run / 'last.pt'} holds the end of epoch 1" in message
    assert f"{run / 'best.pt'} holds epoch 1" in message
    assert {n: _digest(run / n) for n in digests} == digests
    assert _all_finite(run / "last.pt") and _all_finite(run / "best.pt")
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    out = console.file.getvalue()
    assert out.count("*best*") == 1 and "epoch   2/3" not in out


def test_stop_with_broken_weights_saves_nothing(tmp_path: Path) -> None:
    # A Ctrl-C save mid-epoch has no validation loss to look at: the weights are checked.
    def poison_then_stop(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (0, 3):
            with torch.no_grad():
                list(trainer.model.parameters())[-1][0] = float("nan")
            trainer.request_stop()

    with pytest.raises(TrainingDiverged, match=r"fc\.bias.*not finite.*no checkpoint"):
        Trainer(_cfg(tmp_path, "run"), console=_quiet(), on_iteration=poison_then_stop).fit()
    assert not (tmp_path / "run" / "last.pt").exists()


def test_nan_loss_is_found_without_a_host_sync_per_iteration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every way a tensor's value reaches Python (what blocks on a GPU) is counted while a run
    # trains one epoch of 23 iterations with plain SGD (whose step reads no values); the
    # progress refresh is disabled by an infinite interval. Between the end of the first
    # iteration and the end of the last, nothing may be read; the checks come after.
    monkeypatch.setattr(Trainer, "refresh_seconds", math.inf, raising=False)
    calls = {"n": 0}
    for name in ("item", "tolist", "__bool__", "__float__", "__int__"):
        original = getattr(torch.Tensor, name)

        def counted(self: torch.Tensor, *a: object, _f=original, **k: object) -> object:
            calls["n"] += 1
            return _f(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    at: dict[int, int] = {}

    def record(trainer: Trainer, epoch: int, step: int) -> None:
        at[step] = calls["n"]

    cfg = _cfg(tmp_path, "run", batch_size=64, epochs=1, optimizer="sgd", lr=0.05)
    trainer = Trainer(cfg, console=_quiet(), on_iteration=record)
    trainer.fit()
    assert trainer.accounting.iterations_per_epoch == 23
    assert sorted(at) == list(range(1, 24))
    assert at[23] - at[1] == 0, at


def test_nan_loss_names_the_iteration_and_the_value(tmp_path: Path) -> None:
    def poison(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (0, 4):
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(float("nan"))

    with pytest.raises(
        TrainingDiverged, match=r"loss became nan at epoch 1, iteration 5;.*no checkpoint"
    ):
        Trainer(_cfg(tmp_path, "run"), console=_quiet(), on_iteration=poison).fit()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lr", math.inf),
        ("lr", math.nan),
        ("lr", -math.inf),
        ("weight_decay", math.inf),
        ("label_smoothing", math.nan),
        ("val_fraction", math.nan),
    ],
    ids=["lr-inf", "lr-nan", "lr-minus-inf", "wd-inf", "smoothing-nan", "val-fraction-nan"],
)
def test_non_finite_options_are_refused(field: str, value: float) -> None:
    with pytest.raises(InvalidArgument, match=rf"^{field} must be a finite number") as err:
        TrainConfig(**{field: value}).validate()
    assert err.value.argument == field
