"""activations: derivatives, vanishing gradients, the notes' saturation numbers, dead ReLUs."""

from __future__ import annotations

import math

EXPERIMENT = "activations"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_largest_derivatives(quick) -> None:
    top = {r["activation"]: r["max_derivative"] for r in quick.rows}
    assert len(top) == 11
    assert abs(top["Sigmoid"] - 0.25) < 1e-15  # sigma'(0) = 1/4
    assert abs(top["Tanh"] - 1.0) < 1e-15
    assert top["ReLU"] == 1.0 and top["LeakyReLU"] == 1.0
    assert abs(top["SELU"] - 1.0507009873554805 * 1.6732632423543772) < 1e-3  # scale * alpha


def test_sigmoid_gradient_vanishes_relu_keeps_it(quick) -> None:
    ratio = {r["activation"]: r["log10_input_grad_ratio_20_layers"] for r in quick.rows}
    assert ratio["Sigmoid"] < 20 * math.log10(0.25 * math.sqrt(2)) + 1  # sigma' <= 1/4
    assert abs(ratio["ReLU"]) < 1


def test_saturation_numbers_of_the_notes(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path.parent / "saturation.csv")
    at = min(rows, key=lambda r: abs(float(r["z"]) + 6))
    a = 1 / (1 + math.exp(6))
    assert float(at["z"]) == -6
    assert abs(float(at["dmse_dz"]) - (a - 1) * a * (1 - a)) < 1e-15
    assert abs(float(at["dce_dz"]) - (a - 1)) < 1e-15
    assert round(float(at["dmse_dz"]), 4) == -0.0025 and round(float(at["dce_dz"]), 4) == -0.9975


def test_large_learning_rate_kills_relus(quick, read_csv) -> None:
    rows = {float(r["lr"]): r for r in read_csv(quick.csv_path.parent / "dead_relus.csv")}
    assert float(rows[1.0]["dead_layer1"]) >= 0.1
    assert float(rows[0.01]["dead_layer1"]) <= 0.05
