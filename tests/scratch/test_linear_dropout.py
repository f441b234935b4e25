"""Linear and Flatten against torch; Dropout against the statistics of its mask."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch


@settings(max_examples=30)
@given(
    st.lists(st.integers(1, 3), min_size=0, max_size=2),
    st.integers(1, 5),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_linear_matches_torch(torch_twin, lead, d_in, d_out, bias, seed) -> None:
    x = np.random.default_rng(seed).standard_normal((*lead, d_in))
    ours = scratch.Linear(d_in, d_out, bias=bias, rng=seed)
    torch_twin(ours, torch.nn.Linear(d_in, d_out, bias=bias), x, seed)
    bound = 1 / math.sqrt(d_in)  # torch's default initialisation range
    assert np.abs(ours.weight.data).max() <= bound


@pytest.mark.parametrize(
    ("start", "end"), [(1, -1), (0, -1), (2, 3), (-3, -2)], ids=["default", "all", "hw", "neg"]
)
def test_flatten_matches_torch(torch_twin, start, end) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    torch_twin(scratch.Flatten(start, end), torch.nn.Flatten(start, end), x)


def test_bad_linear_and_flatten_raise() -> None:
    with pytest.raises(ValueError, match=r"expects \(\*, 4\) input"):
        scratch.Linear(4, 2)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        scratch.Linear(0, 2)
    with pytest.raises(ValueError, match="does not fit"):
        scratch.Flatten(3, 1)(np.zeros((2, 3, 4, 5)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8], ids=["p0.1", "p0.5", "p0.8"])
def test_dropout_mask_statistics(p) -> None:
    n = 200_000
    layer = scratch.Dropout(p, rng=0)
    x = np.full(n, 3.0)
    y = layer(x)
    kept = layer.mask.mean()
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(kept - (1 - p)) < 5 * sigma  # Bernoulli(1 - p) mask, 5-sigma band
    np.testing.assert_allclose(y[layer.mask], 3.0 / (1 - p), rtol=1e-15)  # inverted scaling
    assert np.all(y[~layer.mask] == 0.0)
    assert abs(y.mean() - 3.0) < 5 * 3.0 * sigma / (1 - p)  # E[y] = x
    dout = np.random.default_rng(1).standard_normal(n)
    np.testing.assert_allclose(layer.backward(dout), dout * layer.mask / (1 - p), rtol=1e-15)


def test_dropout_matches_torch_given_the_same_mask() -> None:
    # torch.nn.Dropout computes x * mask / (1 - p) too: feed ours' mask into torch's formula
    layer = scratch.Dropout(0.3, rng=1)
    x = np.random.default_rng(0).standard_normal((4, 5))
    y = layer(x)
    torch.manual_seed(0)
    ref = torch.nn.functional.dropout(torch.ones(100_000, dtype=torch.float64), 0.3)
    assert set(np.unique(ref.numpy()).round(12)) == {0.0, round(1 / 0.7, 12)}
    np.testing.assert_allclose(y, x * layer.mask / 0.7, rtol=1e-15)


def test_dropout_is_the_identity_in_eval_and_seeded_in_train() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    layer = scratch.Dropout(0.5, rng=7).eval()
    assert layer(x) is x
    np.testing.assert_array_equal(layer.backward(x), x)
    a, b = scratch.Dropout(0.5, rng=7), scratch.Dropout(0.5, rng=7)
    np.testing.assert_array_equal(a(x), b(x))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"], ids=["negative", "one", "above", "string"])
def test_dropout_p_outside_unit_interval_raises(p) -> None:
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        scratch.Dropout(p)
