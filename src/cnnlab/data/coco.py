"""``--dataset coco:PATH``: boxes in COCO's format, read with the standard library.

``PATH/annotations.json`` is a COCO object-detection file (``images``, ``annotations``,
``categories``) and ``PATH/images/`` holds the files its ``images[i]["file_name"]`` name.
Nothing is downloaded and pycocotools is not needed (the tests use it as the reference).

* Categories, sorted by ``id``, become labels 1 ... K (0 is the background): ``classes`` is
  ``["background", name_1, ..., name_K]``.
* A ``bbox`` ``[x, y, w, h]`` becomes ``x1, y1, x2, y2 = x, y, x + w, y + h`` (pixels).
  Crowd annotations (``iscrowd: 1``) and boxes without area (``w <= 0`` or ``h <= 0``) are left
  out, as torchvision's detection references do. An image without annotations is kept (no
  objects).
* Images are read as RGB floats in [0, 1]; the detector standardises them (ImageNet's
  statistics for three channels). With ``--image-size S`` each is resized to ``S x S`` and its
  boxes scaled with it; otherwise images keep their sizes (the detector's transform resizes).
* The validation set is ``--val-fraction`` of the images (at least one), drawn once by a fixed
  seed, in file order within each part.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.samples import DetectionSamples, detection_collate
from cnnlab.data.transforms.presets import AugmentConfig

__all__ = ["CocoRecords", "load_coco", "read_coco"]

SPLIT_SEED = 0


def _as_is(*sample: object) -> tuple[object, ...]:
    return sample


class CocoRecords:
    """The parsed annotation file: per image its file, boxes and labels, and the class names.

    Attributes:
        files: image paths, in the file's ``images`` order.
        boxes: per image, float32 (k, 4) ``x1, y1, x2, y2``.
        labels: per image, int64 (k,) in 1 ... K.
        classes: ``["background", *category names sorted by id]``.
        category_ids: the COCO ``id`` of label ``k`` at index ``k - 1``.
    """

    def __init__(
        self,
        files: list[Path],
        boxes: list[torch.Tensor],
        labels: list[torch.Tensor],
        classes: list[str],
        category_ids: list[int],
    ) -> None:
        self.files, self.boxes, self.labels = files, boxes, labels
        self.classes, self.category_ids = classes, category_ids


def _field(entry: Any, key: str, where: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise ValueError(f"{where} has no {key!r}; a COCO entry needs it")
    return entry[key]


def read_coco(root: Path) -> CocoRecords:
    """Parse ``root/annotations.json`` (see the module docstring).

    Raises:
        ValueError: a missing or unreadable file, a missing key, a ``bbox`` that is not four
            finite numbers, an annotation of an unknown image or category, an image file that
            does not exist.
    """
    path = root / "annotations.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{str(path)!r} does not exist; coco:PATH needs PATH/annotations.json"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read {str(path)!r}: {err}") from None
    where = str(path)
    images = _field(data, "images", where)
    annotations = _field(data, "annotations", where)
    categories = _field(data, "categories", where)
    if not all(isinstance(x, list) for x in (images, annotations, categories)):
        raise ValueError(f"{where}: images, annotations and categories must be lists")
    if not categories:
        raise ValueError(f"{where} has no categories; a detector needs at least one class")
    cats = sorted(
        (_field(c, "id", f"{where} categories[{i}]"), str(_field(c, "name", f"{where} cat {i}")))
        for i, c in enumerate(categories)
    )
    label_of = {cid: k + 1 for k, (cid, _) in enumerate(cats)}
    index_of: dict[Any, int] = {}
    files = []
    for i, image in enumerate(images):
        image_id = _field(image, "id", f"{where} images[{i}]")
        name = str(_field(image, "file_name", f"{where} images[{i}]"))
        file = root / "images" / name
        if not file.is_file():
            raise ValueError(f"image {str(file)!r} of {where} images[{i}] does not exist")
        index_of[image_id] = i
        files.append(file)
    boxes: list[list[list[float]]] = [[] for _ in images]
    labels: list[list[int]] = [[] for _ in images]
    for i, ann in enumerate(annotations):
        at = f"{where} annotations[{i}]"
        image_id, category = _field(ann, "image_id", at), _field(ann, "category_id", at)
        bbox = _field(ann, "bbox", at)
        if image_id not in index_of:
            raise ValueError(f"{at} has image_id {image_id!r}, which no image has")
        if category not in label_of:
            raise ValueError(
                f"{at} has category_id {category!r}; categories are {sorted(label_of)}"
            )
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in bbox
            )
        ):
            raise ValueError(f"{at} has bbox {bbox!r}; allowed: [x, y, width, height] numbers")
        x, y, w, h = (float(v) for v in bbox)
        if ann.get("iscrowd", 0) or w <= 0 or h <= 0:
            continue
        boxes[index_of[image_id]].append([x, y, x + w, y + h])
        labels[index_of[image_id]].append(label_of[category])
    return CocoRecords(
        files,
        [torch.tensor(b, dtype=torch.float32).reshape(-1, 4) for b in boxes],
        [torch.tensor(lab, dtype=torch.int64) for lab in labels],
        ["background", *(name for _, name in cats)],
        [cid for cid, _ in cats],
    )


def _read_image(file: Path) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    with Image.open(file) as im:
        array = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


def _resized(image: torch.Tensor, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, Any]:
    h, w = image.shape[-2:]
    out = F.interpolate(
        image[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )[0].clamp_(0, 1)
    scale = torch.tensor([size / w, size / h, size / w, size / h])
    return out, boxes * scale


def load_coco(root: Path | None, options: LoadOptions) -> DatasetBundle:
    """The ``coco:PATH`` loader (detection targets only; see the module docstring)."""
    if root is None:
        raise ValueError("coco needs a folder: coco:PATH")
    if options.augment != AugmentConfig():
        raise ValueError(
            f"coco: training augmentation is not available for detection yet, got "
            f"{options.augment}; allowed: none"
        )
    records = read_coco(root)
    images, boxes, labels, skipped = [], [], [], []
    for file, b, lab in zip(records.files, records.boxes, records.labels, strict=True):
        try:
            image = _read_image(file)
        except (OSError, ValueError) as err:
            if not options.skip_bad_images:
                raise ValueError(
                    f"cannot read image {str(file)!r}: {err}; use --skip-bad-images to leave "
                    f"such files out"
                ) from None
            skipped.append(str(file))
            continue
        if options.image_size is not None:
            image, b = _resized(image, b, options.image_size)
        images.append(image)
        boxes.append(b)
        labels.append(lab)
    if len(images) < 2:
        raise ValueError(
            f"{root} has {len(images)} readable image(s); a train/validation split needs >= 2"
        )
    n_val = min(len(images) - 1, max(1, round(options.val_fraction * len(images))))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val_idx = sorted(order[:n_val].tolist())
    train_idx = sorted(order[n_val:].tolist())

    def part(idx: list[int]) -> DetectionSamples:
        return DetectionSamples(
            [images[i] for i in idx], [boxes[i] for i in idx], [labels[i] for i in idx], _as_is
        )

    size = tuple(images[train_idx[0]].shape[-2:])
    return DatasetBundle(
        name=f"coco {root}",
        train=part(train_idx),
        val=part(val_idx),
        num_classes=len(records.classes),
        in_chans=3,
        image_size=(int(size[0]), int(size[1])),
        classes=records.classes,
        targets_train=[labels[i].tolist() for i in train_idx],
        skipped_files=skipped,
        task="detection",
        collate_fn=detection_collate,
    )
