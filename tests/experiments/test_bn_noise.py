"""bn-noise: the injected shift and scale, BN's scale invariance, the probe along the gradient."""

from __future__ import annotations

import copy

import torch
from torch import nn

from cnnlab.experiments.bn_noise import ShiftScale, VGGish, probe, scale_invariance

EXPERIMENT = "bn-noise"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    assert len(quick.checks) == 8


def test_results(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0]) == ["kind", "step", "epoch", "train_loss"]
    assert {r["kind"] for r in rows} == {"none", "bn", "bn+noise"}
    probes = read_csv(quick.csv_path.parent / "probes.csv")
    for r in probes:
        assert float(r["loss_min"]) <= float(r["loss_max"])
        assert float(r["grad_change_min"]) <= float(r["grad_change_max"])


def test_shift_scale_gives_the_drawn_moments() -> None:
    gen = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm2d(5).double()
    noise = ShiftScale(5, gen, shift_max=1.0, var_max=4.0)
    x = 3 + 2 * torch.randn(64, 5, 6, 6, dtype=torch.float64, generator=gen)
    for _ in range(3):
        noise.resample()
        y = noise(bn(x))
        mean = y.mean((0, 2, 3))
        var = y.var((0, 2, 3), unbiased=False)
        assert torch.allclose(mean, noise.shift, atol=1e-12)
        batch_var = x.var((0, 2, 3), unbiased=False)
        # BN divides by sqrt(var + eps): the variance is s^2 var / (var + eps)
        assert torch.allclose(var, noise.var * batch_var / (batch_var + bn.eps), rtol=1e-10)
        assert noise.shift.abs().max() <= 1 and 1 <= noise.var.min() <= noise.var.max() <= 4
    # evaluation: the mean of the noise, E[s] = E[sqrt(V)], V ~ U(1, 4), by the midpoint rule
    u = 1 + 3 * (torch.arange(100_000, dtype=torch.float64) + 0.5) / 100_000
    assert abs(noise.mean_scale - float(u.sqrt().mean())) < 1e-9
    noise.eval()
    assert torch.equal(noise(x), x * noise.mean_scale)


def test_scale_invariance_holds_with_bn_only() -> None:
    torch.manual_seed(0)
    x = torch.randn(8, 1, 8, 8)
    y = torch.arange(8)
    with_bn = scale_invariance(VGGish("bn"), x, y)
    assert with_bn["output"] < 1e-10 and with_bn["cosine"] < 1e-10
    assert with_bn["gradient"] < 1e-10
    # the same function on the net without BN finds no invariance
    without = scale_invariance(VGGish("none"), x, y)
    assert without["output"] > 1e-3 and without["cosine"] > 1e-3 and without["gradient"] > 1e-3


def test_euler_identity_by_finite_differences() -> None:
    # d/dc L(c w) at c = 1 is <w, dL/dw>: a centred difference of the float64 loss is ~0 with BN
    torch.manual_seed(1)
    net = VGGish("bn").double().train()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-30
    x = torch.randn(8, 1, 8, 8, dtype=torch.float64)
    y = torch.arange(8)
    w = net.convs()[3].weight
    base = w.detach().clone()

    def loss(c: float) -> float:
        with torch.no_grad():
            w.copy_(base * c)
            return float(nn.functional.cross_entropy(net(x), y))

    h = 1e-4
    assert abs(loss(1 + h) - loss(1 - h)) / (2 * h) < 1e-9
    assert abs(loss(3.0) - loss(1.0)) < 1e-12


def test_probe_restores_the_model_and_matches_a_manual_step() -> None:
    torch.manual_seed(2)
    net = VGGish("bn").double().train()
    x = torch.randn(8, 1, 8, 8, dtype=torch.float64)
    y = torch.arange(8)
    params = list(net.parameters())
    grads = torch.autograd.grad(nn.functional.cross_entropy(net(x), y), params)
    before = copy.deepcopy(net.state_dict())
    out = probe(net, x, y, list(grads), lr=0.1)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # the largest step, k = 4: recompute the loss and gradient at w - 0.4 g by hand
    moved = copy.deepcopy(net)
    with torch.no_grad():
        for p, g in zip(moved.parameters(), grads, strict=True):
            p -= 0.4 * g
    loss = nn.functional.cross_entropy(moved(x), y)
    new = torch.autograd.grad(loss, list(moved.parameters()))
    loss = loss.detach()
    change = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(new, grads, strict=True)))
    assert out["loss_min"] <= float(loss) <= out["loss_max"]
    assert out["grad_change_min"] <= float(change) <= out["grad_change_max"] + 1e-12
