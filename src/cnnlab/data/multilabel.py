"""``multilabel:PATH``: the user's multi-label data, images listed in ``PATH/labels.csv``.

``labels.csv`` has a header with the columns ``file,labels``; ``file`` is an image path relative
to ``PATH`` and ``labels`` the image's labels separated by spaces (empty: none of the classes).
The classes are the labels found, sorted, or, when ``PATH/classes.txt`` exists (one name per
line), exactly those, in that order: a label it does not list is an error. The images are split
``val_fraction`` at random (seed 0); every class needs a positive training image. Each image is
decoded once when the dataset is built: a missing or undecodable file, an empty table, a
duplicated file or a row that is not ``file,labels`` is one ``ValueError`` naming it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from cnnlab.core.names import close_matches
from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.folders import DEFAULT_SIZE, IMAGENET_MEAN, IMAGENET_STD
from cnnlab.data.images import find_bad_images, load_rgb
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import build_transforms

COLUMNS = ["file", "labels"]


def read_labels_csv(root: Path) -> list[tuple[str, list[str]]]:
    """The rows ``(file, [label, ...])`` of ``root/labels.csv``, in file order.

    Raises:
        ValueError: no file, a header other than ``file,labels``, no rows, a row with another
            number of fields, an empty or repeated file name.
    """
    path = root / "labels.csv"
    if not path.is_file():
        raise ValueError(
            f"multi-label folder {str(root)!r} has no labels.csv (columns file,labels; labels "
            "separated by spaces)"
        )
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise ValueError(
            f"{str(path)!r} is empty; expected a header file,labels and one row per image"
        )
    header = [h.strip().lower() for h in rows[0]]
    if header != COLUMNS:
        raise ValueError(f"{str(path)!r} must start with the header 'file,labels', got {rows[0]}")
    if len(rows) == 1:
        raise ValueError(f"{str(path)!r} has a header but no image rows")
    out, seen = [], set()
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0].strip():
            raise ValueError(
                f"{str(path)!r} line {line}: expected 'file,labels' (2 fields, a file name), "
                f"got {row}"
            )
        name = row[0].strip()
        if name in seen:
            raise ValueError(f"{str(path)!r} line {line}: {name!r} is listed twice")
        seen.add(name)
        out.append((name, row[1].split()))
    return out


def _classes(root: Path, rows: list[tuple[str, list[str]]]) -> list[str]:
    found = sorted({label for _, labels in rows for label in labels})
    names_file = root / "classes.txt"
    if not names_file.is_file():
        if len(found) < 1:
            raise ValueError(f"{str(root / 'labels.csv')!r} lists no label at all")
        return found
    classes = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
    known = set(classes)
    for name, labels in rows:
        unknown = [label for label in labels if label not in known]
        if unknown:
            hits = close_matches(unknown[0], classes)
            hint = f"; did you mean {', '.join(hits)}?" if hits else ""
            raise ValueError(
                f"{name!r} in labels.csv has the label {unknown[0]!r}, which "
                f"{str(names_file)!r} does not list{hint} (known: {', '.join(classes[:20])})"
            )
    return classes


class MultiLabelFiles(Dataset):
    """Image files (read as RGB on access) with a multi-hot float vector each."""

    def __init__(self, paths: list[str], targets: torch.Tensor, transform) -> None:
        self.paths = paths
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform(load_rgb(self.paths[index])), self.targets[index]


def load_multilabel(root: Path, options: LoadOptions) -> DatasetBundle:
    """The ``multilabel:PATH`` loader (see the module docstring)."""
    rows = read_labels_csv(root)
    classes = _classes(root, rows)
    index = {c: i for i, c in enumerate(classes)}
    paths = [str(root / name) for name, _ in rows]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(
            f"labels.csv lists {len(missing)} file(s) that do not exist: {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    bad = find_bad_images(paths)
    if bad:
        raise ValueError(f"cannot read image file {bad[0].describe()} listed in labels.csv")
    targets = torch.zeros(len(rows), len(classes))
    for i, (_, labels) in enumerate(rows):
        targets[i, [index[label] for label in labels]] = 1
    if len(rows) < 2:
        raise ValueError(f"{str(root)!r} lists {len(rows)} image; a split needs at least 2")
    from sklearn.model_selection import train_test_split

    train_idx, val_idx = train_test_split(
        np.arange(len(rows)), test_size=options.val_fraction, random_state=0
    )
    train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
    untrained = [
        c for c, n in zip(classes, targets[train_idx].sum(0).tolist(), strict=True) if n == 0
    ]
    if untrained:
        raise ValueError(
            f"class(es) {untrained} of {str(root)!r} have no positive training image after the "
            f"{1 - options.val_fraction:.0%}/{options.val_fraction:.0%} split; add images"
        )
    size = options.image_size or DEFAULT_SIZE
    preprocess = Preprocess((size, size), IMAGENET_MEAN, IMAGENET_STD)
    pair = build_transforms(options.augment, preprocess)
    return DatasetBundle(
        name=f"multilabel:{root}",
        train=MultiLabelFiles([paths[i] for i in train_idx], targets[train_idx], pair.train),
        val=MultiLabelFiles([paths[i] for i in val_idx], targets[val_idx], pair.val),
        num_classes=len(classes),
        in_chans=3,
        image_size=(size, size),
        classes=classes,
        targets_train=targets[train_idx].tolist(),
        task="multilabel",
        preprocess=preprocess,
    )
