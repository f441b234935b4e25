"""batch-size: the mini-batch gradient variance, per-sample gradients, linear scaling."""

from __future__ import annotations

import torch

from cnnlab.experiments.batch_size import SoftmaxRegression
from cnnlab.experiments.loop import digits

EXPERIMENT = "batch-size"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_variance_falls_as_one_over_b(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0])[:3] == ["batch_size", "measured_variance", "predicted_variance"]
    measured = {int(r["batch_size"]): float(r["measured_variance"]) for r in rows}
    n = max(measured)
    assert n == 1437  # 80% of the 1,797 digits
    assert measured[n] < 1e-24
    for b in (4, 16, 64, 256, 1024):
        factor = (n - b) / (b * (n - 1))  # sampling without replacement, relative to B = 1
        assert abs(measured[b] / measured[1] / factor - 1) < 0.2


def test_per_sample_gradients_and_lipschitz_bound() -> None:
    train, _ = digits(torch.float64)
    model = SoftmaxRegression(train.x[:40], train.y[:40])
    w = torch.randn(65, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    per_sample = model.per_sample_grads(w)
    for i in range(40):
        wi = w.clone().requires_grad_()
        torch.nn.functional.cross_entropy(model.x[i : i + 1] @ wi, model.y[i : i + 1]).backward()
        assert torch.allclose(per_sample[i], wi.grad.flatten(), rtol=0, atol=1e-13)
    assert torch.allclose(model.grad(w).flatten(), per_sample.mean(0), rtol=0, atol=1e-13)
    # the Hessian in closed form, sum_i x_i x_i^T (x) (diag(p_i) - p_i p_i^T) / N, checked
    # against autograd Hessian-vector products; its top eigenvalue is below the bound L
    p = torch.softmax(model.x @ w, 1)
    jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    hessian = torch.einsum("na,nb,nij->aibj", model.x, model.x, jac).reshape(650, 650) / 40

    def loss(v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(model.x @ v.view(65, 10), model.y)

    for seed in range(3):
        v = torch.randn(650, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        _, hvp = torch.autograd.functional.hvp(loss, w.flatten(), v)
        assert torch.allclose(hessian @ v, hvp, rtol=0, atol=1e-12)
    assert torch.linalg.eigvalsh(hessian).max() <= model.lipschitz


def test_linear_scaling_keeps_the_loss(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path.parent / "linear_scaling.csv")
    last = max(int(r["epoch"]) for r in rows)
    final = {(r["rule"], int(r["batch_size"])): float(r["train_loss"]) for r in rows}
    final = {k: v for k, v in final.items()}
    scaled = [v for (rule, _), v in final.items() if rule == "scaled"]
    assert max(scaled) / min(scaled) < 1.1
    assert final[("fixed", 512)] > final[("scaled", 512)] + 0.3
    assert last >= 3
