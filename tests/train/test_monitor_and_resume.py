"""--monitor, early stopping, TensorBoard, and bit-identical resume with every stateful option."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from torch.optim import lr_scheduler as L

import cnnlab.train.preflight
from cnnlab.cli.main import main
from cnnlab.train import (
    TrainConfig,
    Trainer,
    TrainingInterrupted,
    load_checkpoint,
    read_metrics_csv,
)
from cnnlab.train.monitor import EarlyStopping


def _quiet() -> Console:
    return Console(file=io.StringIO(), highlight=False, soft_wrap=True)


def _cfg(tmp_path: Path, name: str, **kw: object) -> TrainConfig:
    base = {"epochs": 3, "batch_size": 256, "seed": 5, "device": "cpu", "out": str(tmp_path / name)}
    return TrainConfig(**{**base, **kw})


def _naive_stop(values: list[float], patience: int, delta: float, mode: str) -> int | None:
    """Keras's EarlyStopping rule, written out: the epoch (1-based) after which it stops."""
    best, wait = None, 0
    for epoch, v in enumerate(values, start=1):
        gain = (v - best if mode == "max" else best - v) if best is not None else math.inf
        if gain > delta:
            best, wait = v, 0
        else:
            wait += 1
        if wait >= patience:
            return epoch
    return None


@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=30),
    st.integers(1, 5),
    st.sampled_from([0.0, 0.01, 0.1]),
    st.sampled_from(["max", "min"]),
)
def test_early_stopping_follows_the_rule(
    values: list[float], patience: int, delta: float, mode: str
) -> None:
    stop = EarlyStopping(patience, mode, delta)
    stopped = next((e for e, v in enumerate(values, 1) if stop.update(v, e)), None)
    assert stopped == _naive_stop(values, patience, delta, mode)


def test_monitor_val_loss_picks_the_lowest_loss_for_best_pt(tmp_path: Path) -> None:
    # lr large enough that the validation loss goes up and down over the epochs.
    Trainer(_cfg(tmp_path, "run", monitor="val_loss", lr=0.02), console=_quiet()).fit()
    rows = read_metrics_csv(tmp_path / "run" / "metrics.csv")
    best = min(rows, key=lambda r: r.val_loss)
    assert load_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == best.epoch


def test_early_stopping_stops_and_a_resume_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _cfg(tmp_path, "run", epochs=6, early_stopping=1, min_delta=0.02, lr=0.02)
    Trainer(cfg, console=_quiet()).fit()
    run = tmp_path / "run"
    rows = read_metrics_csv(run / "metrics.csv")
    expected = _naive_stop([r.val_acc for r in rows], 1, 0.02, "max")
    assert expected is not None and len(rows) == expected < 6
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["train", "--resume", str(run), "--epochs", "8"]) == 0
    assert "stopped early" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def _identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_stop_mid_epoch_then_resume_is_bit_identical_with_every_stateful_option(
    tmp_path: Path,
) -> None:
    # EMA, early stopping counters, a warmup + cosine schedule stepped per iteration, input noise
    # and dropout drawing from the generators, L1 and clipping.
    options = {
        "ema": 0.9,
        "early_stopping": 5,
        "scheduler": "cosine",
        "warmup_epochs": 1,
        "input_noise": 0.1,
        "l1": 1e-4,
        "clip_grad_norm": 1.0,
    }
    Trainer(_cfg(tmp_path, "straight", **options), console=_quiet()).fit()

    def stop_at(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (1, 2):
            trainer.request_stop()

    with pytest.raises(TrainingInterrupted):
        Trainer(_cfg(tmp_path, "split", **options), console=_quiet(), on_iteration=stop_at).fit()
    config = TrainConfig.load(tmp_path / "split" / "config.json")
    Trainer(config, resume_from=tmp_path / "split", console=_quiet()).fit()
    straight = load_checkpoint(tmp_path / "straight" / "last.pt")
    split = load_checkpoint(tmp_path / "split" / "last.pt")
    _identical(straight["model"], split["model"])  # the average
    _identical(straight["train_model"], split["train_model"])  # the trained weights
    for index, state in straight["optimizer"]["state"].items():
        _identical(state, split["optimizer"]["state"][index])
    assert torch.equal(straight["ema"]["n_averaged"], split["ema"]["n_averaged"])
    assert straight["early_stopping"] == split["early_stopping"]
    assert straight["scheduler"] == split["scheduler"]
    rows = [(r.values, r.lr) for r in read_metrics_csv(tmp_path / "straight" / "metrics.csv")]
    assert rows == [(r.values, r.lr) for r in read_metrics_csv(tmp_path / "split" / "metrics.csv")]


def test_resuming_with_more_epochs_follows_the_longer_schedule(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "run", epochs=1, scheduler="cosine", optimizer="sgd", lr=0.1)
    Trainer(cfg, console=_quiet()).fit()
    steps = 6  # ceil(1437 / 256)
    lrs: list[float] = []
    config = TrainConfig.load(tmp_path / "run" / "config.json")
    config.epochs = 3
    trainer = Trainer(
        config,
        resume_from=tmp_path / "run",
        console=_quiet(),
        on_iteration=lambda t, e, s: lrs.append(t.running.lr),
    )
    trainer.fit()
    # Reference: torch's cosine over the new 3 epochs, at iterations 6..17.
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ref = L.CosineAnnealingLR(opt, T_max=3 * steps)
    expected = []
    for _ in range(3 * steps):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    assert lrs == pytest.approx(expected[steps:], rel=1e-12)


def test_tensorboard_scalars_equal_metrics_csv(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    Trainer(_cfg(tmp_path, "run", epochs=2, tensorboard=True), console=_quiet()).fit()
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    rows = read_metrics_csv(tmp_path / "run" / "metrics.csv")
    for tag, column in (("loss/train", "train_loss"), ("acc/val", "val_acc"), ("lr", "lr")):
        got = [(e.step, e.value) for e in events.Scalars(tag)]
        want = [(r.epoch, getattr(r, column)) for r in rows]
        assert got == [(s, pytest.approx(v, rel=1e-6)) for s, v in want], tag


def test_tensorboard_missing_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cnnlab.train.preflight.importlib.import_module

    def no_tensorboard(name: str) -> object:
        if name == "torch.utils.tensorboard":
            raise ImportError("No module named 'tensorboard'")
        return real(name)

    monkeypatch.setattr(cnnlab.train.preflight.importlib, "import_module", no_tensorboard)
    run = tmp_path / "run"
    assert main(["train", "--tensorboard", "--epochs", "1", "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'cnnlab[tensorboard]'" in err[0], err
    assert err[0].startswith("cnnlab train: error: --tensorboard needs the tensorboard package")
    assert not run.exists()
