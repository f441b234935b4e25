"""init-depth: the variance recurrences of Glorot & Bengio and He et al., and He's Fig. 3."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.data import load_dataset

EXPERIMENT = "init-depth"


def _stds(result, init: str, act: str, key: str = "forward_std") -> np.ndarray:
    sel = [r for r in result.rows if r["init"] == init and r["activation"] == act]
    assert [r["layer"] for r in sel] == list(range(1, 31))
    return np.array([r[key] for r in sel])


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    assert len(quick.checks) == 10


def test_results_csv_columns(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0])[:5] == ["init", "activation", "layer", "forward_std", "backward_std"]
    assert len(rows) == 3 * 2 * 30
    assert {(r["init"], r["activation"]) for r in rows} == {
        (i, a) for i in ("normal-0.01", "xavier", "kaiming") for a in ("tanh", "relu")
    }


def test_relu_scales_as_he_et_al(quick) -> None:
    # Input variance 1, Var[w] = 2/n: Var[y_l] = 2 at every layer (He et al. eq. 10).
    kaiming = _stds(quick, "kaiming", "relu")
    assert np.all(np.abs(np.log(kaiming / math.sqrt(2))) < math.log(2))
    # Xavier (Var[w] = 1/n): ReLU halves the variance at every layer.
    xavier = _stds(quick, "xavier", "relu")
    assert abs(np.log(xavier[-1] / xavier[0]) / np.log(2 ** (-29 / 2)) - 1) < 0.05
    # Gradients of Kaiming + ReLU keep their scale going down (eq. 13 with fan_in = fan_out).
    grads = _stds(quick, "kaiming", "relu", "backward_std")
    assert np.all(np.abs(np.log(grads)) < math.log(2))


def test_small_init_is_linear_for_tanh(quick) -> None:
    # N(0, 0.01^2): tanh is linear at these scales (Glorot & Bengio), so every layer
    # multiplies the std by sqrt(n Var[w]) = sqrt(n) 0.01; ReLU by sqrt(n / 2) 0.01.
    tanh = _stds(quick, "normal-0.01", "tanh")
    n = quick.rows[0]["width"]
    assert abs(tanh[0] / (math.sqrt(n) * 0.01) - 1) < 0.05
    per_layer = math.sqrt(n) * 0.01
    assert abs(np.log(tanh[-1] / tanh[0]) / (29 * np.log(per_layer)) - 1) < 0.01
    relu = _stds(quick, "normal-0.01", "relu")
    assert abs(np.log(relu[-1] / relu[0]) / (29 * np.log(per_layer / math.sqrt(2))) - 1) < 0.01


def test_thirty_layer_net_trains_only_with_kaiming(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path.parent / "training.csv")
    final = {}
    for r in rows:
        final[r["init"]] = float(r["train_loss"])
    counts = np.bincount(load_dataset("digits").targets_train, minlength=10)
    freq = counts / counts.sum()
    entropy = float(-(freq * np.log(freq)).sum())  # the best constant prediction's loss
    assert abs(final["normal-0.01"] - entropy) < 1e-3
    assert final["kaiming"] < entropy - 0.1
