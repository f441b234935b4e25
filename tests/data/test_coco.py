"""``coco:PATH``: a COCO annotation file read with the standard library, against pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools.coco import COCO

from cnnlab.data import load_dataset
from cnnlab.data.coco import read_coco

CATEGORIES = [{"id": 7, "name": "seven"}, {"id": 3, "name": "three"}, {"id": 11, "name": "eleven"}]
ANNOTATIONS = [
    {"id": 1, "image_id": 10, "category_id": 7, "bbox": [2, 3, 10, 5.5], "iscrowd": 0},
    {"id": 2, "image_id": 10, "category_id": 3, "bbox": [0, 0, 4, 4], "iscrowd": 0},
    {"id": 3, "image_id": 20, "category_id": 11, "bbox": [5.5, 1, 6, 7], "iscrowd": 0},
    {"id": 4, "image_id": 20, "category_id": 3, "bbox": [1, 1, 3, 3], "iscrowd": 1},  # crowd
    {"id": 5, "image_id": 30, "category_id": 7, "bbox": [4, 4, 0, 3], "iscrowd": 0},  # no area
    {"id": 6, "image_id": 40, "category_id": 11, "bbox": [1, 2, 3, 4]},  # no iscrowd key
]
SIZES = {10: (16, 20), 20: (12, 18), 30: (16, 16), 40: (10, 14)}  # id -> (height, width)


def write_coco(root: Path, annotations: list[dict] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = []
    for image_id, (h, w) in SIZES.items():
        name = f"im{image_id}.png"
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
            root / "images" / name
        )
        images.append({"id": image_id, "file_name": name, "height": h, "width": w})
    data = {
        "images": images,
        "annotations": ANNOTATIONS if annotations is None else annotations,
        "categories": CATEGORIES,
    }
    (root / "annotations.json").write_text(json.dumps(data))
    return root


def test_boxes_and_labels_are_pycocotools_ones(tmp_path: Path) -> None:
    root = write_coco(tmp_path / "coco")
    records = read_coco(root)
    coco = COCO(str(root / "annotations.json"))
    cat_ids = sorted(coco.getCatIds())
    assert records.classes == ["background", *(coco.loadCats(c)[0]["name"] for c in cat_ids)]
    for k, image_id in enumerate(coco.getImgIds()):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        kept = [a for a in anns if not a.get("iscrowd") and a["bbox"][2] > 0 and a["bbox"][3] > 0]
        expected = torch.tensor(
            [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in kept)]
        ).reshape(-1, 4)
        torch.testing.assert_close(records.boxes[k], expected.float())
        assert records.labels[k].tolist() == [1 + cat_ids.index(a["category_id"]) for a in kept]
        assert records.files[k].name == coco.loadImgs(image_id)[0]["file_name"]


def test_load_dataset_splits_and_resizes(tmp_path: Path) -> None:
    root = write_coco(tmp_path / "coco")
    data = load_dataset(f"coco:{root}", task="detection", val_fraction=0.25)
    assert (len(data.train), len(data.val), data.num_classes, data.in_chans) == (3, 1, 4, 3)
    records = read_coco(root)
    seen = sorted(
        [(t["boxes"].tolist(), t["labels"].tolist()) for _, t in data.train]
        + [(t["boxes"].tolist(), t["labels"].tolist()) for _, t in data.val]
    )
    assert seen == sorted(
        (b.tolist(), lab.tolist()) for b, lab in zip(records.boxes, records.labels, strict=True)
    )
    image, _ = data.train[0]
    assert image.dtype == torch.float32 and image.min() >= 0 and image.max() <= 1
    resized = load_dataset(f"coco:{root}", 8, task="detection", val_fraction=0.25)
    for (small, t_small), (big, t_big) in zip(resized.train, data.train, strict=True):
        h, w = big.shape[-2:]
        assert small.shape == (3, 8, 8)
        scale = torch.tensor([8 / w, 8 / h, 8 / w, 8 / h])
        torch.testing.assert_close(t_small["boxes"], t_big["boxes"] * scale)


@pytest.mark.parametrize(
    "annotations,message",
    [
        ([{"id": 1, "image_id": 99, "category_id": 7, "bbox": [0, 0, 1, 1]}], "image_id 99"),
        ([{"id": 1, "image_id": 10, "category_id": 5, "bbox": [0, 0, 1, 1]}], "category_id 5"),
        ([{"id": 1, "image_id": 10, "category_id": 7, "bbox": [0, 0, 1]}], r"bbox \[0, 0, 1\]"),
        ([{"id": 1, "image_id": 10, "category_id": 7}], "has no 'bbox'"),
    ],
    ids=["unknown-image", "unknown-category", "short-bbox", "no-bbox"],
)
def test_bad_annotations_are_refused(tmp_path: Path, annotations: list, message: str) -> None:
    root = write_coco(tmp_path / "coco", annotations)
    with pytest.raises(ValueError, match=message):
        load_dataset(f"coco:{root}", task="detection")


def test_missing_file_and_wrong_task_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"annotations\.json"):
        load_dataset(f"coco:{tmp_path / 'empty'}", task="detection")
    root = write_coco(tmp_path / "coco")
    with pytest.raises(ValueError, match="detection"):
        load_dataset(f"coco:{root}")
