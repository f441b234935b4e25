"""MixUp and CutMix: batch transforms that mix pairs of images and their labels.

Zhang et al., "mixup: Beyond Empirical Risk Minimization" (ICLR 2018): ``x = l * x_i + (1 - l) *
x_j``, ``y = l * y_i + (1 - l) * y_j`` with ``l ~ Beta(a, a)``. Yun et al., "CutMix" (ICCV 2019):
paste a box of ``x_j`` into ``x_i``, the labels mixed by the box's share of the area. Both are
torchvision's ``v2.MixUp`` / ``v2.CutMix`` (the partner of sample i is sample i - 1 of the batch);
with both enabled, each batch gets one of the two at random, as torchvision's classification
references do. The targets come out as soft labels (N, num_classes) that sum to 1, which
``nn.CrossEntropyLoss`` takes as class probabilities.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torchvision.transforms import v2

from cnnlab.core.validate import number, positive_int

BatchTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def mixup_cutmix(
    num_classes: int, mixup: float = 0.0, cutmix: float = 0.0
) -> BatchTransform | None:
    """The batch transform for ``--mixup ALPHA`` and ``--cutmix ALPHA``, or ``None`` if both are 0.

    Args:
        num_classes: classes of the integer labels (the soft targets' width).
        mixup: MixUp's Beta parameter alpha (0: off).
        cutmix: CutMix's Beta parameter alpha (0: off).

    Returns:
        ``f(images, labels) -> (images, soft_targets)``; draws from torch's global generator.

    Shape:
        images (N, C, H, W), labels (N,) int64 -> images (N, C, H, W), targets (N, num_classes)
        in the images' floating dtype.

    Raises:
        InvalidArgument: a negative or non-finite alpha, or ``num_classes`` < 1.
    """
    num_classes = positive_int("num_classes", num_classes)
    mixup = number("mixup", mixup, minimum=0)
    cutmix = number("cutmix", cutmix, minimum=0)
    chosen = []
    if mixup > 0:
        chosen.append(v2.MixUp(alpha=mixup, num_classes=num_classes))
    if cutmix > 0:
        chosen.append(v2.CutMix(alpha=cutmix, num_classes=num_classes))
    if not chosen:
        return None
    return chosen[0] if len(chosen) == 1 else v2.RandomChoice(chosen)
