"""Training losses beyond ``nn.CrossEntropyLoss``: knowledge distillation (Hinton et al., 2015)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlab.core.validate import InvalidArgument, number


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    T: float = 4.0,
    alpha: float = 0.9,
) -> torch.Tensor:
    """Hinton et al.'s knowledge-distillation loss: soft targets from a teacher plus hard labels.

    Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network" (2015). The
    teacher's softmax at temperature ``T`` carries its "dark knowledge" (how much a 3 looks like
    an 8); matching it transfers more per example than the one-hot label. The soft term is
    multiplied by ``T^2`` so that its gradients keep their size as ``T`` changes (the soft
    gradients scale as ``1/T^2``). The teacher gets no gradient.

    Math:
        p_T = softmax(teacher / T),  q_T = softmax(student / T)
        KL = (1/N) sum_n sum_k p_T[n, k] (log p_T[n, k] - log q_T[n, k])
        loss = alpha * T^2 * KL + (1 - alpha) * CE(student, targets)

    Shape:
        student_logits, teacher_logits: (N, K); targets: (N,) class indices; returns a scalar.

    Args:
        student_logits: the student's raw scores.
        teacher_logits: the teacher's raw scores (detached here).
        targets: the true classes.
        T: softmax temperature, > 0 (1 is the ordinary softmax).
        alpha: weight of the soft (teacher) term in [0, 1].
    """
    T = number("T", T, minimum=0, exclusive_minimum=True)
    alpha = number("alpha", alpha, minimum=0, maximum=1)
    if student_logits.ndim != 2 or student_logits.shape != teacher_logits.shape:
        raise InvalidArgument(
            "teacher_logits",
            f"teacher_logits must have the student's shape (N, K), got "
            f"{tuple(teacher_logits.shape)} and {tuple(student_logits.shape)}",
        )
    if targets.shape != student_logits.shape[:1]:
        raise InvalidArgument(
            "targets",
            f"targets must have shape ({student_logits.shape[0]},), got {tuple(targets.shape)}",
        )
    log_q = F.log_softmax(student_logits / T, dim=1)
    log_p = F.log_softmax(teacher_logits.detach() / T, dim=1)
    soft = (log_p.exp() * (log_p - log_q)).sum(dim=1).mean()
    hard = F.cross_entropy(student_logits, targets)
    return alpha * T * T * soft + (1.0 - alpha) * hard
