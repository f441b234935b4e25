"""Hinton et al.'s distillation loss against torch's KL divergence and a closed-form gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import cnnlab.compress
from cnnlab.train.distillation import distillation_loss


def _logits(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(8, 5, generator=g, dtype=torch.float64) * 3
    teacher = torch.randn(8, 5, generator=g, dtype=torch.float64) * 3
    targets = torch.randint(0, 5, (8,), generator=g)
    return student, teacher, targets


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (2.5, 0.0), (8.0, 1.0)])
def test_equals_kl_div_and_cross_entropy(T: float, alpha: float) -> None:
    student, teacher, targets = _logits()
    ours = distillation_loss(student, teacher, targets, T=T, alpha=alpha)
    kl = F.kl_div(
        F.log_softmax(student / T, dim=1),
        F.log_softmax(teacher / T, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    ref = alpha * T * T * kl + (1 - alpha) * F.cross_entropy(student, targets)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9)])
def test_gradient_is_the_closed_form(T: float, alpha: float) -> None:
    # d/dz [alpha T^2 KL(p_T || q_T)] = alpha T (q_T - p_T) / N; d/dz CE = (softmax(z) - y) / N
    student, teacher, targets = _logits(1)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    distillation_loss(student, teacher, targets, T=T, alpha=alpha).backward()
    n = student.shape[0]
    q_t = torch.softmax(student.detach() / T, dim=1)
    p_t = torch.softmax(teacher.detach() / T, dim=1)
    onehot = F.one_hot(targets, 5).double()
    expected = (
        alpha * T * (q_t - p_t) / n
        + (1 - alpha) * (torch.softmax(student.detach(), dim=1) - onehot) / n
    )
    torch.testing.assert_close(student.grad, expected, rtol=1e-10, atol=1e-12)
    assert teacher.grad is None  # the teacher is fixed


def test_gradcheck() -> None:
    student, teacher, targets = _logits(2)
    student.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda s: distillation_loss(s, teacher, targets, T=3.0, alpha=0.7), (student,)
    )


def test_re_exported_from_compress() -> None:
    assert cnnlab.compress.distillation_loss is distillation_loss


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"T": 0.0}, "T must be"),
        ({"alpha": 1.5}, "alpha must be"),
        ({"teacher_logits": torch.zeros(8, 4)}, "teacher_logits"),
        ({"targets": torch.zeros(3, dtype=torch.long)}, "targets"),
    ],
    ids=["T-zero", "alpha-1.5", "teacher-shape", "targets-shape"],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    student, teacher, targets = _logits()
    args = {"student_logits": student, "teacher_logits": teacher, "targets": targets, **kwargs}
    with pytest.raises(ValueError, match=match):
        distillation_loss(**args)
