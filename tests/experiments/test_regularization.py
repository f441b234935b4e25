"""regularization: the arms' definitions against hand counts, the trainer's early stopping and
NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.experiments import regularization as R
from cnnlab.train.monitor import EarlyStopping

EXPERIMENT = "regularization"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    assert len(quick.checks) == 7  # the exact checks (the full run adds 3 published ones)


def test_results(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0])[:4] == ["method", "seed", "train_acc", "val_acc"]
    assert [r["method"] for r in rows] == list(R.ARMS)  # one seed in the quick run
    assert all(0.0 <= float(r["val_acc"]) <= 1.0 for r in rows)
    methods = read_csv(quick.csv_path.parent / "methods.csv")
    assert [m["method"] for m in methods] == list(R.ARMS)


def test_small_cnn_parameters_by_hand() -> None:
    model = R.SmallCNN()
    # conv 1->16 3x3 + bias, conv 16->32 3x3 + bias, fc 288->128, fc 128->10
    by_hand = (9 * 16 + 16) + (9 * 16 * 32 + 32) + (288 * 128 + 128) + (128 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == by_hand == 43_082
    assert model(torch.zeros(2, 1, 14, 14)).shape == (2, 10)
    weights = R.penalised_weights(model)
    assert sum(w.numel() for w in weights) == 9 * 16 + 9 * 16 * 32 + 288 * 128 + 128 * 10


@pytest.mark.parametrize(
    "curve, patience",
    [
        ([1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5], 5),
        ([1.0, 0.9, 0.8, 0.7], 2),
        ([1.0, 1.0, 1.0], 2),
        ([3.0, 2.0, 2.5, 1.0, 1.5, 1.6, 1.7], 3),
    ],
    ids=["stops-at-7", "never", "ties-are-not-improvements", "restarts-after-a-new-min"],
)
def test_early_stopping_replay_matches_the_trainer(curve: list[float], patience: int) -> None:
    stopper = EarlyStopping(patience, "min")
    stopped = 0
    for epoch, value in enumerate(curve, start=1):
        if stopper.update(value, epoch):
            stopped = epoch
            break
    assert R.replay_early_stop(curve, patience) == stopped
    # and by hand: the first epoch `patience` epochs after the last new minimum
    best, last_min = float("inf"), 0
    expected = 0
    for epoch, value in enumerate(curve, start=1):
        if value < best:
            best, last_min = value, epoch
        if epoch - last_min == patience:
            expected = epoch
            break
    assert stopped == expected


def test_label_smoothing_against_numpy() -> None:
    rng = np.random.default_rng(0)
    logits, y = rng.normal(size=(20, 10)) * 3, rng.integers(0, 10, 20)
    shifted = logits - logits.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    eps = R.SMOOTHING
    target = np.full((20, 10), eps / 10)
    target[np.arange(20), y] += 1 - eps
    expected = -(target * logp).sum(1).mean()
    loss = torch.nn.CrossEntropyLoss(label_smoothing=eps)(
        torch.from_numpy(logits), torch.from_numpy(y)
    )
    assert float(loss) == pytest.approx(expected, rel=1e-12)


def test_crop_augment_shifts_and_draws_per_image() -> None:
    x = torch.zeros(64, 1, 14, 14)
    x[:, :, 6:8, 6:8] = 1.0  # a 2x2 square in the middle
    torch.manual_seed(0)
    out = R.crop_augment(-1.0)(x)
    centres = [tuple(torch.nonzero(img[0] == 1.0).float().mean(0).tolist()) for img in out]
    offsets = {(round(r - 6.5), round(c - 6.5)) for r, c in centres}
    assert offsets <= {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    assert len(offsets) > 10  # drawn per image, not once per batch
    # the padding shows up as the background value where the shift moved the border in
    assert set(out.unique().tolist()) <= {-1.0, 0.0, 1.0}
