"""Dataset specs for the three other tasks: ``scenes``, ``segfolder:PATH``, ``multilabel:PATH``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader

from cnnlab.data import load_dataset, scenes_dataset
from cnnlab.data.scenes import make_scenes
from cnnlab.data.transforms import AugmentConfig

SMALL = scenes_dataset.ScenesConfig(n_train=24, n_val=8, image_size=32, max_digits=3)


@pytest.fixture
def small_scenes(monkeypatch: pytest.MonkeyPatch) -> scenes_dataset.ScenesConfig:
    monkeypatch.setattr(scenes_dataset, "SCENES", SMALL)
    return SMALL


def _standardised(images: torch.Tensor, train: torch.Tensor) -> np.ndarray:
    x, t = images.numpy().astype(np.float64), train.numpy().astype(np.float64)
    return (x - t.mean()) / t.std()


def test_scenes_segmentation_targets_are_the_masks(small_scenes) -> None:
    bundle = load_dataset("scenes", task="segmentation")
    train = make_scenes(24, image_size=32, max_digits=3, split="train")
    val = make_scenes(8, image_size=32, max_digits=3, split="val")
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (11, 1, (32, 32))
    assert bundle.classes[0] == "background" and bundle.ignore_index == 255
    assert bundle.task == "segmentation" and bundle.collate_fn is None
    images, masks = next(iter(DataLoader(bundle.val, batch_size=8)))
    np.testing.assert_allclose(
        images.numpy(), _standardised(val.images, train.images), rtol=1e-5, atol=1e-5
    )
    assert torch.equal(masks, val.masks) and masks.dtype == torch.int64
    assert bundle.preprocess.mean == pytest.approx((float(train.images.double().mean()),))


def test_scenes_segmentation_augmentation_moves_masks(small_scenes) -> None:
    bundle = load_dataset("scenes", task="segmentation", augment=AugmentConfig("flip"))
    train = make_scenes(24, image_size=32, max_digits=3, split="train")
    pre = bundle.preprocess
    torch.manual_seed(0)
    for i in range(6):
        image, mask = bundle.train[i]
        raw = image[0] * pre.std[0] + pre.mean[0]
        same = torch.equal(mask, train.masks[i])
        assert same or torch.equal(mask, train.masks[i].flip(-1))
        expected = train.images[i, 0] if same else train.images[i, 0].flip(-1)
        torch.testing.assert_close(raw, expected, rtol=1e-5, atol=1e-5)


def test_scenes_with_elastic_deformation_keep_labels_on_strokes(small_scenes) -> None:
    bundle = load_dataset("scenes", task="segmentation", augment=AugmentConfig(elastic=10.0))
    train = make_scenes(24, image_size=32, max_digits=3, split="train")
    pre = bundle.preprocess
    torch.manual_seed(0)
    moved = 0
    for i in range(6):
        image, mask = bundle.train[i]
        assert mask.dtype == torch.int64 and set(mask.unique().tolist()) <= set(range(11))
        raw = image[0] * pre.std[0] + pre.mean[0]
        # bilinear image, nearest mask, one field: a labelled pixel's nearest source pixel is
        # stroke (>= 0.5), which weighs at least 1/4 in the bilinear sample
        assert (raw[mask > 0] > 0.12).all()
        moved += not torch.equal(mask, train.masks[i])
    assert moved == 6


def test_scenes_multilabel_targets_are_multihot(small_scenes) -> None:
    bundle = load_dataset("scenes", task="multilabel")
    val = make_scenes(8, image_size=32, max_digits=3, split="val")
    _, targets = next(iter(DataLoader(bundle.val, batch_size=8)))
    assert torch.equal(targets, val.multihot) and targets.dtype == torch.float32
    assert bundle.num_classes == 10 and bundle.classes == [str(d) for d in range(10)]


def test_scenes_detection_targets_and_collate(small_scenes) -> None:
    bundle = load_dataset("scenes", task="detection", augment=AugmentConfig("flip"))
    val = make_scenes(8, image_size=32, max_digits=3, split="val")
    loader = DataLoader(bundle.val, batch_size=4, collate_fn=bundle.collate_fn)
    images, targets = next(iter(loader))
    assert isinstance(images, list) and len(images) == 4 and images[0].shape == (1, 32, 32)
    for target, boxes, labels in zip(targets, val.boxes, val.labels, strict=False):
        assert set(target) == {"boxes", "labels"}
        assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
        assert torch.equal(target["boxes"], boxes) and torch.equal(target["labels"], labels)
    _, train_targets = next(
        iter(DataLoader(bundle.train, batch_size=4, collate_fn=bundle.collate_fn))
    )
    for target in train_targets:  # a flip keeps boxes inside the canvas and valid
        b = target["boxes"]
        assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
        assert (b >= 0).all() and (b <= 32).all()


@pytest.mark.parametrize(
    ("spec", "task", "match"),
    [
        ("scenes", "classification", "provides segmentation or multilabel or detection"),
        ("digits", "segmentation", "provides classification targets, not segmentation"),
        ("digits", "segmantation", "task must be one of .*did you mean segmentation"),
    ],
    ids=["scenes-classification", "digits-segmentation", "typo"],
)
def test_a_task_the_dataset_cannot_serve_is_refused(spec: str, task: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_dataset(spec, task=task)


def test_policy_presets_are_refused_for_scene_masks(small_scenes) -> None:
    with pytest.raises(ValueError, match="cannot move masks with the image"):
        load_dataset("scenes", task="segmentation", augment=AugmentConfig("autoaugment"))


# ---------------------------------------------------------------- segfolder:PATH


def _seg_pair(folder: Path, stem: str, rng: np.random.Generator, palette: bool, size=(6, 5)):
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    w, h = size
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
        folder / "images" / f"{stem}.jpg"
    )
    mask = rng.integers(0, 3, (h, w)).astype(np.uint8)
    mask[0, 0] = 255  # an ignored pixel
    image = Image.fromarray(mask, mode="L")
    if palette:
        image = image.convert("P")  # palette index = grey value for the first 256 entries
        image.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
    image.save(folder / "masks" / f"{stem}.png")
    return mask


def _segfolder(root: Path, n: int = 6, palette: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {f"s{i}": _seg_pair(root, f"s{i}", rng, palette) for i in range(n)}


@pytest.mark.parametrize("palette", [False, True], ids=["index-png", "palette-png"])
def test_segfolder_reads_index_and_palette_masks(tmp_path: Path, palette: bool) -> None:
    masks = _segfolder(tmp_path, palette=palette)
    bundle = load_dataset(f"segfolder:{tmp_path}", val_fraction=0.5, task="segmentation")
    stems = sorted(masks)
    train_idx, val_idx = train_test_split(np.arange(6), test_size=0.5, random_state=0)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (3, 3, (5, 6))
    assert bundle.task == "segmentation" and bundle.ignore_index == 255
    for k, i in enumerate(sorted(val_idx)):
        image, mask = bundle.val[k]
        assert image.shape == (3, 5, 6) and mask.dtype == torch.int64
        assert mask.numpy().tolist() == masks[stems[i]].tolist()  # 255 kept
    assert len(bundle.train) == len(train_idx) == 3


def test_segfolder_with_train_and_val_folders_and_resize(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for split, n in (("train", 3), ("val", 2)):
        for i in range(n):
            _seg_pair(tmp_path / split, f"{split}{i}", rng, palette=False, size=(12, 10))
    bundle = load_dataset(f"segfolder:{tmp_path}", image_size=4, task="segmentation")
    assert (len(bundle.train), len(bundle.val)) == (3, 2) and "train/ + val/" in bundle.name
    image, mask = bundle.val[0]
    assert image.shape == (3, 4, 4) and mask.shape == (4, 4)
    assert set(mask.unique().tolist()) <= {0, 1, 2, 255}  # nearest: labels stay labels


def _break(root: Path, damage: str) -> None:
    if damage == "no-masks-folder":
        for f in (root / "masks").iterdir():
            f.unlink()
        (root / "masks").rmdir()
    elif damage == "missing-mask":
        (root / "masks" / "s2.png").unlink()
    elif damage == "mask-without-image":
        (root / "images" / "s3.jpg").unlink()
    elif damage == "rgb-mask":
        Image.new("RGB", (6, 5)).save(root / "masks" / "s1.png")
    elif damage == "size-mismatch":
        Image.new("L", (7, 5)).save(root / "masks" / "s1.png")
    elif damage == "only-background":
        for f in (root / "masks").iterdir():
            Image.new("L", (6, 5)).save(f)
    elif damage == "jpeg-mask":
        (root / "masks" / "s1.png").rename(root / "masks" / "s1.jpg")


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("no-masks-folder", r"has no masks/ folder; expected images/NAME.\* and masks/NAME.png"),
        ("missing-mask", r"1 image\(s\) in .* have no mask of the same stem .*: s2"),
        ("mask-without-image", r"1 mask\(s\) in .* have no image of the same stem: s3"),
        ("rgb-mask", r"mask '.*s1.png' is a RGB image; a mask is an index PNG"),
        ("size-mismatch", r"mask '.*s1.png' is 7x5 but its image s1.jpg is 6x5"),
        ("only-background", "hold no class but 0"),
        ("jpeg-mask", r"masks must be PNG files .*s1.jpg"),
    ],
)
def test_bad_segfolders_are_one_clear_error(tmp_path: Path, damage: str, match: str) -> None:
    _segfolder(tmp_path)
    _break(tmp_path, damage)
    with pytest.raises(ValueError, match=match):
        load_dataset(f"segfolder:{tmp_path}", task="segmentation")


def test_a_segfolder_for_a_classifier_is_one_line_from_the_cli(tmp_path: Path, capsys) -> None:
    from cnnlab.cli.main import main

    _segfolder(tmp_path)
    code = main(["train", "--dataset", f"segfolder:{tmp_path}", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "provides segmentation targets, not classification" in err[0]


# ---------------------------------------------------------------- multilabel:PATH


def _multilabel(
    root: Path, rows: list[str], n_images: int = 6, header: str = "file,labels"
) -> None:
    rng = np.random.default_rng(0)
    (root / "img").mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(
            root / "img" / f"{i}.png"
        )
    (root / "labels.csv").write_text("\n".join([header, *rows]) + "\n" if header else "")


ROWS = [
    "img/0.png,cat dog",
    "img/1.png,dog",
    "img/2.png,",
    "img/3.png,cat",
    "img/4.png,owl cat",
    "img/5.png,dog owl",
]


def test_multilabel_reads_the_csv_as_multihot(tmp_path: Path) -> None:
    _multilabel(tmp_path, ROWS)
    bundle = load_dataset(
        f"multilabel:{tmp_path}", image_size=8, val_fraction=0.34, task="multilabel"
    )
    assert bundle.classes == ["cat", "dog", "owl"] and bundle.task == "multilabel"
    expected = {0: [1, 1, 0], 1: [0, 1, 0], 2: [0, 0, 0], 3: [1, 0, 0], 4: [1, 0, 1], 5: [0, 1, 1]}
    train_idx, val_idx = train_test_split(np.arange(6), test_size=0.34, random_state=0)
    for k, i in enumerate(sorted(val_idx)):
        image, target = bundle.val[k]
        assert image.shape == (3, 8, 8) and target.tolist() == expected[i]
    assert bundle.targets_train == [expected[i] for i in sorted(train_idx)]


def test_classes_file_fixes_the_order_and_refuses_unknown_labels(tmp_path: Path) -> None:
    _multilabel(tmp_path, ROWS)
    (tmp_path / "classes.txt").write_text("owl\ndog\ncat\nbird\n")
    with pytest.raises(
        ValueError, match=r"class\(es\) \['bird'\] of .* have no positive training image"
    ):
        load_dataset(f"multilabel:{tmp_path}", image_size=8, task="multilabel")
    (tmp_path / "classes.txt").write_text("owl\ndog\n")
    with pytest.raises(
        ValueError, match=r"'img/0.png' .* label 'cat', which .*classes.txt' does not list"
    ):
        load_dataset(f"multilabel:{tmp_path}", image_size=8, task="multilabel")


@pytest.mark.parametrize(
    ("rows", "header", "match"),
    [
        ([], "", "is empty; expected a header file,labels"),
        ([], "file,labels", "has a header but no image rows"),
        (ROWS, "image,tags", "must start with the header 'file,labels'"),
        (["img/0.png,cat,dog"], "file,labels", r"line 2: expected 'file,labels' \(2 fields"),
        (["img/0.png,cat", "img/0.png,dog"], "file,labels", r"line 3: 'img/0.png' is listed twice"),
        (
            ["img/9.png,cat", "img/1.png,dog"],
            "file,labels",
            r"lists 1 file\(s\) that do not exist: '.*9.png'",
        ),
    ],
    ids=["empty", "header-only", "header", "fields", "duplicate", "missing-file"],
)
def test_bad_label_tables_are_one_clear_error(tmp_path: Path, rows, header, match) -> None:
    _multilabel(tmp_path, rows, header=header)
    with pytest.raises(ValueError, match=match):
        load_dataset(f"multilabel:{tmp_path}", task="multilabel")


def test_missing_labels_csv(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no labels\.csv"):
        load_dataset(f"multilabel:{tmp_path}", task="multilabel")
