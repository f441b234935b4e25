"""DetectionTransform and AnchorGenerator against torchvision's GeneralizedRCNNTransform and
AnchorGenerator; the notes' anchor counts."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TvAnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import _default_anchorgen
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from cnnlab.detection import AnchorGenerator, DetectionTransform, RPNHead, octave_sizes

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _images_and_targets() -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    g = torch.Generator().manual_seed(0)
    images = [torch.rand(3, 50, 70, generator=g), torch.rand(3, 64, 40, generator=g)]
    boxes = [
        torch.tensor([[1.0, 2.0, 30.5, 40.0]]),
        torch.tensor([[0.0, 0.0, 39.0, 63.0], [5, 5, 9, 9.0]]),
    ]
    targets = [{"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64)} for b in boxes]
    return images, targets


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize(("min_size", "max_size"), [(64, 80), ((48, 64, 96), 100), (50, 50)])
def test_transform_equals_torchvision(mode: str, min_size, max_size: int) -> None:
    images, targets = _images_and_targets()
    ours = DetectionTransform(min_size, max_size, MEAN, STD).train(mode == "train")
    theirs = GeneralizedRCNNTransform(min_size, max_size, list(MEAN), list(STD)).train(
        mode == "train"
    )
    torch.manual_seed(3)  # training picks a min_size per image
    batch, our_targets = ours(images, targets)
    torch.manual_seed(3)
    ref, ref_targets = theirs(images, targets)
    assert torch.equal(batch.tensors, ref.tensors)
    assert batch.image_sizes == ref.image_sizes
    for a, b in zip(our_targets, ref_targets, strict=True):
        assert torch.equal(a["boxes"], b["boxes"]) and torch.equal(a["labels"], b["labels"])
    assert torch.equal(targets[0]["boxes"], torch.tensor([[1.0, 2.0, 30.5, 40.0]]))  # untouched
    ours.eval(), theirs.eval()  # torchvision's postprocess is the identity in training mode
    detections = [{"boxes": t["boxes"] * 1.5} for t in our_targets]
    original = [tuple(img.shape[-2:]) for img in images]
    back = ours.postprocess(detections, batch.image_sizes, original)
    ref_back = theirs.postprocess([dict(d) for d in detections], ref.image_sizes, original)
    for a, b in zip(back, ref_back, strict=True):
        assert torch.equal(a["boxes"], b["boxes"])


def test_padding_is_zero_and_divisible() -> None:
    images, _ = _images_and_targets()
    batch, _ = DetectionTransform(40, 1000, (0.0,) * 3, (1.0,) * 3, size_divisible=32).eval()(
        images
    )
    assert batch.tensors.shape[-2:] == (64, 64)  # 40 x 56 and 64 x 40, padded up to 32s
    assert batch.image_sizes == [(40, 56), (64, 40)]
    assert (
        batch.tensors[0, :, 40:].abs().sum() == 0 and batch.tensors[1, :, :, 40:].abs().sum() == 0
    )


@pytest.mark.parametrize(
    ("sizes", "ratios", "maps"),
    [
        (
            octave_sizes((32, 64, 128, 256, 512)),
            ((0.5, 1.0, 2.0),) * 5,
            [(16, 20), (8, 10), (4, 5), (2, 3), (1, 2)],
        ),
        (
            ((32,), (64,), (128,), (256,), (512,)),
            ((0.5, 1.0, 2.0),) * 5,
            [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)],
        ),
        (((13, 25),), ((0.7, 1.3),), [(7, 9)]),
    ],
    ids=["retinanet", "fpn-rpn", "odd-sizes"],
)
def test_anchor_generator_equals_torchvision(sizes, ratios, maps) -> None:
    batch = torch.zeros(2, 3, 128, 160)
    features = [torch.zeros(2, 4, h, w) for h, w in maps]
    image_list = ImageList(batch, [(128, 160), (100, 150)])
    ours = AnchorGenerator(sizes, ratios)(image_list, features)  # ImageBatch's fields, duck-typed
    theirs = TvAnchorGenerator(sizes, ratios)(image_list, features)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def test_the_notes_anchor_counts() -> None:
    # RetinaNet: 3 octave scales x 3 ratios = 9 anchors per position on each level, with
    # torchvision's sizes; Faster R-CNN + FPN: one size per level x 3 ratios = 3 per position.
    retina = AnchorGenerator(octave_sizes((32, 64, 128, 256, 512)), ((0.5, 1.0, 2.0),) * 5)
    assert retina.num_anchors_per_location() == [9] * 5
    assert retina.sizes == _default_anchorgen().sizes
    fpn_rpn = AnchorGenerator(((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5)
    assert fpn_rpn.num_anchors_per_location() == [3] * 5
    # the single-map RPN of the paper: 9 anchors -> 36 box outputs + 18 objectness outputs
    head = RPNHead(in_channels=8, num_anchors=9)
    objectness, deltas = head(torch.zeros(1, 8, 5, 6))
    assert (head.bbox_pred.out_channels, head.cls_logits.out_channels) == (36, 18)
    assert objectness.shape == (1, 5 * 6 * 9, 2) and deltas.shape == (1, 5 * 6 * 9, 4)
    features = OrderedDict(p3=torch.zeros(1, 4, 8, 8))
    (anchors,) = AnchorGenerator(((32, 40, 50),), ((0.5, 1.0, 2.0),))(
        ImageList(torch.zeros(1, 3, 64, 64), [(64, 64)]), list(features.values())
    )
    assert anchors.shape == (8 * 8 * 9, 4)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="one entry per pyramid level"):
        AnchorGenerator(((32,), (64,)), ((1.0,),))
    with pytest.raises(ValueError, match="sizes"):
        AnchorGenerator(((0,),), ((1.0,),))
    with pytest.raises(ValueError, match="max_size must be a positive integer"):
        DetectionTransform(10, 0, (0.0,), (1.0,))
    with pytest.raises(ValueError, match="one value per channel"):
        DetectionTransform(10, 10, (0.0, 0.0), (1.0,))
