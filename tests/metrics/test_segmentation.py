"""Segmentation scores against torchmetrics and against IoU from scikit-learn's confusion_matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

from cnnlab.core.validate import InvalidArgument
from cnnlab.metrics import SegmentationMeter, segmentation_scores


def _case(
    seed: int, c: int, absent: tuple[int, ...] = (), ignore: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks (4 x 24 x 24): predictions right ~60% of the time; classes in ``absent`` occur in
    neither; 10% of target pixels set to ``ignore``."""
    g = torch.Generator().manual_seed(seed)
    allowed = torch.tensor([k for k in range(c) if k not in absent])
    target = allowed[torch.randint(0, len(allowed), (4, 24, 24), generator=g)]
    noise = allowed[torch.randint(0, len(allowed), target.shape, generator=g)]
    pred = torch.where(torch.rand(target.shape, generator=g) < 0.6, target, noise)
    if ignore is not None:
        target = torch.where(torch.rand(target.shape, generator=g) < 0.1, ignore, target)
    return pred, target


def _sklearn_iou(pred: torch.Tensor, target: torch.Tensor, c: int, ignore: int | None) -> list:
    keep = np.ones(target.numel(), bool) if ignore is None else target.flatten().numpy() != ignore
    cm = confusion_matrix(
        target.flatten().numpy()[keep], pred.flatten().numpy()[keep], labels=list(range(c))
    )
    tp = np.diag(cm).astype(float)
    union = cm.sum(0) + cm.sum(1) - tp
    iou = [tp[k] / union[k] if union[k] > 0 else math.nan for k in range(c)]
    if ignore is not None and 0 <= ignore < c:
        iou[ignore] = math.nan
    return iou


CASES = {
    "c5": (0, 5, (), None),
    "c6-ignore255": (1, 6, (), 255),
    "c7-absent-classes": (2, 7, (2, 5), None),
    "c7-absent-ignore255": (3, 7, (6,), 255),
    "c4-ignore-class0": (4, 4, (), 0),
    "c21-voc": (5, 21, (3, 4, 9), 255),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torchmetrics_and_sklearn(case: str) -> None:
    seed, c, absent, ignore = CASES[case]
    pred, target = _case(seed, c, absent, ignore)
    ours = segmentation_scores(pred, target, c, ignore_index=ignore)

    jaccard = MulticlassJaccardIndex(c, average="macro", ignore_index=ignore)
    accuracy = MulticlassAccuracy(c, average="micro", ignore_index=ignore)
    assert ours["mean_iou"] == pytest.approx(float(jaccard(pred, target)), abs=1e-6)
    assert ours["pixel_accuracy"] == pytest.approx(float(accuracy(pred, target)), abs=1e-6)

    # torchmetrics' per-class IoU is 0 where ours is NaN (absent classes, ignore_index)
    per_class = MulticlassJaccardIndex(c, average="none", ignore_index=ignore)(pred, target)
    reference = _sklearn_iou(pred, target, c, ignore)
    for k in range(c):
        if math.isnan(reference[k]):
            assert math.isnan(ours["iou"][k]), k
            assert k in absent or k == ignore
        else:
            assert ours["iou"][k] == pytest.approx(reference[k], abs=1e-12), k
            assert ours["iou"][k] == pytest.approx(float(per_class[k]), abs=1e-6), k
    assert ours["mean_iou"] == pytest.approx(np.nanmean(reference), abs=1e-12)


def test_class_only_predicted_counts_as_zero_iou() -> None:
    """Present in the prediction only: IoU 0, inside the mean (a real error)."""
    target = torch.zeros(1, 2, 2, dtype=torch.int64)
    pred = torch.tensor([[[0, 0], [0, 2]]])
    scores = segmentation_scores(pred, target, 3)
    assert scores["iou"][0] == 0.75 and scores["iou"][2] == 0.0 and math.isnan(scores["iou"][1])
    assert scores["mean_iou"] == pytest.approx(0.375)
    reference = MulticlassJaccardIndex(3, average="macro")(pred, target)
    assert scores["mean_iou"] == pytest.approx(float(reference))


def test_logits_give_the_argmax_scores() -> None:
    g = torch.Generator().manual_seed(6)
    logits = torch.randn(2, 5, 16, 16, generator=g)
    target = torch.randint(0, 5, (2, 16, 16), generator=g)
    assert segmentation_scores(logits, target, 5) == segmentation_scores(
        logits.argmax(1), target, 5
    )


def test_meter_over_batches_equals_one_shot_and_torchmetrics() -> None:
    pred, target = _case(7, 9, absent=(4,), ignore=255)
    meter = SegmentationMeter(9, ignore_index=255)
    jaccard = MulticlassJaccardIndex(9, average="macro", ignore_index=255)
    for i in range(4):
        meter.update(pred[i : i + 1], target[i : i + 1])
        jaccard.update(pred[i : i + 1], target[i : i + 1])
    accumulated = meter.compute()
    one_shot = segmentation_scores(pred, target, 9, ignore_index=255)
    assert accumulated["pixel_accuracy"] == one_shot["pixel_accuracy"]
    assert np.array_equal(accumulated["iou"], one_shot["iou"], equal_nan=True)
    assert accumulated["mean_iou"] == pytest.approx(float(jaccard.compute()), abs=1e-6)
    assert meter.confusion.dtype == torch.int64
    assert int(meter.confusion.sum()) == int((target != 255).sum())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_meter_update_does_not_synchronise_on_cuda() -> None:
    pred, target = _case(8, 6, ignore=255)
    pred, target = pred.cuda(), target.cuda()
    meter = SegmentationMeter(6, ignore_index=255)
    meter.update(pred, target)  # the first update allocates
    torch.cuda.set_sync_debug_mode("error")
    try:
        meter.update(pred, target)
        meter.update(torch.randn(4, 6, 24, 24, device="cuda"), target)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert int(meter.confusion.sum()) == 3 * int((target != 255).sum())


BAD = {
    "pred-out-of-range": (
        lambda: segmentation_scores(torch.full((1, 2, 2), 3), torch.zeros(1, 2, 2).long(), 3),
        r"pred must hold integers in \[0, 3\), got 3",
    ),
    "target-255-without-ignore": (
        lambda: segmentation_scores(torch.zeros(1, 2, 2).long(), torch.full((1, 2, 2), 255), 3),
        r"target must hold integers in \[0, 3\), got 255",
    ),
    "shapes": (
        lambda: segmentation_scores(torch.zeros(1, 2, 3).long(), torch.zeros(1, 2, 2).long(), 3),
        r"same shape, got \(1, 2, 3\) and \(1, 2, 2\)",
    ),
    "logits-wrong-classes": (
        lambda: segmentation_scores(torch.zeros(1, 4, 2, 2), torch.zeros(1, 2, 2).long(), 3),
        r"shape \(N, num_classes=3, ...\)",
    ),
    "all-ignored": (
        lambda: segmentation_scores(
            torch.zeros(1, 2, 2).long(), torch.full((1, 2, 2), 255), 3, ignore_index=255
        ),
        "no pixels were counted",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_inputs_say_what_is_wrong(case: str) -> None:
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(InvalidArgument) as error:
        SegmentationMeter(0)
    assert error.value.argument == "num_classes"
    with pytest.raises(InvalidArgument) as error:
        SegmentationMeter(3, ignore_index=2.5)
    assert error.value.argument == "ignore_index"
