"""``segfolder:PATH``: the user's segmentation data, images and class masks in two folders.

Layouts, checked in this order:

* ``PATH/train/{images,masks}`` with a held-out ``PATH/val/{images,masks}`` (or ``valid``,
  ``validation``, ``test``; the first present);
* ``PATH/{images,masks}``: split ``val_fraction`` at random (seed 0).

An image ``images/NAME.*`` (any format PIL reads) pairs with the mask ``masks/NAME.png`` of the
same stem. A mask is an index PNG (mode ``L``: the pixel value is the class) or a palette PNG
(mode ``P``, as PASCAL VOC: the palette index is the class); 255 marks pixels without a label
(ignored by the loss and the scores). The classes are 0 .. the largest value found; a file
``PATH/classes.txt`` (one name per line) names them. Every mask and every image is read when the
dataset is built, so a missing mask, an unpaired file, an RGB mask, a mask whose size differs from
its image or an undecodable file is one ``ValueError`` naming it, before any training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import tv_tensors

from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.folders import HELD_OUT_SPLITS, IMAGENET_MEAN, IMAGENET_STD
from cnnlab.data.images import find_bad_images, load_rgb
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import IGNORE_INDEX, build_transforms

MASK_MODES = ("L", "P")


@dataclass(frozen=True)
class Pair:
    """One image file and its mask file."""

    image: Path
    mask: Path


def _files(folder: Path) -> dict[str, Path]:
    """stem -> file of the visible files in ``folder``; two files with one stem is an error."""
    out: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.stem in out:
            raise ValueError(
                f"{str(folder)!r} holds two files with the stem {path.stem!r} "
                f"({out[path.stem].name}, {path.name}); each image needs one mask of its stem"
            )
        out[path.stem] = path
    return out


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" (and {len(names) - 5} more)" if len(names) > 5 else "")


def find_pairs(folder: Path) -> list[Pair]:
    """The (image, mask) pairs of ``folder/images`` and ``folder/masks``, by stem, sorted.

    Raises:
        ValueError: a missing sub-folder, no image, an image without a mask, a mask without an
            image, or a mask that is not a PNG.
    """
    images_dir, masks_dir = folder / "images", folder / "masks"
    for sub in (images_dir, masks_dir):
        if not sub.is_dir():
            raise ValueError(
                f"segmentation folder {str(folder)!r} has no {sub.name}/ folder; expected "
                "images/NAME.* and masks/NAME.png (same stems)"
            )
    images, masks = _files(images_dir), _files(masks_dir)
    if not images:
        raise ValueError(f"{str(images_dir)!r} holds no image")
    no_mask = sorted(set(images) - set(masks))
    if no_mask:
        raise ValueError(
            f"{len(no_mask)} image(s) in {str(images_dir)!r} have no mask of the same stem in "
            f"{str(masks_dir)!r}: {_shown(no_mask)}"
        )
    no_image = sorted(set(masks) - set(images))
    if no_image:
        raise ValueError(
            f"{len(no_image)} mask(s) in {str(masks_dir)!r} have no image of the same stem: "
            f"{_shown(no_image)}"
        )
    not_png = sorted(p.name for p in masks.values() if p.suffix.lower() != ".png")
    if not_png:
        raise ValueError(
            f"masks must be PNG files (lossless index or palette images), got {_shown(not_png)} "
            f"in {str(masks_dir)!r}"
        )
    return [Pair(images[stem], masks[stem]) for stem in sorted(images)]


def read_mask(path: Path) -> np.ndarray:
    """The class indices of an index (``L``) or palette (``P``) PNG, as uint8 (H, W).

    Raises:
        ValueError: the file does not decode or is not a 1-channel index/palette image.
    """
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode not in MASK_MODES:
                raise ValueError(
                    f"mask {str(path)!r} is a {mode} image; a mask is an index PNG (mode L: "
                    "pixel = class) or a palette PNG (mode P: palette index = class), 255 = ignore"
                )
            return np.array(image, dtype=np.uint8)
    except ValueError:
        raise
    except Exception as err:  # PIL raises many types for broken files
        raise ValueError(f"cannot read mask {str(path)!r}: {type(err).__name__}: {err}") from None


def _read_masks(pairs: list[Pair]) -> tuple[list[np.ndarray], int]:
    """Every mask, checked against its image's size; and the largest class found."""
    masks, largest = [], -1
    for pair in pairs:
        mask = read_mask(pair.mask)
        with Image.open(pair.image) as image:
            width, height = image.size
        if mask.shape != (height, width):
            raise ValueError(
                f"mask {str(pair.mask)!r} is {mask.shape[1]}x{mask.shape[0]} but its image "
                f"{pair.image.name} is {width}x{height}"
            )
        labelled = mask[mask != IGNORE_INDEX]
        if labelled.size:
            largest = max(largest, int(labelled.max()))
        masks.append(mask)
    return masks, largest


class SegmentationFiles(Dataset):
    """Image files (read as RGB on access) with their masks (read once), transformed jointly."""

    def __init__(self, pairs: list[Pair], masks: list[np.ndarray], transform) -> None:
        self.pairs = pairs
        self.masks = masks
        self.transform = transform

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = load_rgb(str(self.pairs[index].image))
        mask = tv_tensors.Mask(torch.from_numpy(self.masks[index]).to(torch.int64))
        image, mask = self.transform(image, mask)
        return image, mask.to(torch.int64)


def _layout(root: Path) -> tuple[Path, Path | None, str]:
    lower = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    if "train" in lower:
        held_out = next((lower[s] for s in HELD_OUT_SPLITS if s in lower), None)
        if held_out is None:
            return lower["train"], None, "train/ only"
        return lower["train"], held_out, f"train/ + {held_out.name}/"
    return root, None, "one folder"


def _image_size(pairs: list[Pair], requested: int | None) -> tuple[int, int]:
    if requested is not None:
        return requested, requested
    sizes = set()
    for pair in pairs:
        with Image.open(pair.image) as image:
            sizes.add(image.size)
    if len(sizes) > 1:
        shown = sorted(sizes)[:3]
        raise ValueError(
            f"the images have {len(sizes)} different sizes ({shown}, ...); give image_size "
            "(--image-size) to resize them all"
        )
    width, height = sizes.pop()
    return height, width


def load_segfolder(root: Path, options: LoadOptions) -> DatasetBundle:
    """The ``segfolder:PATH`` loader (see the module docstring)."""
    train_dir, val_dir, description = _layout(root)
    pairs = find_pairs(train_dir)
    val_pairs = find_pairs(val_dir) if val_dir is not None else None
    everything = pairs + (val_pairs or [])
    bad = find_bad_images([str(p.image) for p in everything])
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise ValueError(f"cannot read image file {bad[0].describe()}{more} in {str(root)!r}")
    masks, largest = _read_masks(everything)
    if largest < 1:
        raise ValueError(
            f"the masks in {str(root)!r} hold no class but 0; a segmentation needs at least 2 "
            "classes (0 = background, 1.., 255 = ignore)"
        )
    num_classes = largest + 1
    classes = [str(i) for i in range(num_classes)]
    names_file = root / "classes.txt"
    if names_file.is_file():
        names = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
        if len(names) < num_classes:
            raise ValueError(
                f"{str(names_file)!r} names {len(names)} classes but the masks use classes "
                f"0 to {largest}"
            )
        classes = names
        num_classes = len(names)
    if val_pairs is None:
        from sklearn.model_selection import train_test_split

        if len(pairs) < 2:
            raise ValueError(f"{str(root)!r} has {len(pairs)} image; a split needs at least 2")
        train_idx, val_idx = train_test_split(
            np.arange(len(pairs)), test_size=options.val_fraction, random_state=0
        )
        train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
        share = options.val_fraction
        description += f", split {1 - share:.0%}/{share:.0%} at random"
        train_pairs = [pairs[i] for i in train_idx]
        train_masks = [masks[i] for i in train_idx]
        val_pairs = [pairs[i] for i in val_idx]
        val_masks = [masks[i] for i in val_idx]
    else:
        train_pairs, train_masks = pairs, masks[: len(pairs)]
        val_masks = masks[len(pairs) :]
    size = _image_size(everything, options.image_size)
    preprocess = Preprocess(size, IMAGENET_MEAN, IMAGENET_STD)
    pair = build_transforms(options.augment, preprocess, target="mask")
    return DatasetBundle(
        name=f"segfolder:{root} ({description})",
        train=SegmentationFiles(train_pairs, train_masks, pair.train),
        val=SegmentationFiles(val_pairs, val_masks, pair.val),
        num_classes=num_classes,
        in_chans=3,
        image_size=size,
        classes=classes,
        task="segmentation",
        preprocess=preprocess,
        ignore_index=IGNORE_INDEX,
    )
