"""MixUp and CutMix as one batch transform: images and soft targets mixed by the same lambda."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlab.core.validate import InvalidArgument
from cnnlab.data.transforms import mixup_cutmix

N, C = 6, 4


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(N, 3, 10, 12, generator=g) + 2, torch.tensor([0, 1, 2, 3, 1, 2])


def test_mixup_mixes_images_and_labels_with_one_lambda() -> None:
    images, labels = _batch()
    torch.manual_seed(0)
    mixed, soft = mixup_cutmix(C, mixup=0.4)(images, labels)
    one_hot = F.one_hot(labels, C).float()
    # the partner of sample i is sample i - 1 (torchvision's roll); lambda read off the targets
    lam = float(soft[0, labels[0]])  # labels[0] != labels[-1]: their shares do not add up
    torch.testing.assert_close(soft, lam * one_hot + (1 - lam) * one_hot.roll(1, 0))
    torch.testing.assert_close(mixed, lam * images + (1 - lam) * images.roll(1, 0))
    torch.testing.assert_close(soft.sum(1), torch.ones(N))


def test_cutmix_pastes_a_box_whose_area_is_the_label_share() -> None:
    images, labels = _batch()
    for seed in range(5):
        torch.manual_seed(seed)
        mixed, soft = mixup_cutmix(C, cutmix=1.0)(images, labels)
        pasted = (mixed != images).any(dim=1)  # pixels taken from the partner (all differ)
        partner = images.roll(1, 0)
        torch.testing.assert_close(mixed[:, :, pasted[0]], partner[:, :, pasted[0]])
        lam = 1 - pasted[0].float().mean()  # share of the image kept
        one_hot = F.one_hot(labels, C).float()
        torch.testing.assert_close(soft, lam * one_hot + (1 - lam) * one_hot.roll(1, 0))
        assert (pasted == pasted[0]).all()  # one box for the batch


def test_both_pick_one_per_batch_and_cross_entropy_takes_soft_targets() -> None:
    images, labels = _batch()
    transform = mixup_cutmix(C, mixup=0.2, cutmix=1.0)
    torch.manual_seed(0)
    kinds = set()
    for _ in range(20):
        mixed, soft = transform(images, labels)
        box = (mixed != images).any(dim=1)
        kinds.add("cutmix" if not box.all() else "mixup")
        logits = torch.randn(N, C)
        by_hand = -(soft * logits.log_softmax(1)).sum(1).mean()
        torch.testing.assert_close(torch.nn.CrossEntropyLoss()(logits, soft), by_hand)
    assert kinds == {"mixup", "cutmix"}


def test_off_is_none_and_bad_alphas_name_the_flag() -> None:
    assert mixup_cutmix(10) is None
    with pytest.raises(InvalidArgument, match="mixup must be a finite number >= 0, got -1"):
        mixup_cutmix(10, mixup=-1)
    with pytest.raises(InvalidArgument, match="cutmix must be a finite number >= 0, got inf"):
        mixup_cutmix(10, cutmix=float("inf"))
