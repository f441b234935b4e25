"""Knowledge distillation (Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
Network", 2015): a student learns from a teacher's softened class probabilities.

With temperature ``T`` both networks' logits are divided by ``T`` before the softmax, which
spreads the teacher's probability over the wrong classes ("dark knowledge"). The soft term's
gradients scale as ``1 / T^2``, so it is multiplied by ``T^2`` to keep its weight against the
hard-label cross-entropy when ``T`` changes (the paper's section 2)::

    loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, y)

with the KL divergence averaged over the batch (summed over classes). ``cnnlab train --teacher
RUN_DIR`` trains with it; :mod:`cnnlab.compress` re-exports :func:`distillation_loss`.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from cnnlab.core.validate import InvalidArgument, number

__all__ = ["distillation_loss", "soft_target_loss"]


def soft_target_loss(student_logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    """``T^2 * KL(softmax(teacher / T) || softmax(student / T))``, the batch's mean.

    Shape:
        student_logits, teacher_logits: (N, C) -> ()
    """
    t = temperature
    log_student = F.log_softmax(student_logits / t, dim=1)
    log_teacher = F.log_softmax(teacher_logits.detach().to(log_student.dtype) / t, dim=1)
    kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return kl * (t * t)


def distillation_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    targets: Tensor,
    T: float = 4.0,
    alpha: float = 0.5,
) -> Tensor:
    """Hinton et al.'s loss: ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE``.

    Args:
        student_logits: the student's outputs (gradients flow into them).
        teacher_logits: the teacher's outputs (treated as constants).
        targets: class indices (N,), or class probabilities (N, C) (MixUp/CutMix).
        T: the temperature (> 0); 1 is the plain softmax.
        alpha: the soft term's weight in [0, 1]; 0 is plain cross-entropy.

    Shape:
        student_logits, teacher_logits: (N, C); targets: (N,) or (N, C) -> ()

    Raises:
        InvalidArgument: ``T`` not > 0, ``alpha`` outside [0, 1], or shapes that do not fit.
    """
    T = number("T", T, minimum=0, exclusive_minimum=True)
    alpha = number("alpha", alpha, minimum=0, maximum=1)
    if student_logits.ndim != 2 or student_logits.shape != teacher_logits.shape:
        raise InvalidArgument(
            "teacher_logits",
            f"teacher_logits must have the student's shape (N, K), got "
            f"{tuple(teacher_logits.shape)} and {tuple(student_logits.shape)}",
        )
    if targets.shape not in (student_logits.shape[:1], student_logits.shape):
        raise InvalidArgument(
            "targets",
            f"targets must have shape ({student_logits.shape[0]},) (classes) or "
            f"{tuple(student_logits.shape)} (probabilities), got {tuple(targets.shape)}",
        )
    soft = soft_target_loss(student_logits, teacher_logits, T)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, targets)
