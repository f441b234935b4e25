"""scratch.init against torch.nn.init: fans, gains, and the variance of the drawn weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.scratch import Parameter, init

SHAPES = [(64, 32), (32, 16, 3, 3), (8, 4, 5, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=["linear", "conv3x3", "conv5x1"])
def test_fans_match_torch(shape) -> None:
    assert init.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(shape)
    )


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
    ids=["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky", "leaky0.2", "selu"],
)
def test_gains_match_torch(name, param) -> None:
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15
    )


# name -> (scratch function, torch function, kwargs, theoretical std for shape (256, 128, 3, 3))
FAN_IN, FAN_OUT = 128 * 9, 256 * 9
INITS = {
    "xavier_uniform": (
        init.xavier_uniform_,
        torch.nn.init.xavier_uniform_,
        {},
        math.sqrt(2 / (FAN_IN + FAN_OUT)),
    ),
    "xavier_normal-gain2": (
        init.xavier_normal_,
        torch.nn.init.xavier_normal_,
        {"gain": 2.0},
        2 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
    ),
    "kaiming_uniform-relu": (
        init.kaiming_uniform_,
        torch.nn.init.kaiming_uniform_,
        {"nonlinearity": "relu"},
        math.sqrt(2 / FAN_IN),
    ),
    "kaiming_normal-fan_out": (
        init.kaiming_normal_,
        torch.nn.init.kaiming_normal_,
        {"mode": "fan_out", "nonlinearity": "relu"},
        math.sqrt(2 / FAN_OUT),
    ),
    "kaiming_uniform-a5": (
        init.kaiming_uniform_,
        torch.nn.init.kaiming_uniform_,
        {"a": math.sqrt(5)},
        1 / math.sqrt(3 * FAN_IN),
    ),
}


@pytest.mark.parametrize(("ours", "ref", "kwargs", "std"), INITS.values(), ids=INITS.keys())
def test_init_variance_matches_formula_and_torch(ours, ref, kwargs, std) -> None:
    shape = (256, 128, 3, 3)  # 295k weights: the sample std is within ~0.3% of the truth
    w = ours(np.zeros(shape), rng=0, **kwargs)
    torch.manual_seed(0)
    t = ref(torch.empty(shape, dtype=torch.float64), **kwargs).numpy()
    assert w.std() == pytest.approx(std, rel=0.01)
    assert t.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std
    if "uniform" in ours.__name__:  # U(-b, b) has std b / sqrt(3)
        bound = std * math.sqrt(3)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound


def test_init_fills_parameters_in_place_and_is_seeded() -> None:
    p = Parameter(np.zeros((4, 3)))
    out = init.kaiming_normal_(p, rng=3)
    assert out is p.data and p.data.std() > 0
    np.testing.assert_array_equal(init.kaiming_normal_(np.zeros((4, 3)), rng=3), p.data)
    assert np.all(init.ones_(np.zeros(3)) == 1.0) and np.all(init.zeros_(np.ones(3)) == 0.0)


def test_kaiming_keeps_relu_activations_from_vanishing() -> None:
    # the notes' point: with He init the activation scale survives 20 ReLU layers
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 256))
    scales = {}
    for name, fill in (("kaiming", init.kaiming_normal_), ("xavier", init.xavier_normal_)):
        h = x
        for _ in range(20):
            w = (
                fill(np.zeros((256, 256)), rng=rng, nonlinearity="relu")
                if name == "kaiming"
                else fill(np.zeros((256, 256)), rng=rng)
            )
            h = np.maximum(h @ w.T, 0.0)
        scales[name] = np.sqrt(np.mean(h**2))
    assert 0.3 < scales["kaiming"] < 3.0
    assert scales["xavier"] < 0.01


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: init.calculate_gain("relu6"), "did you mean relu"),
        (lambda: init.kaiming_normal_(np.zeros((3, 2)), mode="fan_avg"), "mode must be one of"),
        (lambda: init.xavier_uniform_(np.zeros(3)), ">= 2 dimensions"),
    ],
    ids=["gain-name", "fan-mode", "1d"],
)
def test_bad_arguments_raise(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()
