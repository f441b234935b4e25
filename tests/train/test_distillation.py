"""Knowledge distillation: the loss against a by-hand formula and F.kl_div, and a training step
of ``--teacher`` against the same step computed by hand."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console

from cnnlab.cli.main import main
from cnnlab.train import TrainConfig, Trainer, distillation_loss, load_checkpoint


def _by_hand(s: torch.Tensor, t: torch.Tensor, y: torch.Tensor, T: float, alpha: float):
    """Hinton et al. (2015) written out in float64: sum_c p_t (log p_t - log p_s), batch mean."""
    p_t = torch.exp(t / T) / torch.exp(t / T).sum(1, keepdim=True)
    log_p_s = s / T - torch.log(torch.exp(s / T).sum(1, keepdim=True))
    kl = (p_t * (torch.log(p_t) - log_p_s)).sum(1).mean()
    log_q = s - torch.log(torch.exp(s).sum(1, keepdim=True))
    ce = -log_q[torch.arange(len(y)), y].mean()
    return alpha * T * T * kl + (1 - alpha) * ce


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (20.0, 0.1), (3.0, 1.0)])
def test_distillation_loss_and_its_gradient_equal_the_formula(T: float, alpha: float) -> None:
    g = torch.Generator().manual_seed(0)
    s = (3 * torch.randn(16, 10, generator=g, dtype=torch.float64)).requires_grad_()
    t = 3 * torch.randn(16, 10, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (16,), generator=g)
    ours = distillation_loss(s, t, y, T=T, alpha=alpha)
    s_ref = s.detach().clone().requires_grad_()
    ref = _by_hand(s_ref, t, y, T, alpha)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    kl = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean")
    torch.testing.assert_close(ours, alpha * T * T * kl + (1 - alpha) * F.cross_entropy(s, y))
    (grad,) = torch.autograd.grad(ours, s)
    (grad_ref,) = torch.autograd.grad(ref, s_ref)
    torch.testing.assert_close(grad, grad_ref, rtol=1e-10, atol=1e-12)
    # The soft term's gradient is (p_s - p_t) / (T N) per logit: times T^2 it is T (p_s - p_t) / N.
    if alpha == 1.0:
        expected = T * (F.softmax(s / T, 1) - F.softmax(t / T, 1)) / len(y)
        torch.testing.assert_close(grad, expected.detach(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("kw", "field"), [({"T": 0}, "T"), ({"alpha": 1.5}, "alpha")])
def test_bad_temperature_or_alpha_names_the_argument(kw: dict, field: str) -> None:
    s = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=f"^{field} must be"):
        distillation_loss(s, s, torch.zeros(2, dtype=torch.long), **kw)


def _quiet() -> Console:
    return Console(file=io.StringIO())


def test_a_student_step_with_a_teacher_equals_the_step_by_hand(tmp_path: Path) -> None:
    # One full-batch SGD step of a lenet5 student taught by another lenet5 run (28 x 28 digits).
    base = {"dataset": "digits", "model": "lenet5", "image_size": 28, "batch_size": 2048}
    base.update(epochs=1, optimizer="sgd", lr=0.1, device="cpu")
    teacher_run = tmp_path / "teacher"
    Trainer(TrainConfig(**base, seed=1, out=str(teacher_run)), console=_quiet()).fit()
    T, alpha = 3.0, 0.7
    cfg = TrainConfig(
        **base,
        seed=2,
        teacher=str(teacher_run),
        distill_alpha=alpha,
        distill_temperature=T,
        out=str(tmp_path / "student"),
    )
    trainer = Trainer(cfg, console=_quiet())
    initial = copy.deepcopy(trainer.model)
    x, y = trainer.data.train.tensors
    order = trainer.sampler.order(0)
    x, y = x[order], y[order]
    # The teacher by hand: its run's config and best weights, rebuilt from the registry.
    from cnnlab.models import create_model

    with torch.random.fork_rng(devices=[]):  # the trainer's generators stay untouched
        teacher = create_model("lenet5", num_classes=10, in_chans=1)
    teacher.load_state_dict(load_checkpoint(teacher_run / "best.pt")["model"])
    with torch.no_grad():
        t_logits = teacher.eval()(x).double()
    student = copy.deepcopy(initial).train()
    s_logits = student(x)  # lenet5 draws nothing (no dropout)
    loss = _by_hand(s_logits.double(), t_logits, y, T, alpha)
    params = list(student.named_parameters())
    grads = torch.autograd.grad(loss, [p for _, p in params])
    trainer.fit()
    after = dict(trainer.model.named_parameters())
    for (name, p), g in zip(params, grads, strict=True):
        expected = p.detach() - 0.1 * g.float()
        torch.testing.assert_close(after[name].detach(), expected, rtol=1e-5, atol=1e-6, msg=name)
    assert trainer.history[0].train_loss == pytest.approx(loss.item(), rel=1e-5)


def test_bad_teacher_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fast = ["train", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path / "run")]
    cases = {
        "missing": ([*fast, "--teacher", str(tmp_path / "nope")], "--teacher: run directory"),
        "not-a-run": ([*fast, "--teacher", str(tmp_path)], "holds no config.json"),
        "alpha-alone": ([*fast, "--distill-alpha", "0.3"], "--distill-alpha needs a teacher"),
        "t-alone": ([*fast, "--distill-t", "2"], "--distill-temperature needs a teacher"),
        "t-zero": ([*fast, "--distill-temperature", "0"], "--distill-temperature must be"),
    }
    for name, (args, message) in cases.items():
        assert main(args) == 2, name
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (name, err)
