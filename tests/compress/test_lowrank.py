"""Truncated SVD against numpy.linalg.svd and Eckart-Young; VGG-16's fc6 counted on meta."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.analysis import summary
from cnnlab.compress import factorize_linear, lowrank, truncated_svd
from cnnlab.models import create_model


@pytest.mark.parametrize(("shape", "rank"), [((40, 30), 5), ((30, 40), 12), ((16, 16), 16)])
def test_truncated_svd_matches_numpy_and_eckart_young(shape: tuple[int, int], rank: int) -> None:
    w = np.random.default_rng(0).standard_normal(shape)
    svd = truncated_svd(torch.from_numpy(w), rank)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    best = (u[:, :rank] * s[:rank]) @ vt[:rank]  # numpy's rank-r truncation
    ours = (svd.second @ svd.first).numpy()
    np.testing.assert_allclose(svd.singular_values.numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(ours, best, rtol=1e-10, atol=1e-10)
    # Eckart-Young: the error is the root of the sum of the dropped squared singular values
    dropped = np.sqrt(np.sum(s[rank:] ** 2))
    assert svd.error == pytest.approx(dropped, rel=1e-10, abs=1e-12)
    assert np.linalg.norm(w - ours) == pytest.approx(dropped, rel=1e-8, abs=1e-10)
    assert svd.first.shape == (rank, shape[1]) and svd.second.shape == (shape[0], rank)


def test_truncation_beats_random_rank_r_matrices() -> None:
    rng = np.random.default_rng(1)
    w = rng.standard_normal((20, 12))
    svd = truncated_svd(torch.from_numpy(w), 4)
    for _ in range(20):
        # the best rank-4 matrix with a random 4-d column space: w projected onto it
        q, _ = np.linalg.qr(rng.standard_normal((20, 4)))
        assert np.linalg.norm(w - q @ (q.T @ w)) >= svd.error - 1e-12


def test_factorized_linear_computes_the_truncation() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(24, 10)
    x = torch.randn(5, 24)
    full = factorize_linear(layer, 10)  # full rank: the same map
    torch.testing.assert_close(full(x), layer(x), rtol=1e-5, atol=1e-5)
    low = factorize_linear(layer, 3)
    svd = truncated_svd(layer.weight, 3)
    expected = x @ (svd.second @ svd.first).T + layer.bias
    torch.testing.assert_close(low(x), expected, rtol=1e-5, atol=1e-5)
    assert [m.weight.shape for m in low] == [(3, 24), (10, 3)]


def test_vgg16_fc6_rank_512_on_meta() -> None:
    # The notes' example: fc6 is 25088 -> 4096; rank r stores r (25088 + 4096) weights.
    with torch.device("meta"):
        vgg = create_model("vgg16")
    factored, ranks = lowrank(vgg, ranks={"classifier.0": 512})
    assert ranks == {"classifier.0": 512}
    before, after = summary(vgg, (3, 224, 224)), summary(factored, (3, 224, 224))
    assert before.total_params - after.total_params == 25088 * 4096 - 512 * (25088 + 4096)
    assert before.total_macs - after.total_macs == 25088 * 4096 - 512 * (25088 + 4096)


def test_amount_picks_ranks_that_save_weights() -> None:
    model = nn.Sequential(nn.Linear(100, 80), nn.ReLU(), nn.Linear(80, 80))
    factored, ranks = lowrank(model, 0.5)
    # 80 singular values -> 40: 40 * (100 + 80) = 7200 < 8000 weights; the square layer
    # would need 40 * (80 + 80) = 6400 = 80 * 80 and stays
    assert ranks == {"0": 40}
    assert isinstance(factored[2], nn.Linear)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lowrank(nn.Sequential(nn.Conv2d(1, 2, 3)), 0.5), "no linear layer"),
        (lambda: lowrank(nn.Sequential(nn.Linear(4, 4)), 1.5), "amount"),
        (lambda: lowrank(nn.Sequential(nn.Linear(4, 4)), ranks={"9": 1}), "not linear"),
        (lambda: truncated_svd(torch.zeros(3, 4), 5), "rank"),
    ],
    ids=["no-linear", "amount-1.5", "unknown-layer", "rank-too-big"],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
