"""The training loop: accuracy on digits, bit-identical resume, Ctrl-C state, NaN stop."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from cnnlab.train import (
    TrainConfig,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    load_checkpoint,
)
from cnnlab.train.history import EpochMetrics, read_metrics_csv


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def _assert_identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs"


def _cfg(tmp_path: Path, name: str, **kw: object) -> TrainConfig:
    base = {"epochs": 2, "batch_size": 128, "seed": 3, "device": "cpu", "out": str(tmp_path / name)}
    return TrainConfig(**{**base, **kw})


@pytest.mark.slow
def test_demo_defaults_reach_95_percent(tmp_path: Path) -> None:
    # The README promises that `make demo` (TrainConfig defaults) reaches >= 95% on digits.
    history = Trainer(TrainConfig(out=str(tmp_path / "demo"), device="cpu")).fit()
    rows = read_metrics_csv(tmp_path / "demo" / "metrics.csv")
    assert rows == history
    assert max(r.val_acc for r in rows) >= 0.95, [r.val_acc for r in rows]
    assert (tmp_path / "demo" / "curves.png").stat().st_size > 10_000


def test_run_directory_contents(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "run")).fit()
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == [
        "best.pt",
        "config.json",
        "curves.png",
        "last.pt",
        "metrics.csv",
    ]
    header = (run / "metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds"
    rows = read_metrics_csv(run / "metrics.csv")
    assert [r.epoch for r in rows] == [1, 2]
    for r in rows:
        assert 0.0 <= r.train_acc <= 1.0 and 0.0 <= r.val_acc <= 1.0
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt["epoch"] == 2 and {"model", "optimizer", "rng"} <= ckpt.keys()
    assert TrainConfig.load(run / "config.json").epochs == 2
    # Independent check of the reported validation accuracy: evaluate the saved weights.
    trainer = Trainer(TrainConfig.load(run / "config.json"), resume_from=run)
    assert trainer.evaluate()["val_acc"] == pytest.approx(rows[-1].val_acc)


def test_resume_is_bit_identical(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "straight")).fit()
    Trainer(_cfg(tmp_path, "split", epochs=1)).fit()
    config = TrainConfig.load(tmp_path / "split" / "config.json")
    config.epochs = 2
    Trainer(config, resume_from=tmp_path / "split").fit()
    _assert_identical(
        _weights(tmp_path / "straight" / "last.pt"), _weights(tmp_path / "split" / "last.pt")
    )
    straight = read_metrics_csv(tmp_path / "straight" / "metrics.csv")
    split = read_metrics_csv(tmp_path / "split" / "metrics.csv")
    assert [(r.train_loss, r.val_acc) for r in straight] == [
        (r.train_loss, r.val_acc) for r in split
    ]


def test_stop_mid_epoch_then_resume_is_bit_identical(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "straight")).fit()

    def stop_at(trainer: Trainer, epoch: int, step: int) -> None:
        if epoch == 1 and step == 4:
            trainer.request_stop()

    with pytest.raises(TrainingInterrupted, match=r"epoch 2, iteration 4/12.*--resume"):
        Trainer(_cfg(tmp_path, "stopped"), on_iteration=stop_at).fit()
    ckpt = load_checkpoint(tmp_path / "stopped" / "last.pt")
    assert (ckpt["epoch"], ckpt["step_in_epoch"]) == (1, 4)
    config = TrainConfig.load(tmp_path / "stopped" / "config.json")
    Trainer(config, resume_from=tmp_path / "stopped").fit()
    _assert_identical(
        _weights(tmp_path / "straight" / "last.pt"), _weights(tmp_path / "stopped" / "last.pt")
    )


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "run", epochs=1)).fit()
    last = tmp_path / "run" / "last.pt"
    digest = hashlib.sha256(last.read_bytes()).hexdigest()
    config = TrainConfig.load(tmp_path / "run" / "config.json")
    config.epochs = 2
    trainer = Trainer(config, resume_from=tmp_path / "run")
    with torch.no_grad():  # poison the weights as a diverging optimizer would
        next(trainer.model.parameters()).fill_(float("inf"))
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 2, iteration 1"):
        trainer.fit()
    assert hashlib.sha256(last.read_bytes()).hexdigest() == digest


def test_worker_processes_give_the_same_weights(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "w0", epochs=1)).fit()
    Trainer(_cfg(tmp_path, "w2", epochs=1, workers=2)).fit()
    _assert_identical(_weights(tmp_path / "w0" / "last.pt"), _weights(tmp_path / "w2" / "last.pt"))


def test_refuses_to_overwrite_a_run(tmp_path: Path) -> None:
    Trainer(_cfg(tmp_path, "run", epochs=1)).fit()
    with pytest.raises(ValueError, match="already holds a run"):
        Trainer(_cfg(tmp_path, "run", epochs=1))


def test_metrics_roundtrip(tmp_path: Path) -> None:
    from cnnlab.train.history import write_metrics_csv

    values = {"train_loss": 0.5, "train_acc": 0.8, "val_loss": 0.6, "val_acc": 0.75}
    rows = [EpochMetrics(1, values, 0.001, 1.5), EpochMetrics(2, values, 1e-4, 2.25)]
    write_metrics_csv(tmp_path / "m.csv", rows)
    assert read_metrics_csv(tmp_path / "m.csv") == rows


def test_an_image_size_beyond_memory_is_one_clear_error(tmp_path: Path) -> None:
    # Digits are resized eagerly: 1797 images at 10**6 x 10**6 would take 7.2 PB (4 bytes per
    # pixel, 1797 * 4e12 bytes); the estimate is refused in one line naming the size, before
    # anything is written.
    with pytest.raises(ValueError, match=r"^image_size 1000000 needs about 7,188,000\.0 GB"):
        Trainer(_cfg(tmp_path, "run", image_size=10**6))
    assert not (tmp_path / "run").exists()


def test_curves_use_the_object_oriented_figure_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Library code never switches the backend nor touches pyplot's global state.
    import matplotlib
    import matplotlib.pyplot as plt

    from cnnlab.train.curves import plot_curves

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("global matplotlib state used")

    monkeypatch.setattr(matplotlib, "use", forbidden)
    monkeypatch.setattr(plt, "subplots", forbidden)
    monkeypatch.setattr(plt, "figure", forbidden)
    rows = [
        EpochMetrics(
            e, {"train_loss": 1 / e, "train_acc": 0.5, "val_loss": 1.2 / e, "val_acc": 0.6}, 1e-3, 1
        )
        for e in (1, 2, 3)
    ]
    plot_curves(tmp_path / "curves.png", rows, title="t")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
